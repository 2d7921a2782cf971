"""Plots: right artists, right data, the kit's colours, no open figures, no warnings on degenerate maps."""
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from attrkit import viz  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")  # a warning while plotting is a failure

torch.set_num_threads(1)  # tiny models: one thread is faster on a shared machine
RNG = np.random.default_rng(0)
ATTR = RNG.normal(size=(3, 8, 8))
IMAGE = RNG.uniform(size=(3, 8, 8))
DEGENERATE = {
    "zeros": np.zeros((3, 8, 8)),
    "constant": np.full((3, 8, 8), 0.5),
    "negative": -np.abs(ATTR),
    "tiny": np.full((3, 8, 8), 1e-30) * np.sign(ATTR),
    "float32 tensor": torch.tensor(ATTR, dtype=torch.float32),
}


@pytest.fixture(autouse=True)
def no_open_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a plotting function left a figure open"


def render(fig: Figure) -> Figure:
    fig.savefig(io.BytesIO(), format="png", dpi=30)
    return fig


def colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def maps(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


# ---- maps ------------------------------------------------------------------------------------------------

def test_signed_heatmap_keeps_zero_white_at_the_centre():
    fig = viz.heatmap(ATTR)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and len(colorbars(fig)) == 1
    im = maps(fig)[0].images[0]
    np.testing.assert_allclose(im.get_array(), ATTR.sum(0))
    assert im.norm(0.0) == pytest.approx(0.5)
    assert im.norm.vmin == -im.norm.vmax == -np.abs(ATTR.sum(0)).max()
    assert np.allclose(im.cmap(im.norm(0.0))[:3], 1.0, atol=0.01)  # white
    assert np.allclose(im.cmap(1.0)[:3], (1, 0, 0), atol=0.01) and np.allclose(im.cmap(0.0)[:3], (0, 0, 1), atol=0.01)
    assert "red +" in colorbars(fig)[0].get_ylabel()


def test_absolute_heatmap_and_reductions():
    fig = viz.heatmap(ATTR, signed=False, reduce="mean")
    im = maps(fig)[0].images[0]
    np.testing.assert_allclose(im.get_array(), np.abs(ATTR.mean(0)))
    assert im.norm.vmin == 0 and "sign dropped" in colorbars(fig)[0].get_ylabel()
    np.testing.assert_allclose(viz.channel_map(ATTR, "abs_sum"), np.abs(ATTR).sum(0))
    assert viz.channel_map(np.arange(5.0)).shape == (1, 5)
    assert viz.channel_map(ATTR[None]).shape == (8, 8)
    with pytest.raises(ValueError):
        viz.channel_map(ATTR, "max")


def test_percentile_clips_the_scale_and_says_so():
    m = np.zeros((10, 10))
    m[0, 0] = 100.0
    m[1:, :] = 1.0
    fig = viz.heatmap(m, percentile=99)
    assert maps(fig)[0].images[0].norm.vmax < 100
    assert colorbars(fig)[0]._colorbar.extend == "both"  # arrows: values beyond the scale
    assert viz.heatmap(m).axes[1]._colorbar.extend == "neither"
    render(fig)


def test_heatmap_draws_into_given_axes_without_closing():
    fig, (ax, cax) = plt.subplots(1, 2)
    for _ in range(3):  # a widget redrawing: no pile-up of colorbars
        ax.clear()
        out = viz.heatmap(ATTR, ax=ax, cax=cax)
    assert out is fig and len(fig.axes) == 2 and plt.get_fignums() == [fig.number]
    plt.close(fig)


@pytest.mark.parametrize("name", DEGENERATE)
def test_degenerate_maps_render_without_nan_or_warning(name):
    a = DEGENERATE[name]
    figs = (viz.heatmap(a), viz.overlay(a, IMAGE), viz.heatmap(a, signed=False), viz.clipping_panels(a, IMAGE))
    for k, fig in enumerate(figs):
        if k >= 2:  # the last two draw every kind of map and colorbar (signed, absolute, clipped)
            render(fig)
        assert colorbars(fig)
        for ax in fig.axes:
            for im in ax.images:
                assert np.isfinite(np.asarray(im.get_array(), dtype=float)).all()
                if im.norm is not None and im.norm.vmin is not None:
                    assert np.isfinite([im.norm.vmin, im.norm.vmax]).all() and im.norm.vmax > im.norm.vmin
    for clipped in (viz.ig_clip(a), viz.agi_clip(a), viz.ig_clip(a, polarity="positive")):
        assert np.isfinite(clipped).all() and np.abs(clipped).max() <= 1


@pytest.mark.parametrize("y", [np.zeros(6), np.full(6, 0.3), np.full(6, 1e-30), -np.linspace(0, 1e-30, 6)])
def test_degenerate_curves_render(y):
    alphas = np.linspace(0, 1, 6)
    fig, axes = plt.subplots(1, 3)  # one figure drawn through ax=, as a widget would
    viz.path_scores(alphas, y, ax=axes[0])
    viz.path_gradient_norms(alphas, np.stack([y, y], 1), ax=axes[1])
    viz.running_sum(alphas, y, total=y[-1], ax=axes[2])
    plt.close(fig)
    render(fig)
    for ax in axes:
        assert ax.get_legend() is not None
        assert all(np.isfinite(ln.get_ydata()).all() for ln in ax.lines)


def test_zero_map_is_all_white():
    fig = viz.heatmap(np.zeros((4, 4)))
    im = maps(fig)[0].images[0]
    assert np.allclose(im.to_rgba(im.get_array())[..., :3], 1.0, atol=0.01)


def test_overlay_is_transparent_where_attribution_is_zero():
    a = np.zeros((8, 8))
    a[2, 3], a[5, 5] = 2.0, -1.0
    fig = viz.overlay(a, IMAGE, alpha=0.8)
    ax = maps(fig)[0]
    assert len(ax.images) == 2 and len(colorbars(fig)) == 1
    np.testing.assert_allclose(ax.images[0].get_array(), IMAGE.mean(0))  # the input, in grey
    rgba = ax.images[1].get_array()
    assert rgba[0, 0, 3] == 0 and rgba[2, 3, 3] == pytest.approx(0.8) and rgba[5, 5, 3] == pytest.approx(0.4)
    assert rgba[2, 3, 0] > 0.9 > rgba[2, 3, 2] and rgba[5, 5, 2] > 0.9 > rgba[5, 5, 0]  # red +, blue −
    with pytest.raises(ValueError):
        viz.overlay(a, np.zeros((3, 4, 4)))


def test_to_image_rescales_normalised_inputs():
    img = viz.to_image(np.stack([np.full((2, 2), -2.0), np.full((2, 2), 0.0), np.full((2, 2), 2.0)]))
    assert img.shape == (2, 2, 3) and img.min() == 0 and img.max() == 1
    assert (viz.to_image(np.full((3, 2, 2), 7.0)) == 0.5).all()
    np.testing.assert_allclose(viz.to_image(IMAGE), IMAGE.transpose(1, 2, 0))


# ---- clipping rules -------------------------------------------------------------------------------------

def test_mass_threshold_known_answers():
    v = np.array([4.0, 3.0, 2.0, 1.0])  # mass 10: cumulative 40 %, 70 %, 90 %, 100 %
    assert viz.mass_threshold(v, 70) == 3
    assert viz.mass_threshold(v, 69.9) == 3 and viz.mass_threshold(v, 70.1) == 2
    assert viz.mass_threshold(v, 40) == 4 and viz.mass_threshold(v, 0) == 4
    assert viz.mass_threshold(v, 100) == 1
    assert viz.mass_threshold(-v, 70) == 3  # mass of |values|
    assert viz.mass_threshold(np.zeros(5), 50) == 0
    with pytest.raises(ValueError):
        viz.mass_threshold(v, 101)


def test_linear_transform_known_answer():
    v = np.array([4.0, 3.0, 2.0, 1.0])
    # m = threshold at 40 % mass = 4, e = threshold at 100 % = 1: f(a) = (a − 1)/3
    np.testing.assert_allclose(viz.linear_transform(v, 60, 0), [1, 2 / 3, 1 / 3, 0])
    # low = 0.2 as in IG-repo's LinearTransform default: f(a) = 0.8(a − 1)/3 + 0.2
    np.testing.assert_allclose(viz.linear_transform(v, 60, 0, low=0.2), [1, 0.8 * 2 / 3 + 0.2, 0.8 / 3 + 0.2, 0.2])
    # clip_below 30 → e = threshold at 70 % mass = 3: values under 3 are cut to 0
    np.testing.assert_allclose(viz.linear_transform(v, 60, 30), [1, 0, 0, 0])
    with pytest.raises(ValueError):
        viz.linear_transform(v, 50, 60)


def test_ig_clip_polarities():
    a = np.zeros((2, 1, 4))
    a[:, 0] = [[4.0, -3.0, 2.0, 0.0], [4.0, -3.0, 2.0, 0.0]]  # mean over channels = the row itself
    pos = viz.ig_clip(a, 100, 0, polarity="positive")  # m = max 4, e = min of the positive part 0
    np.testing.assert_allclose(pos, [[1, 0, 0.5, 0]])
    np.testing.assert_allclose(viz.ig_clip(a, 100, 0, polarity="negative"), [[0, 1, 0, 0]])
    np.testing.assert_allclose(viz.ig_clip(a, 100, 0), [[1, -1, 0.5, 0]])
    with pytest.raises(ValueError):
        viz.ig_clip(a, polarity="green")


def test_agi_clip_matches_the_reference_plot_code():
    ex = RNG.normal(size=(3, 16, 16))
    ref = ex.mean(0)  # AGI_main.py plot_hm, verbatim
    q, u = np.percentile(ref, 80), np.percentile(ref, 99)
    ref[ref < q] = q
    ref[ref > u] = u
    ref = (ref - q) / (u - q)
    np.testing.assert_allclose(viz.agi_clip(ex), ref)
    np.testing.assert_allclose(viz.agi_clip(np.arange(101.0)[None]), np.clip((np.arange(101.0) - 80) / 19, 0, 1)[None])
    assert (viz.agi_clip(np.full((3, 4, 4), 2.0)) == 0).all()


def test_clipping_panels_layout():
    fig = viz.clipping_panels(ATTR, IMAGE)
    assert len(maps(fig)) == 4 and len(colorbars(fig)) == 3
    np.testing.assert_allclose(maps(fig)[2].images[0].get_array(), viz.agi_clip(ATTR))
    assert len(maps(viz.clipping_panels(ATTR))) == 3


# ---- path pictures --------------------------------------------------------------------------------------

def test_line_points_and_path_strip():
    alphas = np.linspace(0, 1, 11)
    pts = viz.line_points(IMAGE, np.zeros_like(IMAGE), alphas)
    assert pts.shape == (11, 3, 8, 8)
    np.testing.assert_allclose(pts[0], 0) and np.testing.assert_allclose(pts[-1], IMAGE)
    fig = viz.path_strip(pts, alphas, max_images=6)
    axes = fig.axes
    assert len(axes) == 6 and axes[0].get_title() == "α = 0" and axes[-1].get_title() == "α = 1"
    np.testing.assert_allclose(axes[-1].images[0].get_array(), IMAGE.transpose(1, 2, 0))
    fig = viz.path_strip(torch.tensor(pts[:3]))  # AGI points: numbered by step
    assert [ax.get_title() for ax in fig.axes] == ["t = 0", "t = 1", "t = 2"]
    fig = viz.path_strip(RNG.normal(size=(5, 7)), np.linspace(0, 1, 5))  # vectors: one picture
    assert len(maps(fig)) == 1 and len(colorbars(fig)) == 1
    render(viz.path_strip(-pts))  # out-of-range inputs share one colour range


def test_path_scores_plot_the_scores():
    alphas, scores = np.linspace(0, 1, 7), np.tanh(3 * np.linspace(0, 1, 7))
    fig = viz.path_scores(alphas, scores, f_baseline=0.0, f_input=np.tanh(3))
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), alphas)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), scores)
    assert ax.get_legend() is not None and len(ax.lines) == 3
    fig = viz.path_scores(alphas, np.stack([scores, -scores]))
    assert len(fig.axes[0].lines) == 2


