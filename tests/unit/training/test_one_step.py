"""One step in numbers: a conv weight's gradient as Σ over samples and output positions of input × upstream gradient
equals autograd's (stride, padding, dilation, groups, reflect/replicate/circular/'same' padding); each term equals an
independent reference (a one-hot conv for the input, a retained output gradient for the upstream); bad input is a
ConfigError naming the field; the model is left exactly as it was."""
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.errors import ConfigError
from cnnviz.training import conv_layer_names, weight_gradient_terms
from cnnviz.training.one_step import num


def small_model(seed: int = 0, dtype=torch.float32) -> nn.Module:
    torch.manual_seed(seed)
    features = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1),                                        # stride 2, zero padding
        nn.ReLU(inplace=True),                                                          # in place, right after it
        nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, padding_mode="reflect"),    # dilation, groups, reflect
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Conv2d(6, 6, (3, 2), padding="same", groups=3, padding_mode="circular"),     # even kernel: odd 'same'
        nn.ReLU(),
        nn.Conv2d(6, 4, 2, stride=(1, 2), padding=(1, 0), padding_mode="replicate"))
    model = nn.Sequential(OrderedDict(features=features, pool=nn.AdaptiveAvgPool2d(2), flat=nn.Flatten(),
                                      head=nn.Linear(16, 5)))
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        model.features[3].running_mean.uniform_(-0.5, 0.5)
        model.features[3].running_var.uniform_(0.5, 2.0)
    return model.to(dtype).eval()


def batch(seed: int = 1, n: int = 3, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 11, 10, generator=g, dtype=dtype), torch.randint(0, 5, (n,), generator=g)


def test_fifty_random_entries_equal_autograd_and_each_term_its_reference():
    model = small_model(dtype=torch.float64)
    x, y = batch(dtype=torch.float64)
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    auto = {n: m.weight.grad.clone() for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    every = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    r = weight_gradient_terms(model, x, y, "features.2", (0, 0, 0, 0), all_grads=True)  # every parameter's too
    assert len(r.param_grads) == len(every)
    assert all(torch.allclose(a, b, rtol=1e-12, atol=1e-15) for a, b in zip(r.param_grads, every))
    layers = conv_layer_names(model)
    assert layers == ["features.0", "features.2", "features.5", "features.7"]
    g = torch.Generator().manual_seed(2)
    for _ in range(50):
        layer = layers[int(torch.randint(len(layers), (1,), generator=g))]
        conv = dict(model.named_modules())[layer]
        index = tuple(int(torch.randint(s, (1,), generator=g)) for s in conv.weight.shape)
        r = weight_gradient_terms(model, x, y, layer, index)
        assert r.terms.shape == (len(x), *upstream_shape(model, x, layer))
        assert torch.equal(r.grad, r.terms.sum())
        assert abs(float(r.grad) - float(auto[layer][index])) <= 1e-12 * max(1.0, float(r.terms.abs().sum()))
        assert float(r.autograd) == pytest.approx(float(auto[layer][index]), rel=1e-12, abs=1e-15)
        assert r.matches


def upstream_shape(model, x, layer):
    seen = []
    h = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: seen.append(o.shape[-2:]))
    with torch.no_grad():
        model(x)
    h.remove()
    return tuple(seen[0])


