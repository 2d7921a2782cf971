"""Reference answers of the code exercises that the library does not already provide, so that an exercise cell
can check a student's function without showing the answer (``check_function(mine, references.X, cases)``)."""
from __future__ import annotations

import torch


def completeness_gap(method, model, x, baseline, target: int = 1) -> torch.Tensor:
    """(Σ_i A_i − (F(x) − F(x′))) / |F(x) − F(x′)| per row: the completeness axiom as a number (IG paper,
    Prop. 1); ``method(model, x, target, baseline)`` returns the attributions A, F = ``model(·)[:, target]``."""
    attributions = method(model, x, target, baseline)
    with torch.no_grad():
        change = model(x)[:, target] - model(baseline)[:, target]
    return (attributions.reshape(len(x), -1).sum(1) - change) / change.abs()