def test_gradient_norms_along_the_path():
    alphas, g = np.linspace(0, 1, 5), RNG.normal(size=(5, 3, 4, 4))
    fig = viz.path_gradient_norms(alphas, g)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), np.sqrt((g ** 2).sum((1, 2, 3))))
    np.testing.assert_allclose(viz.gradient_norms(g, "mean_abs"), np.abs(g).mean((1, 2, 3)))
    assert fig.axes[0].get_legend() is not None


def test_running_sum_ends_on_the_completeness_line():
    alphas, r = np.linspace(0.1, 1, 10), RNG.normal(size=(10, 3, 4, 4))
    total = r[-1].sum() - 0.25
    fig = viz.running_sum(alphas, r, total)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), r.reshape(10, -1).sum(1))
    assert ax.lines[1].get_ydata()[0] == pytest.approx(total)
    assert any("+0.25" in t.get_text() for t in ax.texts) and ax.get_legend() is not None


def test_completeness_vs_steps_one_line_per_rule():
    steps = [4, 8, 16, 32]
    gaps = {"riemann_left": [-0.2, -0.1, -0.05, -0.025], "gausslegendre": [0.0, 0.0, 0.0, 0.0],
            "trapezoid": np.array([[0.01, 0.002, 5e-4, 1e-4], [0.02, 0.004, 1e-3, 2e-4]])}
    fig = viz.completeness_vs_steps(steps, gaps, total=1.0)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    np.testing.assert_allclose(lines["riemann_left"].get_ydata(), [0.2, 0.1, 0.05, 0.025])
    np.testing.assert_allclose(lines["trapezoid"].get_ydata(), [0.02, 0.004, 1e-3, 2e-4])  # worst input
    assert (lines["gausslegendre"].get_ydata() > 0).all()  # exact zeros drawn at a floor, not lost on log axes
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_legend() is not None
    render(fig)
    render(viz.completeness_vs_steps(steps, {"all exact": np.zeros(4)}, total=0.0))


