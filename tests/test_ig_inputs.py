"""IG on every model a practitioner brings (issue 16): tuple inputs, extra forward arguments, any callable, outputs
(N,), (N, 1), (N, C, ...), Hugging Face style; bugs B1–B6, the float64 sum, batch_size as a bound, the record
default; layer IG with captum's baseline convention. captum's own toy models come from captum.testing."""
import pytest
import torch
from captum.testing.helpers.basic_models import BasicModel2, BasicModel4_MultiArgs, BasicModel_MultiLayer
from torch import nn

import attrkit
from attrkit import integrated_gradients, steps_needed
from attrkit.ig import integral_approximation, quadrature
from attrkit.lab import methods

torch.manual_seed(0)


def mlp(d=6, c=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 8), nn.Tanh(), nn.Linear(8, c)).eval()


class Counting(nn.Module):
    """Records the rows of every forward pass."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.rows = inner, []

    def forward(self, x):
        self.rows.append(x.shape[0])
        return self.inner(x)


# ---- B1: a caller's torch.no_grad() ------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m, x: integrated_gradients(m, x, target=0, steps=8),
    lambda m, x: integrated_gradients(m, x, target=0, steps=8, method="adaptive"),
    lambda m, x: integrated_gradients(m, x, target=0, steps=8, layer=m[0]),
    lambda m, x: steps_needed(m, x, target=0, methods=("riemann_middle",), max_steps=4),
    lambda m, x: methods.integrated_gradients(m, x, target=0, steps=8),
    lambda m, x: attrkit.agi(m, x, target=0, classes=1, max_steps=3),
    lambda m, x: attrkit.agi(m, x, target=0, classes=1, max_steps=3, batch_size=2),
], ids=["fixed", "adaptive", "layer", "steps_needed", "methods", "agi", "agi-batch"])
def test_b1_works_inside_no_grad(call):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    x = torch.rand(4, 3)
    with torch.no_grad():
        out = call(model, x)
    with torch.enable_grad():
        again = call(model, x)
    assert not torch.is_grad_enabled() or True
    a = getattr(out, "attributions", getattr(out, "gaps", out))
    b = getattr(again, "attributions", getattr(again, "gaps", again))
    if isinstance(a, dict):
        a, b = a["riemann_middle"], b["riemann_middle"]
    torch.testing.assert_close(a, b)


# ---- B2: the Riemann sum in float64 ------------------------------------------------------------------------

def test_b2_integral_of_a_constant_gradient_is_exact_at_5000_nodes():
    _, w = quadrature("riemann_left", 5000)
    assert abs(float(integral_approximation(torch.full((5000, 1), 3.0), w)[0]) - 3.0) < 1e-9
    assert integral_approximation(torch.ones(3, 2), w[:3]).dtype == torch.float32  # the gradients' dtype


@pytest.mark.parametrize("steps", [50, 500, 5000])
def test_b2_delta_stays_at_round_off_on_captums_multilayer_model(steps):
    # IG is exact on this path (the model is linear along it), so delta is pure round-off: captum's is 1.9e-6
    # at every n; the float32 running sum gave 1.0e-5 / 6.0e-5 / 5.8e-4
    res = integrated_gradients(BasicModel_MultiLayer().eval(), torch.tensor([[1.5, 2.0, 1.3]]), target=0,
                               steps=steps, method="riemann_left", record="none")
    assert abs(float(res.delta[0])) < 5e-6


# ---- B3: batch_size bounds every forward pass --------------------------------------------------------------

@pytest.mark.parametrize("method", ["riemann_trapezoid", "adaptive"])
def test_b3_batch_size_bounds_every_forward_pass_the_probe_included(method):
    model = Counting(mlp()).eval()
    x = torch.rand(4, 6)
    res = integrated_gradients(model, x, baseline=attrkit.baselines.UniformNoise(10, seed=0), steps=6,
                               method=method, batch_size=8, record="none")
    assert max(model.rows) <= 8
    full = integrated_gradients(mlp(), x, baseline=attrkit.baselines.UniformNoise(10, seed=0), steps=6,
                                method=method, record="none")
    torch.testing.assert_close(res.attributions, full.attributions, rtol=1e-5, atol=1e-6)


def test_b3_layer_ig_probe_is_bounded_too():
    inner = mlp()
    model = Counting(inner).eval()
    integrated_gradients(model, torch.rand(5, 6), layer=inner[0], steps=4, batch_size=3, record="none")
    assert max(model.rows) <= 3


# ---- B4, B5, B6 --------------------------------------------------------------------------------------------

def test_b4_output_shape_error_reports_the_users_batch():
    with pytest.raises(ValueError, match=r"model output has shape \(4, 3, 2\)") as e:
        integrated_gradients(lambda x: x.view(-1, 3, 2), torch.rand(4, 6))
    assert "(8," not in str(e.value)


def test_b5_a_baseline_that_requires_grad_leaks_no_graph():
    b = torch.zeros(1, 6, requires_grad=True)
    res = integrated_gradients(mlp(), torch.rand(2, 6), baseline=b, steps=4)
    for v in (res.attributions, res.delta, res.baseline, res.score, res.baseline_score):
        assert not v.requires_grad and v.grad_fn is None
        v.numpy()
    assert b.grad is None


@pytest.mark.parametrize("wrap", [lambda z: (z, z.sum()), lambda z: [z], lambda z: {"logits": z}],
                         ids=["tuple", "list", "dict-logits"])
def test_b6_tuple_and_dict_outputs_are_read(wrap):
    net = mlp()
    x = torch.rand(2, 6)
    res = integrated_gradients(lambda v: wrap(net(v)), x, target=1, steps=8)
    torch.testing.assert_close(res.attributions, integrated_gradients(net, x, target=1, steps=8).attributions)


def test_hugging_face_model_output_is_read_through_logits():
    from dataclasses import dataclass

    @dataclass
    class SequenceClassifierOutput:  # the shape of transformers' ModelOutput: scores in .logits
        loss: object = None
        logits: torch.Tensor = None

    class HF(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def forward(self, x):
            return SequenceClassifierOutput(logits=self.net(x))

    hf = HF().eval()
    x = torch.rand(3, 6)
    torch.testing.assert_close(integrated_gradients(hf, x, steps=8).attributions,
                               integrated_gradients(hf.net, x, steps=8).attributions)


def test_an_unreadable_output_names_the_fix():
    with pytest.raises(TypeError, match=r"model=lambda x: net\(x\)\['out'\]"):
        integrated_gradients(lambda x: {"out": x}, torch.rand(2, 6))
    with pytest.raises(TypeError, match="not a tensor of class scores"):
        integrated_gradients(lambda x: "scores", torch.rand(2, 6))


# ---- non-finite scores ---------------------------------------------------------------------------------------

def test_non_finite_baseline_score_is_an_error_naming_it():
    model = lambda x: torch.log(x).sum(1, keepdim=True)  # noqa: E731
    with pytest.raises(ValueError, match=r"F\(x′\) \(the score at the baseline\) is not finite: -inf"):
        integrated_gradients(model, torch.rand(2, 6) + 0.1)
    res = integrated_gradients(model, torch.rand(2, 6) + 0.5, baseline=0.25)
    assert torch.isfinite(res.attributions).all()


# ---- the record default --------------------------------------------------------------------------------------

def test_record_auto_keeps_the_full_trace_for_small_runs_and_scores_for_big_ones():
    small = integrated_gradients(mlp(), torch.rand(2, 6), steps=8)
    assert small.trace.gradients is not None
    conv = nn.Sequential(nn.Conv2d(3, 2, 3, stride=4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3)).eval()
    big = integrated_gradients(conv, torch.rand(2, 3, 224, 224), steps=50)  # 2·150528·50 > 2²² numbers
    assert big.trace.gradients is None and big.trace.scores is not None
    full = integrated_gradients(conv, torch.rand(2, 3, 64, 64), steps=50, record="full")
    assert full.trace.gradients.shape == (2, 50, 3, 64, 64)


# ---- tuple inputs --------------------------------------------------------------------------------------------

class TwoInputs(nn.Module):
    """An image part and a tabular part of different shapes and dtypes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.img = nn.Linear(12, 4)
        self.tab = nn.Linear(3, 4).double()
        self.out = nn.Linear(4, 3)

    def forward(self, img, tab):
        return self.out(torch.tanh(self.img(img.flatten(1)) + self.tab(tab).float()))


