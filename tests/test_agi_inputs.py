"""AGI with what a practitioner's model takes (issue 16, item 6): a tuple of inputs, extra forward arguments, per-part
bounds, checked against the float64 closed-form oracle of tests/agi_oracle.py; and the bad input of each."""
import os

import numpy as np
import pytest
import torch
from torch import nn

from attrkit.agi import agi

from agi_oracle import individual_agi

os.environ["ATTRKIT_PROGRESS"] = "0"
torch.set_num_threads(1)
C, D_IMG, D_TAB = 5, (2, 3), 4          # an "image" part (2, 3) and a "tabular" part (4,): D = 10 features


class TwoPartLinear(nn.Module):
    """logits = s_n · (W [img_n flattened; tab_n] + b), with s_n an extra forward argument (one per input): the
    oracle sees the linear-softmax model (s_n W, s_n b) of input n alone."""

    def __init__(self, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.lin = nn.Linear(6 + D_TAB, C).double()
        with torch.no_grad():
            self.lin.weight.copy_(3 * torch.randn(C, 6 + D_TAB, generator=g, dtype=torch.float64))
            self.lin.bias.copy_(torch.randn(C, generator=g, dtype=torch.float64))

    def forward(self, img, tab, scale):
        return scale * self.lin(torch.cat([img.flatten(1), tab], 1))


def data(n=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    img = 0.2 + 0.6 * torch.rand(n, *D_IMG, generator=g, dtype=torch.float64)
    tab = 0.2 + 0.6 * torch.rand(n, D_TAB, generator=g, dtype=torch.float64)
    scale = 0.5 + torch.rand(n, 1, generator=g, dtype=torch.float64)          # a different model per input
    return img, tab, scale


@pytest.mark.parametrize("mode", ["paper", "reference"])
@pytest.mark.parametrize("batch_size", [None, 2])
def test_tuple_inputs_and_forward_args_match_the_oracle(mode, batch_size):
    model = TwoPartLinear().eval()
    img, tab, scale = data()
    res = agi(model, (img, tab), classes="all", epsilon=0.05, max_steps=15, mode=mode, forward_args=(scale,),
              batch_size=batch_size)
    W, b = model.lin.weight.detach().numpy(), model.lin.bias.detach().numpy()
    assert isinstance(res.attributions, tuple) and [tuple(a.shape) for a in res.attributions] == [(3, 2, 3), (3, 4)]
    assert [tuple(a.shape) for a in res.per_class] == [(3, C - 1, 2, 3), (3, C - 1, 4)]
    for n in range(3):
        s = float(scale[n])
        x0 = np.concatenate([img[n].flatten().numpy(), tab[n].numpy()])
        for k, j in enumerate(res.classes[n].tolist()):
            ref = individual_agi(s * W, s * b, x0, int(res.target[n]), j, 0.05, 15, mode)
            tr = res.trajectories[n][k]
            got = np.concatenate([res.per_class[0][n, k].flatten().numpy(), res.per_class[1][n, k].numpy()])
            np.testing.assert_allclose(got, ref["agi"], rtol=1e-9, atol=1e-13)
            assert tr.steps_taken == ref["steps_taken"] and tr.reached == ref["reached"]
            points = np.concatenate([tr.points[0].flatten(1).numpy(), tr.points[1].numpy()], 1)
            np.testing.assert_allclose(points, ref["points"], rtol=1e-12, atol=1e-13)
            assert [tuple(c.shape) for c in tr.contributions] == [(tr.steps_taken, 2, 3), (tr.steps_taken, 4)]
    total = res.attributions[0].flatten(1).sum(1) + res.attributions[1].sum(1)
    torch.testing.assert_close(total, res.accounted.nan_to_num().sum(1))
    if mode == "paper":  # both ends of the stop test are exercised (reference walks stay in the ε-ball)
        assert res.reached.any() and (res.steps_taken > 1).any()


def test_forward_args_follow_their_own_input():
    """Swapping two inputs together with their forward arguments swaps the results; swapping the inputs alone
    does not (a closure that tiled the arguments would pair them with the wrong walks)."""
    model = TwoPartLinear().eval()
    img, tab, scale = data(n=2)
    kw = dict(classes="all", max_steps=10, record="none")
    a = agi(model, (img, tab), forward_args=(scale,), **kw)
    b = agi(model, (img.flip(0), tab.flip(0)), forward_args=(scale.flip(0),), **kw)
    torch.testing.assert_close(b.attributions[1], a.attributions[1].flip(0))
    c = agi(model, (img.flip(0), tab.flip(0)), forward_args=(scale,), **kw)
    assert not torch.allclose(c.attributions[1], a.attributions[1].flip(0))


def test_per_part_bounds_clamp_one_part_and_leave_the_other_free():
    model = TwoPartLinear().eval()
    img, tab, scale = data()
    res = agi(model, (img, tab), classes="all", epsilon=0.2, max_steps=10, forward_args=(scale,),
              bounds=((0.0, 1.0), None))
    img_points = torch.cat([tr.points[0] for row in res.trajectories for tr in row])
    tab_points = torch.cat([tr.points[1] for row in res.trajectories for tr in row])
    assert img_points.min() >= 0 and img_points.max() <= 1
    assert tab_points.min() < 0 or tab_points.max() > 1   # 10 steps of 0.2 leave [0, 1] unless clamped
    shared = agi(model, (img, tab), classes="all", epsilon=0.2, max_steps=10, forward_args=(scale,),
                 bounds=(0.0, 1.0))
    tab_shared = torch.cat([tr.points[1] for row in shared.trajectories for tr in row])
    assert tab_shared.min() >= 0 and tab_shared.max() <= 1


def test_a_single_tensor_and_a_one_part_tuple_agree():
    model = TwoPartLinear().eval()
    img, tab, scale = data()
    x = torch.cat([img.flatten(1), tab], 1)
    flat = lambda v, s: model(v[:, :6].view(-1, *D_IMG), v[:, 6:], s)  # noqa: E731
    one = agi(flat, x, classes="all", max_steps=10, forward_args=scale)
    tup = agi(flat, (x,), classes="all", max_steps=10, forward_args=(scale,))
    assert isinstance(one.attributions, torch.Tensor) and isinstance(tup.attributions, tuple)
    torch.testing.assert_close(tup.attributions[0], one.attributions)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, i, t, s: agi(m, (i, t[:2]), forward_args=(s,)), ValueError, r"disagree on the batch size.*\[3, 2\]"),
    (lambda m, i, t, s: agi(m, (i, t), forward_args=(s[:2],)), ValueError, r"forward_args\[0\] has shape \(2, 1\)"),
    (lambda m, i, t, s: agi(m, (i, t), forward_args=(s,), bounds=((0, 1), (0, 1), None)), TypeError,
     "one \\(low, high\\) or None for each of the 2 input parts"),
    (lambda m, i, t, s: agi(m, (i, t), forward_args=(s,), bounds=((0, 1), (0,))), TypeError, r"bounds\[1\] must be"),
    (lambda m, i, t, s: agi(m, (i, t), forward_args=(s,), bounds=((0.5, 1), None)), ValueError,
     "inputs lie outside bounds"),
    (lambda m, i, t, s: agi(m, (i, t.int()), forward_args=(s,)), TypeError, r"inputs\[1\] must be a floating-point tensor"),
    (lambda m, i, t, s: agi(lambda a, b, c: m(a, b, c)[:, 0], (i, t), forward_args=(s,)), ValueError,
     "single column: this method needs class scores"),
])
def test_bad_input_is_named_and_nothing_is_touched(call, error, match):
    model = TwoPartLinear().eval()
    img, tab, scale = data()
    before = [t.clone() for t in (img, tab, scale)] + [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=match):
        call(model, img, tab, scale)
    after = [img, tab, scale] + list(model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    assert not model.training and all(p.grad is None for p in model.parameters())