def test_quadrature_nodes_legend_shows_weight_sum():
    fig = viz.quadrature_nodes({"captum trapezoid": ([0, 1 / 3, 2 / 3, 1], [1 / 8, 1 / 4, 1 / 4, 1 / 8])})
    assert "Σw = 0.75" in fig.axes[0].get_legend().get_texts()[0].get_text()


# ---- AGI ------------------------------------------------------------------------------------------------

def test_agi_trajectories_ragged_paths():
    fi = [np.linspace(0.9, 0.4, 6), np.linspace(0.9, 0.7, 3)]
    fj = [np.linspace(0.01, 0.3, 6), np.linspace(0.01, 0.6, 3)]
    fig = viz.agi_trajectories(fi, fj, false_classes=[3, 7], reached=[False, True], true_class=1,
                               class_names=["c0", "c1", "c2", "cat"])
    left, right = fig.axes
    np.testing.assert_allclose(left.lines[1].get_ydata(), fi[1])
    np.testing.assert_allclose(right.lines[0].get_ydata(), fj[0])
    assert len(left.lines) == 2 and len(right.lines) == 3  # + the star of the path that reached
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert labels == ["j = cat", "j = 7 ✓"]
    render(fig)
    render(viz.agi_trajectories([np.zeros(1)], [np.zeros(1)]))


