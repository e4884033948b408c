"""The embedding space: penultimate features equal a hand-written forward to the last Linear's input, the hook is
removed and the training flags restored, PCA equals scikit-learn's up to each component's sign (and our sign
convention holds), and bad inputs are refused."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from sklearn.decomposition import PCA

from cnnviz.errors import ConfigError
from cnnviz.inside import embedding, pca_2d, penultimate_features


def tiny(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                         nn.Flatten(), nn.Linear(4 * 6 * 6, 8), nn.ReLU(), nn.Linear(8, 3))


def test_features_equal_a_manual_forward_to_the_last_linear_input():
    model = tiny()
    model.train()  # the function runs in eval mode and gives the flags back
    x = torch.randn(11, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    feats = penultimate_features(model, x, batch=4)  # 3 batches
    assert model.training and all(m.training for m in model.modules())
    with torch.no_grad():
        model.eval()
        manual = model[:7](x)  # everything before the last Linear
        logits = model(x)
        model.train()
    assert feats.shape == (11, 8)
    torch.testing.assert_close(feats, manual)
    torch.testing.assert_close(feats @ model[7].weight.T + model[7].bias, logits)
    for m in model.modules():
        assert not m._forward_pre_hooks and not m._forward_hooks


def test_hook_removed_when_the_forward_pass_fails():
    model = tiny().eval()
    with pytest.raises(ConfigError):
        penultimate_features(model, torch.randn(2, 3, 6, 6))  # 3 channels for a 1-channel conv
    assert not model[7]._forward_pre_hooks and not model.training


def test_pca_equals_sklearn_up_to_sign_and_our_sign_convention():
    g = torch.Generator().manual_seed(2)
    f = torch.randn(50, 6, generator=g) * torch.tensor([5.0, 3.0, 1.0, 0.5, 0.2, 0.1]) + 7.0
    f = f @ torch.linalg.qr(torch.randn(6, 6, generator=g))[0]  # components not along the axes
    p = pca_2d(f)
    sk = PCA(n_components=2).fit(f.double().numpy())
    ref = sk.transform(f.double().numpy())
    np.testing.assert_allclose(np.abs(p.coords.numpy()), np.abs(ref), atol=1e-9)
    np.testing.assert_allclose(p.ratio, sk.explained_variance_ratio_, rtol=1e-9)
    signs = np.sign((p.coords.numpy() * ref).sum(0))  # each column equals sklearn's times ±1
    np.testing.assert_allclose(p.coords.numpy(), ref * signs, atol=1e-9)
    np.testing.assert_allclose(np.abs(p.components.numpy()), np.abs(sk.components_), atol=1e-9)
    for c in p.components:  # the largest-magnitude loading of each component is positive
        assert c[c.abs().argmax()] > 0
    q = pca_2d(-f)  # the convention fixes the sign: negated features give the same components
    torch.testing.assert_close(q.components, p.components)


def test_embedding_on_a_tiny_model():
    model = tiny().eval()
    x = torch.randn(20, 1, 6, 6, generator=torch.Generator().manual_seed(3))
    y = torch.arange(20) % 3
    e = embedding(model, x, y, batch=7)
    with torch.no_grad():
        preds = model(x).argmax(1)
    assert torch.equal(e.predictions, preds) and torch.equal(e.labels, y)
    assert torch.equal(e.wrong, preds != y)
    torch.testing.assert_close(e.coords, pca_2d(model[:7](x).detach()).coords)


def test_refusals():
    no_linear = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x = torch.randn(4, 1, 6, 6)
    with pytest.raises(ConfigError) as err:
        penultimate_features(no_linear, x)
    assert err.value.field == "model"
    with pytest.raises(ConfigError):
        penultimate_features(tiny(), "not a tensor")
    with pytest.raises(ConfigError):
        penultimate_features(tiny(), torch.full((2, 1, 6, 6), float("nan")))
    with pytest.raises(ConfigError) as err:
        embedding(tiny(), x, torch.zeros(3, dtype=torch.long))
    assert err.value.field == "y"
    with pytest.raises(ConfigError):
        pca_2d(torch.ones(5, 3))  # no variance
    with pytest.raises(ConfigError):
        pca_2d(torch.randn(1, 3))  # one sample
