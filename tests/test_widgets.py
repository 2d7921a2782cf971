"""Explorers (attrkit.widgets): set a control, check that the readout and the pictures changed, and that slider
moves never call the model (they read the stored trace)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from attrkit import baselines as B, toys, zoo  # noqa: E402
from attrkit.widgets import (AGIExplorer, BaselinePlayground, Bumps, IGExplorer, MethodComparison,  # noqa: E402
                             PathExplorer2D, TextIGExplorer)
from attrkit.widgets.panels import one_input  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def mnist():
    return zoo.load("mnist")


@pytest.fixture
def digit(mnist):
    return mnist.x_test[7]  # (1, 28, 28): one image without its batch dimension


class Calls:
    """Counts forward passes of a model."""

    def __init__(self, model):
        self.n = 0
        model.register_forward_hook(lambda *args: setattr(self, "n", self.n + 1))


def pictures(explorer, *names):
    return [getattr(explorer, n).value for n in names]


# ---- IG explorer -------------------------------------------------------------------------------------------

def test_ig_alpha_moves_redraw_every_panel_from_the_trace(mnist, digit):
    ex = IGExplorer(mnist.model, digit, steps=16)
    calls = Calls(mnist.model)
    assert len(ex.alpha.options) == 16 and ex.result.trace.running is not None
    ex.alpha.index = 3
    before = pictures(ex, "point_image", "grad_image", "run_image") + [ex.plot.image.value, ex.readout.value]
    dot = ex._dot.get_xydata().copy()
    ex.alpha.index = 12
    after = pictures(ex, "point_image", "grad_image", "run_image") + [ex.plot.image.value, ex.readout.value]
    assert all(a != b for a, b in zip(before, after))
    assert "α = 0.800" in ex.readout.value and "node 13 of 16" in ex.readout.value
    assert not np.allclose(dot, ex._dot.get_xydata())
    np.testing.assert_allclose(ex._dot.get_xydata()[0], [ex.alphas[12], ex.so_far[12]])
    assert calls.n == 0, "an α move called the model"
    ex.alpha.index = 15  # at α = 1 the sum so far is Σ attributions (completeness up to the delta)
    assert ex.so_far[-1] == pytest.approx(float(ex.result.attributions.sum()), rel=1e-4)
    assert f"{ex.change:.4g}" in ex.readout.value


def test_ig_parameter_changes_recompute_with_progress(mnist, digit):
    ex = IGExplorer(mnist.model, digit, steps=16)
    n, curve = ex.recomputations, ex._sum.get_ydata().copy()
    ex.alpha.index = 8
    ex.steps.value = 32
    assert ex.result.steps == 32 and len(ex.alpha.options) == 32 and ex.recomputations == n + 1
    assert ex.alpha.value == pytest.approx(8 / 15, abs=1 / 31)  # kept near the old α = 8/15
    assert ex.progress.layout.visibility == "hidden" and ex.progress.value == ex.progress.max
    ex.method.value = "gausslegendre"
    assert ex.result.method == "gausslegendre" and 0 < ex.alphas[0] < 0.01
    ex.output.value = "probability"
    assert ex.result.output == "probability" and "(probability)" in ex.ax.get_title()
    assert not np.array_equal(curve, ex._sum.get_ydata())
    assert abs(ex.change) <= 1
    ex.baseline.value = "white (1)"
    assert ex.result.baseline.min() == 1 and "white" in ex.point_caption.value
    ex.target.value = 3
    assert int(ex.result.target[0]) == 3
    assert ex.error.value == ""


def test_ig_adaptive_rule_and_errors_stay_inside_the_widget(mnist, digit):
    menu = {"zeros": None, "wrong shape": torch.zeros(5)}
    ex = IGExplorer(mnist.model, digit, steps=16, baseline=menu)
    ex.method.value = "adaptive"
    assert ex.result.method == "adaptive" and len(ex.alpha.options) == ex.result.steps
    good = ex.result
    ex.baseline.value = "wrong shape"  # IG raises; the explorer shows it and keeps the last result
    assert "does not broadcast" in ex.error.value and ex.result is good
    assert ex.progress.layout.visibility == "hidden"


def test_ig_explorer_with_several_baseline_samples_follows_sample_0(mnist, digit):
    # expected gradients: the panels show trace row 0 (baseline sample 0), so its sums must close on that
    # sample's own F(x′), not on the mean over samples; the adaptive rule may give the samples different grids
    ex = IGExplorer(mnist.model, digit, steps=64, method="adaptive",
                    baseline={"noise × 3": B.UniformNoise(samples=3, seed=0)})
    res = ex.result
    assert res.samples == 3 and res.trace.alphas.shape[0] == 3
    own = float(res.trace.scores[0, 0])  # F at α = 0: the sample's own baseline
    assert ex.f_base == pytest.approx(own, rel=1e-5) and ex.f_base != pytest.approx(float(res.baseline_score[0]))
    ex.alpha.index = len(ex.alpha.options) - 1
    assert ex.so_far[-1] - ex.change == pytest.approx(float(res.trace.gaps[0, -1]), abs=1e-5)
    assert len(ex.alpha.options) == len(res.trace.nodes(0)[0]) and "baseline sample 0" in ex.readout.value


def test_ig_explorer_on_other_models():
    torch.manual_seed(0)
    tabular = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).eval()
    ex = IGExplorer(tabular, torch.randn(6), steps=8)  # no batch dim, values outside [0, 1]: zeros baseline
    assert list(ex.menu) == ["zeros"] and ex.result.attributions.shape == (1, 6)
    ex.alpha.index = 4
    assert ex.point_image.value and "node 5 of 8" in ex.readout.value
    rgb = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 5)).eval()
    ex = IGExplorer(rgb, torch.rand(1, 3, 12, 12), steps=8, baseline="blur (σ = 3)")
    assert ex.result.baseline_name == "blur" and ex.display_input(ex.x[0]).shape == (12, 12, 3)
    shown = IGExplorer(rgb, torch.rand(3, 12, 12), steps=8, show=lambda x: x.mean(0).numpy())
    assert shown.display_input(shown.x[0]).shape == (12, 12)


def test_one_input_decides_the_batch_dimension_with_the_model(mnist, digit):
    assert one_input(mnist.model, digit).shape == (1, 1, 28, 28)
    assert one_input(mnist.model, digit[None]).shape == (1, 1, 28, 28)
    linear = nn.Linear(4, 2).eval()
    assert one_input(linear, torch.zeros(4)).shape == (1, 4)
    assert one_input(linear, torch.zeros(1, 4)).shape == (1, 4)
    with pytest.raises(ValueError, match="neither"):
        one_input(linear, torch.zeros(3))


# ---- AGI explorer ------------------------------------------------------------------------------------------

def test_agi_step_moves_and_class_switches_read_the_trajectories(mnist, digit):
    ex = AGIExplorer(mnist.model, digit, classes=3, max_steps=10)
    calls = Calls(mnist.model)
    assert len(ex.walks) == 3 and ex.step.max == ex.walk.steps_taken
    ex.step.value = 0
    before = pictures(ex, "point_image", "move_image", "so_far_image") + [ex.plot.image.value, ex.readout.value]
    assert "Σ AGI_ij so far = 0<" in ex.readout.value  # nothing accumulated at t = 0
    ex.step.value = ex.step.max
    after = pictures(ex, "point_image", "move_image", "so_far_image") + [ex.plot.image.value, ex.readout.value]
    assert all(a != b for a, b in zip(before, after))
    assert ex.sums[-1] == pytest.approx(ex.walk.accounted, rel=1e-4)
    curve = ex._lines[1].get_ydata().copy()
    other = [j for j in ex.walks if j != ex.false_class.value][0]
    ex.false_class.value = other
    assert ex.walk.false_class == other and f"j = {other}" in ex.readout.value
    assert not np.array_equal(curve, ex._lines[1].get_ydata())
    assert calls.n == 0, "a step move or class switch called the model"


def test_agi_parameter_changes_recompute(mnist, digit):
    ex = AGIExplorer(mnist.model, digit, classes=3, max_steps=10)
    total, n = ex.total_image.value, ex.recomputations
    ex.mode.value = "reference"
    assert ex.result.mode == "reference" and ex.recomputations == n + 1
    assert "reference mode" in ex.readout.value and ex.total_image.value != total
    ex.step.value = ex.step.max  # reference mode: every point stays within ε of x_0
    assert float((ex.walk.points - ex.walk.points[0]).abs().max()) <= ex.result.epsilon + 1e-6
    ex.epsilon.value = 0.02
    assert ex.result.epsilon == pytest.approx(0.02)
    ex.max_steps.value = 4
    assert ex.result.max_steps == 4 and ex.step.max <= 4
    keep = ex.false_class.value
    ex.classes.value = 5
    assert len(ex.walks) == 5 and len(ex.false_class.options) == 5
    assert ex.false_class.value == (keep if keep in ex.walks else ex.false_class.options[0][1])
    assert str(len(ex.walks)) + " classes" in ex.total_caption.value and ex.error.value == ""


# ---- baseline playground -------------------------------------------------------------------------------------

def test_baseline_playground_blind_spots_and_rows(mnist, digit):
    bp = BaselinePlayground(mnist.model, digit, steps=8)
    assert {"black (0)", "white (1)", "constant c", "blur σ"} <= set(bp.rows)
    black = bp.cells["black (0)"]
    bp.tolerance.value = 0.0
    mask, share, _ = bp.blind("black (0)")
    assert share == pytest.approx(float((digit == 0).float().mean()))  # black pixels: x = x′ exactly
    assert np.abs(bp.rows["black (0)"]["attr"][mask]).max() == 0  # ... and they get exactly nothing
    picture, text = black["blind"].value, black["text"].value
    bp.tolerance.value = 0.3
    assert black["blind"].value != picture and black["text"].value != text and "≤ 0.30" in bp.readout.value
    maps = black["attribution"].value
    bp.scale.value = "shared scale"
    assert black["attribution"].value != maps or bp.rows["black (0)"]["map"].max() == 0
    others = {k: v["result"] for k, v in bp.rows.items()}
    bp.constant.value = 0.2  # recomputes that row only
    assert float(bp.rows["constant c"]["baseline"].max()) == pytest.approx(0.2)
    assert all(bp.rows[k]["result"] is r for k, r in others.items() if k != "constant c")
    bp.output.value = "probability"
    assert all(r["result"].output == "probability" for r in bp.rows.values())
    assert "entropy" in black["text"].value and bp.error.value == ""


# ---- 2-D paths ----------------------------------------------------------------------------------------------

def test_path_explorer_moves_paths_and_attributions():
    ex = PathExplorer2D(steps=8, max_steps=10)
    assert len(ex.agi.trajectories[0]) == 2  # Bumps: three classes, two false ones
    picture, table = ex.plot.image.value, ex.table.value
    ex.x1.value = 0.5
    assert ex.plot.image.value != picture and ex.table.value != table
    assert float(ex.ig.inputs[0, 0]) == pytest.approx(0.5)
    assert "x = (0.50" in ex.readout.value
    change = float(ex.ig.score[0] - ex.ig.baseline_score[0])
    assert f"F(x) − F(x′) = {change:+.3f}" in ex.table.value
    ex.b2.value = 0.0
    ex.mode.value = "reference"
    assert ex.agi.mode == "reference" and "reference mode" in ex.table.value
    ex.output.value = "logit"
    assert "logit" in ex.ax.get_title()


def test_path_explorer_takes_any_two_feature_model():
    ex = PathExplorer2D(toys.sin_dummy(), x=(1.0, 0.5), baseline=(0.0, 0.0), target=toys.TARGET, steps=16)
    a = ex.ig.attributions[0]
    assert float(a[1]) == 0.0  # x₂ is a dummy: no attribution
    assert isinstance(Bumps()(torch.zeros(4, 2)), torch.Tensor)


# ---- method comparison ---------------------------------------------------------------------------------------

def test_method_comparison_controls(mnist, digit):
    mc = MethodComparison(mnist.model, digit)
    assert set(mc.maps) == {"ig", "agi", "gradient", "gradient_x_input"}
    ig = mc.maps["ig"]
    assert float(ig.sum()) == pytest.approx(mc.f_x - mc.f_base, rel=0.02)  # completeness
    calls = Calls(mnist.model)
    image = mc.panels["ig"][1].value
    mc.percentile.value = 95.0
    assert mc.panels["ig"][1].value != image and "95th percentile" in mc.readout.value
    image = mc.panels["gradient"][1].value
    mc.view.value = "over the input"
    assert mc.panels["gradient"][1].value != image
    mc.scale.value = "shared scale"
    assert calls.n == 0
    mc.target.value = 3
    assert not torch.equal(mc.maps["ig"], ig) and "class 3" in mc.readout.value


# ---- the text explorer (IG over token embeddings) -------------------------------------------------------------

@pytest.fixture(scope="module")
def tweets():
    return zoo.load("tweets")


def test_text_alpha_moves_read_the_trace_and_end_at_the_attributions(tweets):
    ids = tweets.encode("I love the food but the service was terrible")
    ex = TextIGExplorer(tweets.model, ids, tweets.model.embedding, vocab=tweets.vocab, steps=16,
                        class_names=tweets.classes)
    calls = Calls(tweets.model)
    assert ex.error.value == "" and len(ex.alpha.options) == 16 and ex.tokens == tweets.decode(ids[0])
    ex.alpha.index = 2
    before = [ex.tokens_html.value, ex.nearest_html.value, ex.curves.plot.image.value, ex.readout.value]
    ex.alpha.index = 13
    after = [ex.tokens_html.value, ex.nearest_html.value, ex.curves.plot.image.value, ex.readout.value]
    assert all(a != b for a, b in zip(before, after)) and "node 14 of 16" in ex.readout.value
    assert calls.n == 0, "an α move called the model"
    # after the last node the running per-token attributions are the result's, and add up to Σ attributions
    np.testing.assert_allclose(ex.per_token[-1], ex.result.per_token()[0].numpy(), rtol=1e-5, atol=1e-7)
    assert ex.so_far[-1] == pytest.approx(float(ex.result.attributions.sum()), rel=1e-4)
    # the zero-embedding baseline is PAD's embedding here, so the path starts on "<pad>" and ends on the tokens
    assert set(ex.nearest[0]) == {tweets.vocab[0]} and ex.nearest[-1] == ex.tokens
    # in between, some node reads as neither: words of neither the baseline nor the text
    assert any(set(w) != {tweets.vocab[0]} and w != ex.tokens for w in ex.nearest)


def test_text_parameter_changes_and_errors(tweets):
    ids = tweets.encode("not bad at all")[0]                       # (L,): no batch dimension
    menu = {"zero embedding": None, "PAD ids (0)": torch.zeros(1, ids.numel(), dtype=torch.long),
            "wrong length": torch.zeros(1, ids.numel() + 2, dtype=torch.long)}
    ex = TextIGExplorer(tweets.model, ids, tweets.model.embedding, vocab=tweets.vocab, steps=16, baseline=menu)
    n = ex.recomputations
    ex.output.value = "probability"
    assert ex.result.output == "probability" and abs(ex.change) <= 1 and ex.recomputations == n + 1
    ex.method.value = "adaptive"
    assert ex.result.method == "adaptive" and len(ex.alpha.options) == ex.result.steps
    ex.target.value = 1 - int(ex.result.target[0])
    assert int(ex.result.target[0]) == ex.target.value
    good = ex.result
    ex.baseline.value = "wrong length"                              # IG raises: shown, last result kept
    assert ex.error.value != "" and ex.result is good and ex.progress.layout.visibility == "hidden"
    with pytest.raises(TypeError, match="token ids"):
        TextIGExplorer(tweets.model, torch.rand(5), tweets.model.embedding)
    conv = TextIGExplorer(tweets.model, ids, tweets.model.conv, steps=8)    # (1, 64, L): not one row per token
    assert "one row per token" in conv.error.value and not hasattr(conv, "result")


class BagOfEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embedding, self.post, self.fc = nn.Embedding(10, 4), nn.Identity(), nn.Linear(4, 2)

    def forward(self, ids):
        return self.fc(self.post(self.embedding(ids)).mean(1))


def test_text_explorer_on_a_layer_without_a_vocabulary():
    model = BagOfEmbeddings().eval()
    ids = torch.tensor([3, 1, 4, 1, 5])
    ex = TextIGExplorer(model, ids, model.post, steps=8)             # (1, L, E) but no table to search
    assert ex.error.value == "" and ex.nearest is None and "nn.Embedding" in ex.nearest_html.value
    assert ex.tokens == ["3", "1", "4", "1", "5"]
    assert ex.per_token[-1].sum() == pytest.approx(float(ex.result.attributions.sum()), rel=1e-5)


# ---- one vocabulary: method (the rule), baseline (or a menu of them), classes (AGI's k) -----------------------

def test_old_spellings_still_work_and_name_the_new_one(mnist, digit):
    menu = {"black": 0.0, "white": 1.0}
    with pytest.warns(DeprecationWarning, match=r"rule=\.\.\.\) is now spelled method="), \
            pytest.warns(DeprecationWarning, match=r"IGExplorer\(baselines=\.\.\.\) is now spelled baseline="):
        ex = IGExplorer(mnist.model, digit, steps=8, rule="riemann_left", baselines=menu)
    assert ex.method.value == "riemann_left" and list(ex.menu) == ["black", "white"]
    with pytest.warns(DeprecationWarning, match=r"baselines=\.\.\.\) is now spelled baseline="):
        play = BaselinePlayground(mnist.model, digit, baselines=menu, steps=4)
    assert list(play.menu) == ["black", "white"]
    with pytest.warns(DeprecationWarning, match=r"k=\.\.\.\) is now spelled classes="):
        agi = AGIExplorer(mnist.model, digit, k=2, max_steps=2)
    assert agi.classes.value == 2
    with pytest.raises(TypeError, match="unexpected keyword argument 'stepz'"):
        IGExplorer(mnist.model, digit, stepz=8)


def test_baseline_may_be_a_name_a_menu_or_one_baseline(mnist, digit):
    assert IGExplorer(mnist.model, digit, steps=4, baseline="white (1)").baseline.value == "white (1)"
    ex = IGExplorer(mnist.model, digit, steps=4, baseline={"grey": 0.5, "black": 0.0})
    assert ex.baseline.value == "grey" and ex.baseline.options == ("grey", "black")
    own = IGExplorer(mnist.model, digit, steps=4, baseline=torch.full((1, 28, 28), 0.25))
    assert list(own.menu) == ["yours"] and torch.allclose(own.result.baseline, torch.full((1, 1, 28, 28), 0.25))
    with pytest.raises(ValueError, match="menu's names"):
        IGExplorer(mnist.model, digit, steps=4, baseline="purple")