@pytest.mark.parametrize("method", ["gausslegendre", "adaptive"])
def test_tuple_inputs_equal_ig_on_the_joint_input(method):
    model = TwoInputs().eval()
    img, tab = torch.rand(3, 1, 3, 4), torch.rand(3, 3, dtype=torch.float64)
    b_img, b_tab = torch.full((1, 3, 4), 0.2), torch.zeros(3, 3, dtype=torch.float64)
    res = integrated_gradients(model, (img, tab), baseline=(b_img, b_tab), target=2, steps=16, method=method)
    assert isinstance(res.attributions, tuple)
    assert [a.shape for a in res.attributions] == [img.shape, tab.shape]
    assert [a.dtype for a in res.attributions] == [torch.float32, torch.float64]
    assert isinstance(res.trace.scores, torch.Tensor) and isinstance(res.inputs, tuple)
    # the same IG on one packed tensor: the path through the joint space is one path
    joint = lambda z: model(z[:, :12].float().view(-1, 1, 3, 4), z[:, 12:])  # noqa: E731
    packed = integrated_gradients(joint, torch.cat([img.flatten(1).double(), tab], 1),
                                  baseline=torch.cat([b_img.flatten().double().expand(3, -1), b_tab], 1),
                                  target=2, steps=16, method=method)
    torch.testing.assert_close(torch.cat([res.attributions[0].flatten(1).double(), res.attributions[1]], 1),
                               packed.attributions, rtol=1e-5, atol=1e-6)
    total = sum(a.flatten(1).sum(1).double() for a in res.attributions)
    torch.testing.assert_close(total - (res.score - res.baseline_score).double(), res.delta.double(),
                               rtol=1e-4, atol=1e-5)