@pytest.mark.parametrize("layer", ["features.0", "features.2", "features.5", "features.7"])
def test_each_term_is_the_padded_input_times_the_upstream_gradient(layer):
    """Input values from a one-hot kernel on the padded input (groups=1: the absolute input channel), upstream from
    the conv output's own gradient; float32."""
    model = small_model()
    x, y = batch()
    conv = dict(model.named_modules())[layer]
    o = conv.out_channels - 1
    index = (o, conv.in_channels // conv.groups - 1, conv.kernel_size[0] - 1, 0)
    r = weight_gradient_terms(model, x, y, layer, index)
    cin = (o // (conv.out_channels // conv.groups)) * (conv.in_channels // conv.groups) + index[1]
    assert r.in_channel_abs == cin
    feats = {}
    h = conv.register_forward_hook(lambda m, i, out: feats.update(x=i[0].detach(), out=out.clone()))
    with torch.no_grad():
        model(x)
    h.remove()
    mode = {"zeros": "constant"}.get(conv.padding_mode, conv.padding_mode)
    xp = F.pad(feats["x"], conv._reversed_padding_repeated_twice, mode=mode)
    one_hot = torch.zeros(1, conv.in_channels, *conv.kernel_size)
    one_hot[0, cin, index[2], index[3]] = 1
    patch = F.conv2d(xp, one_hot, stride=conv.stride, dilation=conv.dilation)[:, 0]  # (N, H_out, W_out)
    torch.testing.assert_close(r.patch, patch)
    z = feats["out"].requires_grad_(True)   # the rest of the network from this conv's output on
    rest = dict(model.named_modules())
    after = list(model.features)[int(layer.split(".")[1]) + 1:]
    t = z
    for m in after:
        t = m(t.clone() if isinstance(m, nn.ReLU) else t)
    loss = F.cross_entropy(rest["head"](rest["flat"](rest["pool"](t))), y)
    (gz,) = torch.autograd.grad(loss, z)
    torch.testing.assert_close(r.upstream, gz[:, o])
    torch.testing.assert_close(r.terms, patch * gz[:, o])
    torch.testing.assert_close(r.per_sample, (patch * gz[:, o]).sum(dim=(1, 2)))
    assert r.loss == pytest.approx(float(loss.detach()), rel=1e-6)
    formula, numbers = r.latex()                                    # the sum as shown: one Σ per sample, the total
    assert f"w_{{{o},{index[1]},{index[2]},{index[3]}}}" in formula and f"sum_{{n=1}}^{{{len(x)}}}" in formula
    assert numbers.count(") + (") + numbers.count(r"\quad + (") == len(x) - 1
    assert f"&= {num(float(r.grad))}" in numbers and f"{{{num(float(r.autograd))}}}" in numbers


def test_the_model_is_left_as_it_was():
    model = small_model()
    model.features[2].weight.requires_grad_(False)        # a frozen layer stays frozen
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = batch()
    for training in (False, True):                        # a BatchNorm in training mode keeps its statistics
        model.train(training)
        for layer in ("features.0", "features.2"):
            r = weight_gradient_terms(model, x, y, layer, (1, 0, 1, 1), all_grads=True)
            assert r.matches and r.param_grads[2] is None and r.param_grads[3] is not None  # frozen: none
        assert all(m.training == training for m in model.modules())
        assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
        assert all(p.grad is None for p in model.parameters())
        assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
        assert [p.requires_grad for p in model.features[2].parameters()] == [False, True]
    with torch.no_grad():                                 # a caller's no_grad does not stop it
        assert weight_gradient_terms(model.eval(), x, y, "features.5", (0, 0, 0, 0)).matches


def fields(call):
    with pytest.raises(ConfigError) as err:
        call()
    return err.value.field


@pytest.mark.parametrize("change, field", [
    (dict(layer="features.99"), "layer"),                 # unknown module name
    (dict(layer="features.1"), "layer"),                  # a ReLU
    (dict(layer="head"), "layer"),                        # a Linear
    (dict(layer=3), "layer"),
    (dict(index=(0, 0, 1)), "index"),                     # wrong length
    (dict(index=(0, 0, 1, 1, 0)), "index"),
    (dict(index=(4, 0, 0, 0)), "index"),                  # out channel out of range (4 outputs)
    (dict(index=(0, 3, 0, 0)), "index"),                  # in channel out of range (3 inputs)
    (dict(index=(0, 0, 3, 0)), "index"),                  # ky out of range (3×3)
    (dict(index=(0, 0, 0, -1)), "index"),
    (dict(index=(0, 0, 0.5, 0)), "index[2]"),
    (dict(index=(0, 10 ** 5000, 0, 0)), "index[1]"),             # past int-to-str: still a ConfigError
    (dict(index="0001"), "index"),
    (dict(y=torch.tensor([0.0, 1.0, 2.0])), "y"),         # float labels
    (dict(y=torch.tensor([True, False, True])), "y"),
    (dict(y=torch.tensor([0, 1])), "y"),                  # batch mismatch
    (dict(y=torch.tensor([[0, 1, 2]])), "y"),
    (dict(y=torch.tensor([0, 1, 5])), "y"),               # no class 5 (5 outputs)
    (dict(y=torch.tensor([0, -1, 2])), "y"),
    (dict(x=torch.full((3, 3, 11, 10), float("nan"))), "x"),
    (dict(x=torch.full((3, 3, 11, 10), float("inf"))), "x"),
    (dict(x=torch.zeros(3, 11, 10)), "x"),                # not a batch
    (dict(x=torch.zeros(3, 2, 11, 10)), "x"),             # wrong channels for the model
    (dict(x=torch.zeros(3, 3, 11, 10, dtype=torch.long)), "x"),
    (dict(model="TinyVGG"), "model"),
])
def test_every_bad_input_is_a_config_error_naming_the_field(change, field):
    x, y = batch()
    args = dict(model=small_model(), x=x, y=y, layer="features.0", index=(0, 0, 1, 1)) | change
    assert fields(lambda: weight_gradient_terms(**args)) == field


class Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.spare, self.head = nn.Conv2d(1, 1, 3), nn.Linear(16, 2)

    def forward(self, x):
        return self.head(x.flatten(1))


def test_a_layer_that_runs_twice_or_never_is_refused():
    conv = nn.Conv2d(1, 1, 3, padding=1)
    twice = nn.Sequential(OrderedDict(c=conv, r=nn.ReLU(), c2=conv, f=nn.Flatten(), h=nn.Linear(16, 2))).eval()
    x = torch.randn(2, 1, 4, 4)
    assert fields(lambda: weight_gradient_terms(twice, x, torch.tensor([0, 1]), "c", (0, 0, 0, 0))) == "layer"
    unused = Unused().eval()
    assert fields(lambda: weight_gradient_terms(unused, x, torch.tensor([0, 1]), "spare", (0, 0, 0, 0))) == "layer"


class Detached(nn.Module):
    """A conv whose output the loss never sees (its branch is detached): ∂L/∂w = 0, every term 0."""
    def __init__(self):
        super().__init__()
        self.side, self.head = nn.Conv2d(1, 2, 3), nn.Linear(16, 2)

    def forward(self, x):
        return self.head(x.flatten(1)) + 0 * self.side(x).detach().sum()


def test_a_layer_the_loss_does_not_depend_on_has_zero_terms():
    x = torch.randn(2, 1, 4, 4)
    r = weight_gradient_terms(Detached().eval(), x, torch.tensor([0, 1]), "side", (1, 0, 2, 2))
    assert r.terms.shape == (2, 2, 2) and not r.terms.any() and float(r.grad) == float(r.autograd) == 0.0