def test_agi_class_maps_skip_unused_slots_and_share_a_scale():
    per_class = RNG.normal(size=(4, 3, 6, 6))
    per_class[1] *= 10
    fig = viz.agi_class_maps(per_class, [5, 9, -1, 2], total=per_class.sum(0))
    shown = [ax for ax in maps(fig) if ax.images]
    assert [ax.get_title() for ax in shown] == ["AGI = Σ_j AGI_ij", "j = 5", "j = 9", "j = 2"]
    norms = {(ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in shown[1:]}
    assert len(norms) == 1  # one shared scale for the individual maps
    assert len(colorbars(fig)) == 2
    render(fig)
    render(viz.agi_class_maps(np.zeros((2, 3, 4, 4)), [-1, 3]))


# ---- text and tables ------------------------------------------------------------------------------------

def test_text_html_escapes_and_colours():
    out = viz.text_html(["<script>alert(1)</script>", "a&b", '"q"', "zero"], [2.0, -2.0, 1.0, 0.0])
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "a&amp;b" in out and "&quot;q&quot;" in out
    assert "background-color:rgb(255,0,0)" in out and "background-color:rgb(0,0,255)" in out
    assert "background-color:rgb(255,128,128)" in out and "background-color:rgb(255,255,255)" in out
    assert "linear-gradient" in out and "red: raises F" in out  # the legend
    zeros = viz.text_html(["a", "b"], torch.zeros(2))
    assert zeros.count("rgb(255,255,255)") >= 2 and "nan" not in zeros.lower()
    with pytest.raises(ValueError):
        viz.text_html(["a"], [1.0, 2.0])
    with pytest.raises(ValueError):
        viz.text_html(["a"], [float("nan")])


def test_token_view_displays_and_saves(tmp_path):
    view = viz.text_tokens(["<b>", "ok"], [1e-30, -1e-30], title="<i>t</i>")
    html = view._repr_html_()
    assert "&lt;b&gt;" in html and "&lt;i&gt;t&lt;/i&gt;" in html and "rgb(255,0,0)" in html
    view.save(tmp_path / "t.html")
    assert "&lt;b&gt;" in (tmp_path / "t.html").read_text() and "2 tokens" in repr(view)


def test_tabular_bars_sorted_by_magnitude():
    values = np.array([0.1, -3.0, 2.0, 0.0, -0.5])
    fig = viz.tabular_bars(values, ["a", "b", "c", "d", "e"], top=3)
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [-3.0, 2.0, -0.5]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "e"]
    assert ax.patches[0].get_facecolor()[2] > 0.9 and ax.patches[1].get_facecolor()[0] > 0.9  # blue −, red +
    assert ax.get_legend() is not None and "rest sum to +0.1" in ax.get_title()
    render(fig)
    render(viz.tabular_bars(np.zeros(3)))
    render(viz.tabular_bars(np.full(3, 1e-30)))