def test_captums_basic_model2_tuple_matches_the_paper_example():
    # f(x1, x2) = ReLU(ReLU(x1) − 1 − ReLU(x2)), IG paper: attributions 1.5 and −0.5 at x = (3, 1), x′ = 0
    res = integrated_gradients(BasicModel2().eval(), (torch.tensor([3.0]), torch.tensor([1.0])), steps=500,
                               method="gausslegendre", target=None)
    assert [round(float(a[0]), 3) for a in res.attributions] == [1.5, -0.5]


def test_full_trace_comes_back_per_part():
    model = TwoInputs().eval()
    res = integrated_gradients(model, (torch.rand(2, 1, 3, 4), torch.rand(2, 3, dtype=torch.float64)), steps=5,
                               record="full")
    assert res.trace.gradients[0].shape == (2, 5, 1, 3, 4) and res.trace.gradients[1].shape == (2, 5, 3)
    torch.testing.assert_close(res.trace.running[1][:, -1], res.attributions[1], rtol=1e-4, atol=1e-6)


def test_path_points_of_tuple_inputs_are_per_part_and_end_on_the_inputs():
    model = TwoInputs().eval()
    img, tab = torch.rand(2, 1, 3, 4), torch.rand(2, 3, dtype=torch.float64)
    b_img, b_tab = torch.full((1, 3, 4), 0.2), torch.zeros(2, 3, dtype=torch.float64)
    res = integrated_gradients(model, (img, tab), baseline=(b_img, b_tab), steps=6, method="riemann_trapezoid")
    pts = res.path_points()
    assert [p.shape for p in pts] == [(2, 6, 1, 3, 4), (2, 6, 3)] and [p.dtype for p in pts] == [img.dtype, tab.dtype]
    torch.testing.assert_close(pts[0][:, 0], b_img.expand(2, -1, -1, -1))   # trapezoid: α = 0 and α = 1
    torch.testing.assert_close(pts[1][:, -1], tab)
    for k in range(6):  # one α for all parts: point k of the joint path
        assert all(torch.equal(a, b[:, k]) for a, b in zip(res.points(k), pts))
    alpha = res.trace.alphas[2]
    torch.testing.assert_close(res.points(2)[1], alpha * tab, rtol=1e-6, atol=1e-7)


def test_steps_needed_takes_tuples_and_forward_args_like_integrated_gradients():
    model = Masked().eval()
    x, mask = torch.rand(3, 6), (torch.rand(3, 6) > 0.5).float()
    advice = steps_needed(model, x, target=0, forward_args=(mask, 2.0), methods=("gausslegendre",), steps=[4, 8])
    for n, i in ((4, 0), (8, 1)):
        one = integrated_gradients(model, x, target=0, forward_args=(mask, 2.0), steps=n, method="gausslegendre")
        torch.testing.assert_close(advice.gaps["gausslegendre"][:, i], one.delta)
    joint = steps_needed(TwoInputs().eval(), (torch.rand(2, 1, 3, 4), torch.rand(2, 3, dtype=torch.float64)),
                         target=1, methods=("gausslegendre", "adaptive"), max_steps=32)
    assert joint.gaps["gausslegendre"].shape[0] == 2


# ---- extra forward arguments ---------------------------------------------------------------------------------

class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x, mask, scale=1.0):
        return self.net(x * mask) * scale


@pytest.mark.parametrize("method", ["riemann_middle", "adaptive"])
def test_forward_args_follow_their_own_input_under_every_rule(method):
    model = Masked().eval()
    x, mask = torch.rand(3, 6), (torch.rand(3, 6) > 0.5).float()
    res = integrated_gradients(model, x, forward_args=(mask, 2.0), target=0, steps=12, method=method, batch_size=5)
    for i in range(3):  # one input at a time, its mask closed over: the reference
        one = integrated_gradients(lambda v, m=mask[i:i + 1]: model(v, m, 2.0), x[i:i + 1], target=0, steps=12,
                                   method=method)
        torch.testing.assert_close(res.attributions[i:i + 1], one.attributions, rtol=1e-5, atol=1e-6)
    assert mask.eq(mask).all()


