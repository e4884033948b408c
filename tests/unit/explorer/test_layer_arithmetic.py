"""Every layer's arithmetic in the Network Explorer equals PyTorch: for every shipped model, 50 random neurons per
layer type (conv, batch norm, residual addition, ReLU, max and average pooling, linear) recomputed from their
terms match what a plain forward hook saw (1e-5); conv subtotals per input channel add up to the pre-bias sum;
the most active position of a map is its argmax; hand-computed numbers on tiny layers; errors name the field."""
import math
import random

import pytest
import torch
import torch.nn as nn

from cnnviz import ConfigError
from cnnviz.explorer import layer_arithmetic, neuron_detail, overview, pooling_detail, record
from cnnviz.inside.shipped import list_models, load_model, validation_set

TYPES = {nn.Conv2d: "conv", nn.BatchNorm2d: "batchnorm", nn.ReLU: "relu", nn.MaxPool2d: "maxpool",
         nn.AdaptiveAvgPool2d: "avgpool", nn.AvgPool2d: "avgpool", nn.Linear: "linear"}


def hooked(model, x):
    """Every module's output (and, for an addition, the input of the module that reads it) as plain hooks see
    them, keyed by module path."""
    seen, handles = {}, []
    for name, m in model.named_modules():
        if name and not list(m.children()):
            handles.append(m.register_forward_hook(lambda m, a, out, n=name: seen.__setitem__(n, out.detach())))
            handles.append(m.register_forward_pre_hook(lambda m, a, n=name: seen.__setitem__(n + "<", a[0].detach())))
    with torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    return seen


def arithmetic_value(model, x, rec, name, kind, ch, i, j):
    """The value the Explorer's arithmetic recomputes from its terms."""
    if kind == "conv":
        return neuron_detail(model, x, name, ch, (i, j), rec=rec, box=(0, 0, 0, 0)).pre_activation
    if kind == "maxpool":
        d = pooling_detail(model, x, name, ch, (i, j), rec=rec)
        return float(d.window[d.rows.index(d.winner[0]), d.cols.index(d.winner[1])])
    return layer_arithmetic(model, x, name, ch, (i, j), rec=rec).result


@pytest.mark.parametrize("key", list(list_models()))
def test_every_layer_type_of_every_shipped_model_matches_the_forward_hook(key):
    model, info = load_model(key)
    x = validation_set(info.dataset)[0][3:4]
    rec = record(model, x)
    seen = hooked(model, x)
    layers = {}  # layer type -> [(recording name, reference output)]
    for k, node in enumerate(rec.nodes):
        if node.module is None:  # an addition: the tensor the next module reads
            reader = next(n.name for n in rec.nodes[k + 1:] if n.inputs == [k])
            layers.setdefault("add", []).append((node.name, seen[reader + "<"]))
        elif type(node.module) in TYPES:
            layers.setdefault(TYPES[type(node.module)], []).append((node.name, seen[node.name]))
    expected = {"conv", "relu", "maxpool", "linear"} if "TinyVGG" in key else {
        "conv", "batchnorm", "relu", "add", "avgpool", "linear"}
    assert set(layers) == expected
    rng = random.Random(key)
    for kind, named in layers.items():
        for _ in range(50):
            name, out = rng.choice(named)
            ch = rng.randrange(out.shape[1])
            i, j = (rng.randrange(out.shape[2]), rng.randrange(out.shape[3])) if out.dim() == 4 else (0, 0)
            ref = float(out[0, ch, i, j]) if out.dim() == 4 else float(out[0, ch])
            got = arithmetic_value(model, x, rec, name, kind, ch, i, j)
            assert got == pytest.approx(ref, rel=1e-5, abs=1e-5), (key, kind, name, ch, i, j)
            if kind not in ("conv", "maxpool"):
                a = layer_arithmetic(model, x, name, ch, (i, j), rec=rec)
                assert a.kind == kind and a.value == pytest.approx(ref, rel=1e-6, abs=1e-7)


def test_batchnorm_by_hand():
    bn = nn.BatchNorm2d(2).eval()
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.5, -1.0]))
        bn.running_var.copy_(torch.tensor([4.0, 0.25]))
        bn.weight.copy_(torch.tensor([2.0, 3.0]))
        bn.bias.copy_(torch.tensor([0.1, -0.2]))
    x = torch.zeros(1, 2, 2, 2)
    x[0, 1, 1, 0] = 2.0
    a = layer_arithmetic(nn.Sequential(bn), x, "0", 1, (1, 0))
    assert dict(a.terms)["x"] == 2.0 and dict(a.terms)["ε"] == pytest.approx(1e-5)
    assert a.result == pytest.approx((2.0 + 1.0) / math.sqrt(0.25 + 1e-5) * 3.0 - 0.2)
    assert a.value == pytest.approx(a.result, rel=1e-6)


def test_addition_lists_both_operands_and_linear_its_largest_terms():
    model, _ = load_model("digits_SmallResNet")
    x = torch.rand(1, 1, 8, 8)
    rec = record(model, x)
    add = next(n.name for n in rec.nodes if n.module is None)
    a = layer_arithmetic(model, x, add, 2, (3, 4), rec=rec)
    assert len(a.terms) == 2 and a.result == pytest.approx(sum(v for _, v in a.terms))
    assert "layer1.bn2" in a.terms[0][0] and "layer1.shortcut" in a.terms[1][0]
    lin = nn.Linear(20, 3)
    x = torch.rand(1, 2, 2, 5)
    a = layer_arithmetic(nn.Sequential(nn.Flatten(), lin), x, "1", 1)
    products = x.flatten() * lin.weight[1].detach()
    assert [row[0] for row in a.table] == products.abs().argsort(descending=True)[:8].tolist()
    q = a.table[0][0]  # the flattened (2, 2, 5) map: q = c·10 + r·5 + col
    assert a.table[0][1] == f"channel {q // 10}, row {q // 5 % 2}, col {q % 5}"
    assert a.terms[-1] == ("bias", pytest.approx(float(lin.bias.detach()[1])))
    assert a.terms[-2][0] == "the other 12 products"
    assert sum(v for _, v in a.terms) == pytest.approx(float(lin(x.flatten(1))[0, 1]), abs=1e-6)


def test_conv_subtotals_add_up_and_a_click_starts_at_the_most_active_position():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
    x = torch.randn(1, 3, 6, 6)
    d = neuron_detail(model, x, "0", 2, (1, 4))
    per = [float((x[0, c, 0:3, 3:6] * model[0].weight[2, c]).sum()) for c in range(3)]
    assert d.subtotals == pytest.approx(per, abs=1e-6)
    assert sum(d.subtotals) == pytest.approx(d.pre_activation - d.bias, abs=1e-9)
    ov = overview(model, x)
    m = model(x)[0, 1].detach()
    assert ov.most_active(1, 1) == divmod(int(m.argmax()), 6)
    assert float(ov.columns[1].maps[1][ov.most_active(1, 1)]) == float(m.max())


@pytest.mark.parametrize("layer,ch,index,field", [("1", 0, (0, 0), "layer"), ("nope", 0, (0, 0), "layer"),
                                                  ("2", 5, (0, 0), "channel"), ("2", 0, (9, 0), "index")])
def test_errors_name_the_field(layer, ch, index, field):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Identity(), nn.BatchNorm2d(2))
    with pytest.raises(ConfigError) as e:
        layer_arithmetic(model, torch.rand(1, 1, 5, 5), layer, ch, index)
    assert e.value.field == field
