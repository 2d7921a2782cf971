"""attrkit.lab.paths: every path method is complete (the gradient theorem); symmetry depends on the path."""
import pytest
import torch

from attrkit.lab import paths, toys
from attrkit.widgets.paths import Bumps

XYZ = toys.Function(lambda v: v[:, 0] * v[:, 1] * torch.tanh(v[:, 2]), 3, "x·y·tanh(z)")


def change(model, x, b, target=toys.TARGET):
    with torch.no_grad():
        return (model(x)[:, target] - model(b)[:, target]).item()


@pytest.mark.parametrize("build", ["straight", "axis", "axis_reversed", "low_gradient_first"])
def test_every_path_is_complete(build):
    x, b = toys.point(1.0, 1.0, 1.0), toys.point(0.0, -0.5, 0.2)
    p = {"straight": lambda: paths.straight_path(b, x, 64), "axis": lambda: paths.axis_path(b, x, 64),
         "axis_reversed": lambda: paths.axis_path(b, x, 64, order=[2, 1, 0]),
         "low_gradient_first": lambda: paths.low_gradient_first_path(XYZ, b, x, 64, toys.TARGET)}[build]()
    assert torch.allclose(p[0], b) and torch.allclose(p[-1], x)
    a = paths.path_attributions(XYZ, p, toys.TARGET)
    assert a.sum().item() == pytest.approx(change(XYZ, x, b), rel=1e-3)


def test_straight_path_is_ig():
    from attrkit import integrated_gradients
    net = toys.random_net(4, (8,), "tanh", seed=1)
    x, b = toys.point(0.3, -1.0, 0.5, 2.0), toys.point(0.0, 0.0, 0.0, 0.0)
    ig = integrated_gradients(net, x, target=toys.TARGET, baseline=b, steps=128, method="riemann_middle",
                              record="none", progress=False).attributions
    assert torch.allclose(paths.path_attributions(net, paths.straight_path(b, x, 128), toys.TARGET), ig, atol=1e-10)


def test_symmetry_depends_on_how_the_path_moves_the_symmetric_features():
    x, b = toys.point(1.0, 1.0, 1.0), torch.zeros(1, 3, dtype=torch.float64)
    corner = toys.point(0.0, 0.0, 1.0)  # z first, then x and y together: not straight, but fair to x and y
    together = torch.cat([paths.straight_path(b, corner, 32), paths.straight_path(corner, x, 32)[1:]])
    for p in (paths.straight_path(b, x, 32), together, paths.low_gradient_first_path(XYZ, b, x, 32, toys.TARGET)):
        a = paths.path_attributions(XYZ, p, toys.TARGET)[0]
        assert a[0].item() == pytest.approx(a[1].item(), abs=1e-12)
    a = paths.path_attributions(XYZ, paths.axis_path(b, x, 32, order=[2, 0, 1]), toys.TARGET)[0]  # x before y
    assert abs(a[0] - a[1]).item() > 0.3


def test_low_gradient_first_path_bends_and_stays_monotone():
    m = Bumps()
    x, b = torch.tensor([[-1.2, -0.6]], dtype=torch.float64), torch.tensor([[1.6, 2.6]], dtype=torch.float64)
    p = paths.low_gradient_first_path(m, b, x, 32, 0)
    off_line = (p - paths.straight_path(b, x, 32)).abs().max().item()
    assert off_line > 0.5
    steps = p[1:] - p[:-1]
    assert (steps[..., 0] <= 1e-12).all() and (steps[..., 1] <= 1e-12).all()  # every feature walks towards x
    assert paths.path_attributions(m, p, 0).sum().item() == pytest.approx(change(m, x, b, 0), rel=2e-3)


def test_blur_path_is_complete_against_the_blurred_image():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 12 * 12, 3)).double().eval()
    x = torch.rand(1, 1, 14, 14, dtype=torch.float64)
    p = paths.blur_path(x, 64, max_sigma=3.0, kernel_size=9)
    assert torch.equal(p[-1], x)
    a = paths.path_attributions(model, p, 2)
    assert a.sum().item() == pytest.approx(change(model, x, p[0], 2), rel=1e-3)


def test_a_path_needs_two_points():
    with pytest.raises(ValueError, match="two points"):
        paths.path_attributions(XYZ, toys.point(1.0, 1.0, 1.0)[None], toys.TARGET)


def test_shapley_shubik_is_a_symmetric_mixture_but_not_ig():
    x, b = toys.point(1.0, 1.0, 1.0), torch.zeros(1, 3, dtype=torch.float64)
    ss = paths.shapley_shubik(XYZ, b, x, 32, toys.TARGET)[0]
    ig = paths.path_attributions(XYZ, paths.straight_path(b, x, 64), toys.TARGET)[0]
    assert ss[0].item() == pytest.approx(ss[1].item(), abs=1e-12)
    assert ss.sum().item() == pytest.approx(change(XYZ, x, b), rel=1e-4)
    # every order but the last feature's sees f = 0 at the corners: each feature gets tanh(1)/3
    assert torch.allclose(ss, torch.full((3,), torch.tanh(torch.tensor(1.0)).item() / 3, dtype=torch.float64), atol=1e-3)
    assert (ss - ig).abs().max().item() > 0.05
    with pytest.raises(ValueError, match="orders"):
        paths.shapley_shubik(XYZ, torch.zeros(1, 7), torch.ones(1, 7), 2, 1)