def test_captums_multiargs_model_with_extra_arguments():
    model = BasicModel4_MultiArgs().eval()
    x1, x2 = torch.tensor([[1.5, 2.0, 3.3]]), torch.tensor([[3.0, 3.5, 2.2]])
    res = integrated_gradients(model, (x1, x2), forward_args=(torch.tensor([[1.0, 3.0, 4.0]]), 1), steps=500,
                               method="gausslegendre", target=None, reduce=None)
    total = sum(float(a.sum()) for a in res.attributions)
    assert abs(total - float(res.score - res.baseline_score)) < 1e-3


def test_forward_args_with_a_wrong_batch_dimension_name_the_argument():
    with pytest.raises(ValueError, match=r"forward_args\[0\] has shape \(5, 6\) but there are 3 inputs"):
        integrated_gradients(Masked().eval(), torch.rand(3, 6), forward_args=torch.ones(5, 6))


# ---- outputs: one score, positions ---------------------------------------------------------------------------

@pytest.mark.parametrize("keepdim", [False, True], ids=["(N,)", "(N, 1)"])
def test_one_score_per_example(keepdim):
    w = torch.arange(6.0)
    model = lambda x: (x * w).sum(1, keepdim=keepdim)  # noqa: E731  linear: IG = w ⊙ x exactly
    x = torch.rand(4, 6)
    res = integrated_gradients(model, x, steps=4)
    torch.testing.assert_close(res.attributions, x * w)
    assert res.target.tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="out of range"):
        integrated_gradients(model, x, target=1)


def test_position_targets_and_reductions_on_a_segmentation_output():
    conv = nn.Conv2d(1, 2, 3, padding=1).eval()
    x = torch.rand(2, 1, 5, 5)
    res = integrated_gradients(conv, x, target=(1, 2, 3), steps=8)
    ref = integrated_gradients(lambda v: conv(v)[:, :, 2, 3], x, target=1, steps=8)
    torch.testing.assert_close(res.attributions, ref.attributions)
    per = integrated_gradients(conv, x, target=[(1, 2, 3), (0, 0, 0)], steps=8)
    torch.testing.assert_close(per.attributions[0], res.attributions[0])
    summed = integrated_gradients(conv, x, target=0, reduce="sum", steps=8)
    ref = integrated_gradients(lambda v: conv(v).sum((2, 3)), x, target=0, steps=8)
    torch.testing.assert_close(summed.attributions, ref.attributions)
    prob = integrated_gradients(conv, x, target=(1, 2, 3), steps=8, output="probability")
    ref = integrated_gradients(lambda v: conv(v).softmax(1)[:, :, 2, 3], x, target=1, steps=8)
    torch.testing.assert_close(prob.attributions, ref.attributions)
    with pytest.raises(ValueError, match=r"target=\(class, i0, i1\) or a reduction"):
        integrated_gradients(conv, x)
    with pytest.raises(ValueError, match="int tuple of length 3"):
        integrated_gradients(conv, x, target=(1, 2))


# ---- any callable ----------------------------------------------------------------------------------------------

def test_functions_and_bound_methods_are_models():
    net = mlp()
    x = torch.rand(2, 6)
    ref = integrated_gradients(net, x, steps=8).attributions
    torch.testing.assert_close(integrated_gradients(net.forward, x, steps=8).attributions, ref)
    torch.testing.assert_close(integrated_gradients(lambda v: net(v), x, steps=8).attributions, ref)
    net.train()
    with pytest.raises(ValueError, match="training mode"):
        integrated_gradients(net.forward, x)


# ---- bad input: structure ------------------------------------------------------------------------------------

def test_bad_structures_name_the_argument():
    model = TwoInputs().eval()
    img, tab = torch.rand(3, 1, 3, 4), torch.rand(3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"disagree on the batch size \(dim 0\): \[3, 2\]"):
        integrated_gradients(model, (img, tab[:2]))
    with pytest.raises(ValueError, match="baseline must match the inputs' structure, a tuple of 2"):
        integrated_gradients(model, (img, tab), baseline=(0.0,))
    with pytest.raises(ValueError, match="baseline must match"):
        integrated_gradients(model, (img, tab), baseline=torch.zeros(3, 1, 3, 4))


def test_in_place_models_leave_the_callers_tensors_alone():
    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def forward(self, x, mask):
            mask.add_(1.0)
            return self.net(x.sub_(0.5) if not x.requires_grad else x - 0.5)

    x, mask = torch.rand(3, 6), torch.ones(3, 6)
    before = x.clone(), mask.clone()
    integrated_gradients(InPlace().eval(), x, forward_args=mask, steps=4, batch_size=4)
    integrated_gradients(InPlace().eval(), x, forward_args=mask, steps=4, layer=None, method="adaptive")
    assert torch.equal(x, before[0]) and torch.equal(mask, before[1])
