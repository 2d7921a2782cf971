"""Quadrature rules: the test vectors of research/algorithms.md §5, captum's nodes, and exactness orders."""
import math

import numpy as np
import pytest
import torch
from captum.attr._utils.approximation_methods import approximation_parameters

from attrkit.ig.quadrature import METHODS, captum_trapezoid, quadrature, trapezoid_weights

N4 = {  # algorithms.md §5, n = 4
    "riemann_left": ([0, .25, .5, .75], [.25] * 4),
    "riemann_right": ([.25, .5, .75, 1], [.25] * 4),
    "riemann_middle": ([.125, .375, .625, .875], [.25] * 4),
    "riemann_trapezoid": ([0, 1 / 3, 2 / 3, 1], [1 / 6, 1 / 3, 1 / 3, 1 / 6]),  # a correct trapezoid
    "gausslegendre": ([0.069432, 0.330009, 0.669991, 0.930568], [0.173927, 0.326073, 0.326073, 0.173927]),
}


@pytest.mark.parametrize("method", METHODS)
def test_four_node_vectors(method):
    alphas, weights = quadrature(method, 4)
    assert alphas.dtype == weights.dtype == torch.float64
    np.testing.assert_allclose(alphas.numpy(), N4[method][0], atol=1e-6)
    np.testing.assert_allclose(weights.numpy(), N4[method][1], atol=1e-6)


def test_captum_trapezoid_is_ours_times_n_minus_1_over_n():
    a, w = captum_trapezoid(4)
    np.testing.assert_allclose(w.numpy(), [1 / 8, 1 / 4, 1 / 4, 1 / 8])
    for n in (2, 5, 50):
        ours_a, ours_w = quadrature("riemann_trapezoid", n)
        a, w = captum_trapezoid(n)
        assert torch.equal(a, ours_a)
        torch.testing.assert_close(w, ours_w * (n - 1) / n)
        assert math.isclose(float(w.sum()), (n - 1) / n)


@pytest.mark.parametrize("method", METHODS)
def test_nodes_are_captums_bit_for_bit(method):
    step_sizes, alphas = approximation_parameters(method)
    for n in (2, 3, 7, 20, 50):
        ours_a, ours_w = quadrature(method, n)
        assert ours_a.tolist() == alphas(n)  # same float values, so the same path points
        if method != "riemann_trapezoid":
            np.testing.assert_allclose(ours_w.numpy(), step_sizes(n), rtol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_weights_sum_to_one_and_nodes_in_unit_interval(method):
    for n in range(2, 120, 7):
        a, w = quadrature(method, n)
        assert a.shape == w.shape == (n,)
        assert math.isclose(float(w.sum()), 1.0, rel_tol=1e-12)
        assert float(a.min()) >= 0 and float(a.max()) <= 1
        assert (a.diff() > 0).all()


def integrate(method, n, f):
    a, w = quadrature(method, n)
    return float((w * f(a)).sum())


def test_error_terms_match_the_analytic_formulas():
    # ∫₀¹ α² dα = 1/3; the rules' errors on α² are closed-form
    sq = lambda a: a ** 2
    for n in (3, 10, 40):
        assert math.isclose(integrate("riemann_left", n, sq), 1 / 3 - 1 / (2 * n) + 1 / (6 * n * n), rel_tol=1e-6)
        assert math.isclose(integrate("riemann_right", n, sq), 1 / 3 + 1 / (2 * n) + 1 / (6 * n * n), rel_tol=1e-6)
        assert math.isclose(integrate("riemann_middle", n, sq), 1 / 3 - 1 / (12 * n * n), rel_tol=1e-6)
        assert math.isclose(integrate("riemann_trapezoid", n, sq), 1 / 3 + 1 / (6 * (n - 1) ** 2), rel_tol=1e-6)


def test_gauss_legendre_is_exact_to_degree_2n_minus_1():
    for n in (1, 2, 5, 9):
        for deg in range(2 * n):
            assert math.isclose(integrate("gausslegendre", n, lambda a: a ** deg), 1 / (deg + 1), rel_tol=1e-12)
    for n in (1, 2, 4):  # and no further: degree 2n is off
        assert not math.isclose(integrate("gausslegendre", n, lambda a: a ** (2 * n)), 1 / (2 * n + 1), rel_tol=1e-6)


def test_trapezoid_weights_on_a_nonuniform_grid():
    a = torch.tensor([0.0, 0.1, 0.15, 0.5, 0.9, 1.0], dtype=torch.float64)
    w = trapezoid_weights(a)
    assert math.isclose(float(w.sum()), 1.0)
    assert math.isclose(float((w * (3 * a - 1)).sum()), 0.5)  # linear integrands are exact
    assert math.isclose(float(w[0]), 0.05) and math.isclose(float(w[-1]), 0.05)


def test_one_node_rules():
    assert quadrature("riemann_right", 1)[0].tolist() == [1.0]
    assert quadrature("riemann_middle", 1)[0].tolist() == [0.5]
    assert quadrature("gausslegendre", 1)[0].tolist() == [0.5]


@pytest.mark.parametrize("method, steps, match", [
    ("riemann_trapezoid", 1, "≥ 2"), ("riemann_left", 0, "≥ 1"), ("gausslegendre", -3, "≥ 1"),
    ("simpson", 4, "method must be one of"), ("adaptive", 4, "integrated_gradients"),
])
def test_bad_arguments_name_the_fix(method, steps, match):
    with pytest.raises(ValueError, match=match):
        quadrature(method, steps)


@pytest.mark.parametrize("steps", [4.0, True, "4"])
def test_steps_must_be_an_int(steps):
    with pytest.raises(TypeError, match="steps must be an int"):
        quadrature("riemann_left", steps)
