"""Grading functions on hand-built attributions whose grade is obvious, and the planted-image lab's numbers."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from attrkit import groundtruth as gt
from attrkit import zoo
from attrkit.zoo.models import MnistCNN

ROOT = Path(__file__).resolve().parent.parent

# 2 examples x 6 units; units 1 and 4 are the cause
TRUTH = torch.tensor([[0.0, 5.0, 0.0, 0.0, 2.0, 0.0]] * 2)
MASK = TRUTH > 0


def test_perfect_attribution_gets_top_grades():
    a = TRUTH.clone()
    assert torch.allclose(gt.rank_correlation(a, TRUTH), torch.ones(2, dtype=torch.float64))
    assert torch.equal(gt.top_k_precision(a, MASK), torch.ones(2, dtype=torch.float64))
    assert torch.equal(gt.attribution_auroc(a, MASK), torch.ones(2, dtype=torch.float64))
    assert torch.equal(gt.share_inside(a, MASK), torch.ones(2, dtype=torch.float64))
    assert torch.allclose(gt.misplaced_share(a, TRUTH), torch.zeros(2, dtype=torch.float64))


def test_reversed_attribution_gets_bottom_grades():
    a = -TRUTH + 0.1 * torch.arange(6.0)          # cause units lowest; breaks ties among the rest
    assert (gt.attribution_auroc(a, MASK) == 0).all()
    assert (gt.top_k_precision(a, MASK) == 0).all()
    assert (gt.rank_correlation(-TRUTH, TRUTH) < -0.99).all()
    assert (gt.share_inside(a, MASK) == 0).all()   # no positive mass on the cause


def test_random_attribution_grades_near_chance():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(1000, 50, generator=g)
    mask = torch.zeros(1000, 50, dtype=torch.bool)
    mask[:, :10] = True
    # per-example spread ~0.1 (AUROC), ~0.13 (precision): over 1000 examples the means sit within 0.02 (> 5σ)
    assert abs(gt.attribution_auroc(a, mask).mean().item() - 0.5) < 0.02
    assert abs(gt.share_inside(a, mask).nanmean().item() - 0.2) < 0.02
    assert abs(gt.top_k_precision(a, mask).mean().item() - 0.2) < 0.02
    assert abs(gt.rank_correlation(a, mask.double()).mean().item()) < 0.02


def test_auroc_counts_ties_as_half_and_matches_pairwise_definition():
    a = torch.tensor([[3.0, 1.0, 1.0, 0.0, 2.0]])
    m = torch.tensor([[True, True, False, False, False]])
    # pairs (pos, neg): (3,1) (3,0) (3,2) win; (1,1) tie; (1,0) win; (1,2) loss → (4 + 0.5) / 6
    assert gt.attribution_auroc(a, m).item() == pytest.approx(4.5 / 6)


def test_undefined_grades_are_nan_and_bad_masks_are_refused():
    assert math.isnan(gt.attribution_auroc(torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool)).item())
    assert math.isnan(gt.share_inside(-torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool)).item())
    assert math.isnan(gt.top_k_precision(torch.ones(1, 3), torch.zeros(1, 3, dtype=torch.bool)).item())
    with pytest.raises(TypeError, match="bool"):
        gt.attribution_auroc(torch.ones(1, 3), torch.ones(1, 3))
    with pytest.raises(ValueError, match="batch"):
        gt.share_inside(torch.ones(3), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="does not match"):
        gt.share_inside(torch.ones(2, 3), torch.ones(2, 4, dtype=torch.bool))


def test_top_k_precision_with_fixed_k():
    a = torch.tensor([[5.0, 4.0, 3.0, 2.0]])
    m = torch.tensor([[True, False, True, False]])
    assert gt.top_k_precision(a, m, k=1).item() == 1.0
    assert gt.top_k_precision(a, m, k=2).item() == 0.5
    assert gt.top_k_precision(a, m, k=3).item() == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="k must be"):
        gt.top_k_precision(a, m, k=5)


def test_prediction_share_sums_to_one_and_misplaced_share_is_mass_on_wrong_units():
    a = torch.tensor([[2.0, 1.0, 1.0]])
    s = gt.prediction_share(a)
    assert torch.allclose(s, torch.tensor([[0.5, 0.25, 0.25]], dtype=torch.float64))
    assert gt.prediction_share(a, total=8.0)[0, 0].item() == 0.25
    # the truth puts everything on unit 0; the attribution half of it elsewhere
    assert gt.misplaced_share(a, torch.tensor([[1.0, 0.0, 0.0]])).item() == pytest.approx(0.5)


def test_grade_catches_a_method_that_credits_only_one_part():
    part_a = torch.zeros(1, 8, dtype=torch.bool)
    part_a[0, :2] = True
    part_b = torch.zeros(1, 8, dtype=torch.bool)
    part_b[0, 2:4] = True
    only_a = torch.tensor([[1.0, 1.0, 0, 0, 0, 0, 0, 0]])
    both = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0, 0, 0, 0]])
    row_a = gt.grade(only_a, part_a | part_b, (part_a, part_b))
    row_both = gt.grade(both, part_a | part_b, (part_a, part_b))
    assert row_a["share"] == row_both["share"] == 1.0        # the region share cannot tell them apart
    assert row_a["weaker_share"] == 0.0 and row_both["weaker_share"] == 0.5
    assert row_a["area"] == 0.5


# ---- the planted-image lab (data/planted, scripts/train_planted.py) ----------------------------------------

def _planted():
    folder = zoo.data_dir() / "planted"
    with np.load(folder / "test.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    model = MnistCNN(n_classes=2)
    model.load_state_dict(torch.load(folder / "planted.pt", map_location="cpu", weights_only=True))
    return model.eval(), arrays


def test_planted_model_solves_the_and_task():
    model, d = _planted()
    x = torch.as_tensor(d["images"], dtype=torch.float32).unsqueeze(1) / 255
    with torch.no_grad():
        acc = (model(x).argmax(1).numpy() == d["labels"]).mean()
    saved = json.loads((zoo.data_dir() / "planted" / "metrics.json").read_text())
    assert acc == pytest.approx(saved["test_accuracy"], abs=1e-9)
    assert acc >= 0.95
    # the cause is planted exactly: every class-1 image holds pattern A and pattern B, no class-0 image both
    both = d["mask_a"].any((1, 2)) & d["mask_b"].any((1, 2))
    assert np.array_equal(both, d["labels"] == 1)


def test_planted_grades_reproduce_and_order_methods():
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_planted
    torch.set_num_threads(1)
    model, d = _planted()
    pos = d["labels"] == 1
    x = torch.as_tensor(d["images"][pos], dtype=torch.float32).unsqueeze(1) / 255
    names = ("random", "gradient", "IG, black, 4 steps")    # the cheap rows; the rest are made the same way
    table = train_planted.grade_all(model, x, torch.as_tensor(d["mask_a"][pos]), torch.as_tensor(d["mask_b"][pos]),
                                    names)
    saved = json.loads((ROOT / "data" / "results" / "planted_grades.json").read_text())
    for name in names:                       # recomputed here = shipped table (float noise only)
        for k, v in table[name].items():
            assert v == pytest.approx(saved[name][k], abs=2e-3), (name, k)
    assert abs(saved["random"]["auroc"] - 0.5) < 0.05
    assert abs(saved["random"]["share"] - saved["random"]["area"]) < 0.03
    ig = saved["IG, black, 64 steps"]
    assert ig["auroc"] > 0.95 and ig["share"] > 0.7          # observed 1.00 and 0.84
    assert ig["weaker_share"] > 0.15                          # both shapes credited (observed 0.26)
    assert saved["gradient"]["auroc"] < 0.3                   # the signed gradient points away (observed 0.16)
    assert saved["|gradient| (unsigned)"]["auroc"] > 0.95     # ... though its magnitude finds the shapes
    assert saved["IG, uniform noise ×8, 32 steps"]["auroc"] < 0.1   # a baseline asking another question
