"""attrkit.captum: captum's IntegratedGradients / LayerIntegratedGradients names, defaults and return values on
attrkit's engine. Checked on captum's own test models (captum.testing) against captum's expected values (from
its test suite, tests/attr/test_integrated_gradients_basic.py) and against captum itself, case by case."""
import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import LayerIntegratedGradients as CaptumLayerIG
from captum.testing.helpers.basic_models import (BasicModel, BasicModel2, BasicModel4_MultiArgs,
                                                 BasicModel_ConvNet_One_Conv, BasicModel_MultiLayer,
                                                 BasicModel_MultiLayer_MultiInput)
from torch import nn

import attrkit
from attrkit.captum import IntegratedGradients, LayerIntegratedGradients

METHODS = ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"]


def close(a, b, tol=1e-5):
    for p, q in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        torch.testing.assert_close(p, q, rtol=tol, atol=tol)


def test_import_change_only():
    assert attrkit.captum.IntegratedGradients is IntegratedGradients
    from attrkit.captum import IntegratedGradients as again  # the alias in attrkit/__init__.py's table
    assert again is IntegratedGradients


# ---- captum's expected values -------------------------------------------------------------------------------

def test_paper_example_basic_model():
    # f = 1 − ReLU(1 − x): F(3) − F(0) = 1, all of it on the one input; delta ≈ 0
    attr, delta = IntegratedGradients(BasicModel().eval()).attribute(torch.tensor([[3.0]]), n_steps=500,
                                                                     return_convergence_delta=True)
    assert abs(float(attr) - 1.0) < 2e-3 and abs(float(delta)) < 2e-3  # a kink at α = 1/3
    close(attr, CaptumIG(BasicModel().eval()).attribute(torch.tensor([[3.0]]), n_steps=500))


def test_paper_example_two_inputs():
    # captum: BasicModel2, (3, 1) → (1.5, −0.5)
    attr = IntegratedGradients(BasicModel2().eval()).attribute((torch.tensor([3.0]), torch.tensor([1.0])),
                                                               n_steps=500)
    assert isinstance(attr, tuple) and [round(float(a), 3) for a in attr] == [1.5, -0.5]


@pytest.mark.parametrize("method", METHODS)
def test_agrees_with_captum_on_multiargs_model(method):
    model = BasicModel4_MultiArgs().eval()
    x1, x2 = torch.tensor([[1.5, 2.0, 3.3]]), torch.tensor([[3.0, 3.5, 2.2]])
    args = (torch.tensor([[1.0, 3.0, 4.0]]), 1)
    ours = IntegratedGradients(model).attribute((x1, x2), additional_forward_args=args, n_steps=20,
                                                method=method, return_convergence_delta=True)
    theirs = CaptumIG(model).attribute((x1, x2), additional_forward_args=args, n_steps=20, method=method,
                                       return_convergence_delta=True)
    close(ours[0], theirs[0])
    close(ours[1], theirs[1].to(ours[1].dtype), 1e-4)


def test_agrees_with_captum_multi_input_with_targets_baselines_and_batches():
    model = BasicModel_MultiLayer_MultiInput().eval()
    xs = tuple(torch.rand(4, 3) for _ in range(3))
    bs = (torch.zeros(1, 3), 0.5, torch.rand(4, 3))
    kw = dict(baselines=bs, target=[0, 1, 1, 0], additional_forward_args=(2,), n_steps=16, internal_batch_size=5)
    close(IntegratedGradients(model).attribute(xs, **kw), CaptumIG(model).attribute(xs, **kw))


def test_multiply_by_inputs_false_and_the_result_on_request():
    model = BasicModel_MultiLayer().eval()
    x = torch.tensor([[1.5, 2.0, 1.3], [0.2, -1.0, 3.0]])
    ig = IntegratedGradients(model, multiply_by_inputs=False)
    ours, res = ig.attribute(x, target=0, n_steps=10, return_result=True)
    close(ours, CaptumIG(model, multiply_by_inputs=False).attribute(x, target=0, n_steps=10))
    assert ig.result is res and res.trace.gradients is not None and ig.multiplies_by_inputs is False


def test_conv_net_and_no_grad():
    model = BasicModel_ConvNet_One_Conv().eval()
    x = torch.rand(2, 1, 4, 4)
    with torch.no_grad():
        ours = IntegratedGradients(model).attribute(x, target=1)
    close(ours, CaptumIG(model).attribute(x, target=1))


# ---- layer IG ---------------------------------------------------------------------------------------------------

def test_layer_ig_follows_captums_baseline_convention():
    model = BasicModel_ConvNet_One_Conv().eval()
    torch.manual_seed(0)
    x, b = torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4) * 0.2
    for to_input in (False, True):
        kw = dict(baselines=b, target=0, n_steps=12, attribute_to_layer_input=to_input)
        ours, d = LayerIntegratedGradients(model, model.relu1).attribute(x, return_convergence_delta=True, **kw)
        theirs, td = CaptumLayerIG(model, model.relu1).attribute(x, return_convergence_delta=True, **kw)
        close(ours, theirs)
        close(d, td.to(d.dtype), 1e-4)


def test_layer_ig_on_a_tuple_output_layer():
    model = BasicModel_MultiLayer(multi_input_module=True).eval()
    x = torch.tensor([[1.5, 2.0, 1.3], [0.5, 0.1, 2.0]])
    ours = LayerIntegratedGradients(model, model.multi_relu).attribute(x, target=0, n_steps=8)
    theirs = CaptumLayerIG(model, model.multi_relu).attribute(x, target=0, n_steps=8)
    assert isinstance(ours, tuple) and len(ours) == 2
    close(ours, theirs)


def test_layer_ig_default_baseline_is_the_activation_at_the_input_baseline_and_layer_zero_is_one_arg_away():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(8, 3)).eval()
    conv = model[0]
    x = torch.rand(2, 1, 4, 4) + 0.5
    default = attrkit.integrated_gradients(model, x, target=0, layer=conv, steps=16, method="gausslegendre")
    with torch.no_grad():
        act = {}
        h = conv.register_forward_hook(lambda m, a, o: act.setdefault("b", o))
        model(torch.zeros_like(x))
        h.remove()
    torch.testing.assert_close(default.baseline, act["b"])
    zero = attrkit.integrated_gradients(model, x, target=0, layer=conv, steps=16, method="gausslegendre",
                                        baseline_in="layer")
    assert float(zero.baseline.abs().max()) == 0.0
    assert not torch.allclose(default.attributions, zero.attributions)


def test_layer_ig_with_extra_args_and_a_layer_that_never_runs():
    model = BasicModel4_MultiArgs().eval()
    lin = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="layer never ran"):
        attrkit.integrated_gradients(lambda a, b: model(a, b, 1.0), (torch.rand(1, 3), torch.rand(1, 3)), layer=lin)