def test_returned_figure_still_renders_for_jupyter():
    from IPython.core.pylabtools import print_figure  # what the inline backend's display(fig) calls

    fig = viz.heatmap(ATTR)
    assert plt.get_fignums() == []
    assert print_figure(fig, "png")[:8] == b"\x89PNG\r\n\x1a\n"


# ---- wrappers over the result objects --------------------------------------------------------------------

def small_classifier(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 8), torch.nn.Tanh(),
                               torch.nn.Linear(8, 5)).double().eval()


X = torch.rand(2, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def test_plot_ig_trace_shows_the_trace():
    from attrkit import ig
    res = ig.integrated_gradients(small_classifier(), X, steps=8, output="probability")
    fig = viz.plot_ig_trace(res, index=1)
    assert len(maps(fig)) == 4 and len(colorbars(fig)) == 1
    scores_ax, grads_ax, running_ax, map_ax = maps(fig)
    np.testing.assert_allclose(scores_ax.lines[0].get_ydata(), res.trace.scores[1].numpy())
    np.testing.assert_allclose(grads_ax.lines[0].get_ydata(), res.trace.gradients[1].flatten(1).norm(dim=1).numpy())
    assert running_ax.lines[0].get_ydata()[-1] == pytest.approx(float(res.attributions[1].sum()))
    assert running_ax.lines[1].get_ydata()[0] == pytest.approx(float(res.score[1] - res.baseline_score[1]))
    np.testing.assert_allclose(map_ax.images[0].get_array(), res.attributions[1].sum(0).numpy())
    render(fig)
    strip = viz.plot_ig_path(res, index=0, max_images=8)
    assert len(strip.axes) == 8
    np.testing.assert_allclose(strip.axes[-1].images[0].get_array(), X[0].permute(1, 2, 0).numpy())  # α = 1
    with pytest.raises(ValueError, match="record"):
        viz.plot_ig_trace(ig.integrated_gradients(small_classifier(), X, steps=4, record="none"))


def test_plot_steps_needed_one_line_per_rule():
    from attrkit import steps_needed
    advice = steps_needed(small_classifier(), X, methods=("riemann_left", "gausslegendre"), max_steps=8)
    fig = viz.plot_steps_needed(advice)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("riemann_left (needs") and labels[1].startswith("gausslegendre (needs")
    rel = (advice.gaps["riemann_left"].abs() / advice.change.abs().view(-1, 1)).amax(0)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), rel.numpy())
    render(viz.plot_steps_needed(advice, index=1))


def test_plot_agi_wrappers():
    from attrkit.agi import agi  # attrkit.agi is also the function itself, exported by the package
    res = agi(small_classifier(), X, classes=3, epsilon=0.05, max_steps=4)
    walks = res.trajectories[0]
    fig = viz.plot_agi_trajectories(res, index=0)
    left, right = fig.axes
    assert len(left.lines) == len(walks)
    np.testing.assert_allclose(left.lines[0].get_ydata(), walks[0].scores.numpy())
    np.testing.assert_allclose(right.lines[0].get_ydata(), walks[0].false_scores.numpy())
    fig = viz.plot_agi_running(res, index=0)
    ax = fig.axes[0]
    assert ax.lines[0].get_ydata()[0] == 0 and ax.lines[0].get_ydata()[-1] == pytest.approx(walks[0].accounted)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), (walks[0].scores[0] - walks[0].scores).numpy())
    fig = viz.plot_agi_class_maps(res, index=1)
    used = res.classes[1][res.classes[1] >= 0].tolist()
    assert [ax.get_title() for ax in maps(fig) if ax.images][1:] == [f"j = {j}" for j in used]
    fig = viz.plot_agi_points(res, index=0)
    assert len(fig.axes) == walks[0].steps_taken + 1
    render(fig)
    with pytest.raises(ValueError, match="record='full'"):
        viz.plot_agi_points(agi(small_classifier(), X, classes=2, max_steps=2, record="scores"))
