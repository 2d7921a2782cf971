"""Baselines: each one's defining property, the (k, N, ...) contract, seeds, and the argument errors."""
import pytest
import torch

from attrkit import baselines as B

torch.set_num_threads(1)


@pytest.fixture
def images():
    return torch.rand(3, 3, 12, 10, generator=torch.Generator().manual_seed(0))


def test_resolve_none_number_and_broadcast_tensor(images):
    b, name = B.resolve(None, images)
    assert b.shape == (1, *images.shape) and (b == 0).all() and name == "zeros"
    b, _ = B.resolve(0.25, images)
    assert (b == 0.25).all()
    one = torch.rand(3, 12, 10)  # a single example broadcasts to every input
    b, _ = B.resolve(one, images)
    assert b.shape == (1, *images.shape) and torch.equal(b[0, 2], one)


@pytest.mark.parametrize("bad, err, match", [
    (torch.zeros(2, 3, 12, 10), ValueError, "does not broadcast"),
    (torch.full((3, 12, 10), float("nan")), ValueError, "NaN or inf"),
    (torch.full((3, 12, 10), float("inf")), ValueError, "NaN or inf"),
    (torch.zeros(3, 12, 10, dtype=torch.long), TypeError, "floating-point"),
    (float("nan"), ValueError, "finite"),
    (True, TypeError, "bool"),
    ("black", TypeError, "Baseline object"),
])
def test_resolve_rejects_bad_baselines(images, bad, err, match):
    with pytest.raises(err, match=match):
        B.resolve(bad, images)


def test_black_white_and_colour(images):
    assert (B.resolve(B.black(), images)[0] == 0).all()
    assert (B.resolve(B.white(), images)[0] == 1).all()
    assert (B.resolve(B.white(bounds=(-2.0, 3.0)), images)[0] == 3).all()
    red, name = B.resolve(B.Constant([1.0, 0.0, 0.5]), images)
    assert name == "constant"
    assert (red[0, :, 0] == 1).all() and (red[0, :, 1] == 0).all() and (red[0, :, 2] == 0.5).all()
    with pytest.raises(ValueError, match="channels"):
        B.resolve(B.Constant([1.0, 0.0]), images)


def test_max_distance_is_the_farthest_valid_input_in_l1(images):
    b = B.resolve(B.MaxDistance(), images)[0][0]
    assert ((b == 0) | (b == 1)).all()
    farthest = torch.maximum(images, 1 - images)  # per feature, no valid value is farther than this
    torch.testing.assert_close((b - images).abs(), farthest)


def test_blur_keeps_constant_images_and_smooths_others(images):
    flat = torch.full((2, 1, 9, 9), 0.3)
    torch.testing.assert_close(B.Blur(2.0)(flat)[0], flat)
    blurred = B.Blur(1.5)(images)[0]
    assert blurred.shape == images.shape
    assert blurred.var() < images.var() / 2  # white noise loses most of its variance
    torch.testing.assert_close(blurred.mean(), images.mean(), atol=0.03, rtol=0)
    # a huge sigma is capped to what reflect padding allows, not an error
    assert B.Blur(50.0)(images).shape == (1, *images.shape)
    with pytest.raises(ValueError, match="image inputs"):
        B.Blur(1.0)(torch.rand(4, 5))
    with pytest.raises(ValueError, match="sigma"):
        B.Blur(0)


def test_uniform_noise_bounds_samples_and_seed(images):
    u = B.UniformNoise(samples=5, bounds=(-1.0, 2.0), seed=3)
    b = u(images)
    assert b.shape == (5, *images.shape)
    assert b.min() >= -1 and b.max() <= 2 and b.min() < 0 and b.max() > 1
    assert torch.equal(b, u(images))  # a seed gives the same draws every call
    assert not torch.equal(b, B.UniformNoise(samples=5, bounds=(-1.0, 2.0), seed=4)(images))
    assert "seed=3" in repr(u) and u.name == "uniform"


def test_gaussian_noise_is_clipped_around_the_input(images):
    g = B.GaussianNoise(0.1, samples=4, seed=0)(images)
    assert g.shape == (4, *images.shape)
    assert g.min() >= 0 and g.max() <= 1
    inside = (images > 0.3) & (images < 0.7)  # far from the bounds: no clipping, so the noise is N(0, 0.01)
    noise = (g - images)[:, inside]
    assert abs(float(noise.std()) - 0.1) < 0.01 and abs(float(noise.mean())) < 0.01
    with pytest.raises(ValueError, match="sigma"):
        B.GaussianNoise(-1.0)


def test_from_data_draws_rows_of_the_data(images):
    data = torch.rand(7, 3, 12, 10)
    b = B.FromData(data, samples=6, seed=1)(images)
    assert b.shape == (6, *images.shape)
    for row in b.reshape(-1, 3, 12, 10):
        assert any(torch.equal(row, d) for d in data)
    with pytest.raises(ValueError, match="same input space"):
        B.FromData(torch.rand(7, 5))(images)
    with pytest.raises(ValueError, match="samples"):
        B.FromData(data, samples=0)


def test_once_repeats_its_first_draw(images):
    once = B.Once(B.UniformNoise(samples=2))
    assert torch.equal(once(images), once(images))


def test_bounds_must_be_ordered():
    with pytest.raises(ValueError, match="low < high"):
        B.MaxDistance(bounds=(1.0, 0.0))


def test_baseline_objects_returning_bad_shapes_are_caught(images):
    class Wrong(B.Baseline):
        def __call__(self, inputs, generator=None):
            return inputs  # forgot the sample dimension

    with pytest.raises(ValueError, match=r"expected \(k, \*inputs.shape\)"):
        B.resolve(Wrong(), images)


@pytest.mark.parametrize("shape, k, sigma", [((2, 3, 16, 20), 7, 1.5), ((1, 1, 28, 28), 11, 5.0),
                                             ((4, 1, 8, 8), 7, 2.0)])
def test_gaussian_blur_matches_torchvision(shape, k, sigma):
    from torchvision.transforms.functional import gaussian_blur as tv_blur

    from attrkit.baselines import gaussian_blur

    x = torch.rand(shape, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(gaussian_blur(x, k, sigma), tv_blur(x, [k, k], [sigma, sigma]), atol=1e-6, rtol=1e-5)
