"""SmoothGrad, SmoothGrad² and VarGrad over IG (attrkit.ig.noise_tunnel), checked against its definition and
against captum's NoiseTunnel on a linear model, where every noisy IG is exact and the three kinds have closed
forms."""
import pytest
import torch
from torch import nn

from attrkit.ig import integrated_gradients, noise_tunnel


def linear(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(5, 3).eval()


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_each_kind_is_its_formula_over_the_kept_runs(kind):
    model, x = linear(), torch.rand(2, 5)
    res = noise_tunnel(model, x, kind=kind, samples=4, sigma=0.3, seed=7, target=1, steps=8)
    a = torch.stack([r.attributions for r in res.runs]).double()
    expected = {"smoothgrad": a.mean(0), "smoothgrad_sq": (a * a).mean(0),
                "vargrad": (a * a).mean(0) - a.mean(0) ** 2}[kind]
    torch.testing.assert_close(res.attributions, expected.float())
    assert len(res.runs) == 4 and res.runs[0].trace.scores is not None  # per-sample traces kept
    # the runs really are IG of the noisy copies, with the same seed giving the same noise
    again = noise_tunnel(model, x, kind=kind, samples=4, sigma=0.3, seed=7, target=1, steps=8)
    torch.testing.assert_close(again.attributions, res.attributions)
    torch.testing.assert_close(res.runs[2].attributions,
                               integrated_gradients(model, res.runs[2].inputs, target=1, steps=8).attributions)
    assert not torch.equal(res.runs[0].inputs, res.runs[1].inputs)


def test_smoothgrad_on_a_linear_model_is_w_times_the_mean_noisy_input():
    model, x = linear(), torch.rand(3, 5)
    res = noise_tunnel(model, x, samples=6, sigma=0.5, seed=0, target=2, steps=4)
    mean_input = torch.stack([r.inputs for r in res.runs]).mean(0)
    torch.testing.assert_close(res.attributions, model.weight[2].detach() * mean_input, rtol=1e-5, atol=1e-6)
    assert res.deltas.shape == (6, 3) and res.deltas.abs().max() < 1e-5


def test_target_none_is_the_class_predicted_at_the_clean_input_and_tuples_work():
    model = linear()
    x = torch.rand(2, 5)
    res = noise_tunnel(model, x, samples=3, sigma=2.0, steps=4)
    assert all(torch.equal(r.target, model(x).argmax(1)) for r in res.runs)
    two = noise_tunnel(lambda a, b: model(torch.cat([a, b], 1)), (x[:, :2], x[:, 2:]), samples=2, sigma=(0.1, 0.0),
                       target=0, steps=4)
    assert isinstance(two.attributions, tuple)
    assert torch.equal(two.runs[0].inputs[1], x[:, 2:])  # σ = 0 on the second part: no noise there


def test_vargrad_matches_its_closed_form_on_a_linear_model():
    # linear model: IG of x̃ is w ⊙ x̃, so smoothgrad → w ⊙ x and vargrad → w² σ² as samples grow
    model, x = linear(), torch.rand(1, 5)
    res = noise_tunnel(model, x, kind="vargrad", samples=400, sigma=0.2, seed=0, target=0, steps=2,
                       method="riemann_left", record="none")
    torch.testing.assert_close(res.attributions, (model.weight[0].detach() * 0.2) ** 2 * torch.ones(1, 5),
                               rtol=0.25, atol=1e-4)


def test_bad_arguments_name_the_fix():
    model, x = linear(), torch.rand(2, 5)
    with pytest.raises(ValueError, match="kind must be one of"):
        noise_tunnel(model, x, kind="smooth")
    with pytest.raises(ValueError, match="samples must be a positive int"):
        noise_tunnel(model, x, samples=0)
    with pytest.raises(ValueError, match="sigma must be a number ≥ 0"):
        noise_tunnel(model, x, sigma=-1)
