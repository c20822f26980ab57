"""Tests for the plain PyTorch benchmark reference in tools/torch_reference.py."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tools import torch_reference as ref  # noqa: E402


def _snapshot(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


@pytest.mark.parametrize(
    "backbone_name, kwargs", [("pointnet", {"emb_dims": 64}), ("dgcnn", {"k": 8, "emb_dims": 64})]
)
def test_step_returns_finite_loss_and_updates_parameters(backbone_name, kwargs):
    torch.manual_seed(0)
    parts, step_fn = ref.make_step(backbone_name, **kwargs)
    model = parts["model"]
    before = _snapshot(model)
    points = np.random.default_rng(0).normal(size=(4, 64, 3)).astype(np.float32)
    loss = step_fn(points)
    assert isinstance(loss, float) and np.isfinite(loss)
    after = _snapshot(model)
    unchanged = {name for name in before if torch.equal(before[name], after[name])}
    # Only the T-Nets' inner BatchNorm offsets may stay put on the first step:
    # the zero-initialised transform layer passes them no gradient, and they
    # start at zero, so weight decay does not move them either.
    assert all("tnet" in name and name.endswith(".1.bias") for name in unchanged)
    assert len(unchanged) < len(before) // 4


def _numpy_nt_xent(a, b, temperature):
    def one_side(a, b):
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        losses = []
        for i in range(len(a)):
            positive = np.exp(a[i] @ b[i] / temperature)
            negatives = sum(
                np.exp(a[i] @ a[k] / temperature) + np.exp(a[i] @ b[k] / temperature)
                for k in range(len(a))
                if k != i
            )
            losses.append(-np.log(positive / (positive + negatives)))
        return losses

    return np.mean(one_side(a, b) + one_side(b, a))


def test_nt_xent_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 8))
    b = rng.normal(size=(4, 8))
    expected = _numpy_nt_xent(a, b, 0.1)
    got = ref.nt_xent(torch.tensor(a), torch.tensor(b), temperature=0.1).item()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_recycle_takes_max_and_r_th_largest():
    features = np.random.default_rng(2).normal(size=(3, 5, 16)).astype(np.float32)
    descending = np.sort(features, axis=2)[:, :, ::-1]
    for r in (1, 7, 15):
        max_feature, recycled = ref.recycle(torch.from_numpy(features), r)
        np.testing.assert_array_equal(max_feature.numpy(), features.max(axis=2))
        np.testing.assert_array_equal(recycled.numpy(), descending[:, :, r])


def test_knn_matches_brute_force():
    points = np.random.default_rng(3).normal(size=(2, 3, 40)).astype(np.float32)
    k = 6
    got = ref.knn(torch.from_numpy(points), k).numpy()
    for b in range(len(points)):
        x = points[b].T.astype(np.float64)
        distances = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1)
        expected = np.argsort(distances, axis=1)[:, :k]
        np.testing.assert_array_equal(np.sort(got[b], axis=1), np.sort(expected, axis=1))


def test_compile_failure_is_a_runtime_error(monkeypatch):
    def broken_compile(*args, **kwargs):
        raise OSError("no C++ compiler")

    monkeypatch.setattr(torch, "compile", broken_compile)
    with pytest.raises(RuntimeError, match="torch.compile is not available: OSError"):
        ref.make_step("pointnet", compile=True, emb_dims=16)
