"""Validation messages name the argument and the fix; the guard puts the caller's model back as it was."""
import pytest
import torch
from torch import nn

from attrkit.common import checks as _checks


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.ReLU(), nn.Linear(8, 3)).eval()


def test_training_mode_is_refused_with_the_fix():
    m = net().train()
    with pytest.raises(ValueError, match=r"training mode.*model.eval\(\)"):
        _checks.check_model(m)
    m.eval()
    m[1].train()  # one submodule left in training mode is enough to make outputs random
    with pytest.raises(ValueError, match="training mode"):
        _checks.check_model(m)
    with pytest.raises(TypeError, match="nn.Module"):
        _checks.check_model(lambda x: x)


@pytest.mark.parametrize("x, err, msg", [
    ([1.0], TypeError, "torch.Tensor"),
    (torch.ones(2, 3, dtype=torch.long), TypeError, "floating-point"),
    (torch.tensor([[1.0, float("nan")]]), ValueError, "NaN or inf"),
    (torch.tensor([[1.0, float("inf")]]), ValueError, "NaN or inf"),
    (torch.ones(0, 3), ValueError, "non-empty batch"),
])
def test_bad_batches(x, err, msg):
    with pytest.raises(err, match=msg):
        _checks.check_batch(x)


def test_targets():
    pred = torch.tensor([2, 0])
    assert _checks.check_target(None, 2, 3, pred).tolist() == [2, 0]
    assert _checks.check_target(1, 2, 3, pred).tolist() == [1, 1]
    assert _checks.check_target(torch.tensor([0, 2]), 2, 3, pred).tolist() == [0, 2]
    with pytest.raises(ValueError, match=r"out of range.*3 classes"):
        _checks.check_target(3, 2, 3, pred)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        _checks.check_target(torch.tensor([0, 1, 2]), 2, 3, pred)
    with pytest.raises(TypeError, match="integer"):
        _checks.check_target(torch.tensor([0.0, 1.0]), 2, 3, pred)


def test_logits_need_a_class_dimension():
    with pytest.raises(ValueError, match="single column"):
        _checks.check_logits(torch.zeros(2, 1), 2)
    with pytest.raises(ValueError, match=r"\(N, classes\)"):
        _checks.check_logits(torch.zeros(2), 2)


def test_guard_restores_everything_after_an_error():
    m = net()
    p0 = next(m.parameters())
    p0.grad = torch.ones_like(p0)
    saved_grad = p0.grad
    x = torch.rand(2, 4)
    with pytest.raises(RuntimeError):
        with _checks.guard(m, x):
            m.train()
            for p in m.parameters():
                p.requires_grad_(False)
                p.grad = None
            m[0].register_forward_hook(lambda *a: None)
            m[2].register_forward_pre_hook(lambda *a: None)
            x.requires_grad_(True)
            raise RuntimeError("half-way")
    assert not any(mod.training for mod in m.modules())
    assert all(p.requires_grad for p in m.parameters())
    assert p0.grad is saved_grad and all(p.grad is None for p in list(m.parameters())[1:])
    assert all(not mod._forward_hooks and not mod._forward_pre_hooks for mod in m.modules())
    assert not x.requires_grad


def test_guard_keeps_the_callers_own_hooks():
    m = net()
    h = m[0].register_forward_hook(lambda *a: None)
    with _checks.guard(m):
        m[0].register_forward_hook(lambda *a: None)
    assert list(m[0]._forward_hooks) == [h.id]
