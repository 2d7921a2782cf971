"""The IG explorer for text: Integrated Gradients over token embeddings, one node at a time.

Token ids have no straight line between them, so the path runs in the output space of the embedding layer
(``integrated_gradients(..., layer=model.embedding)``): from the baseline's embeddings E′ to the tokens'
embeddings E, γ(α) = E′ + α (E − E′) (IG paper, Eq. 1, in embedding space). At node α_k the explorer shows

- every token coloured by its running attribution (E − E′)·Σ_{l≤k} w_l ∇F(γ(α_l)), summed over the embedding
  dimensions, on one colour scale for the whole path (the final attributions' largest |value|);
- the word of the vocabulary nearest to each token's path point γ(α_k) (when the layer is an ``nn.Embedding``):
  what the model is reading at that node, usually no sentence at all halfway along;
- the sum so far against α, beside F(γ(α)) − F(x′) and F(x) − F(x′) (the IG explorer's plot).

Slider moves read the stored trace; steps, rule, output, target and baseline changes run IG again.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from ..viz.features import text_html
from ..viz.images import as_array
from .ig import IGExplorer


class TextIGExplorer(IGExplorer):
    """α-scrubber for IG over token embeddings: the IG explorer's controls, readout and α plot, with text
    panels in place of pictures.

    ``model``: a classifier taking token ids (1, L) → (1, C) scores, in eval mode; ``ids``: one text's ids, (L,)
    or (1, L); ``layer``: the module whose output (1, L, E) the path runs in (e.g. ``model.embedding``);
    ``vocab``: the word of every id (a list or dict, e.g. ``tweets.vocab``; default: the ids as text);
    ``baseline``: a menu name, or your menu {name: anything ``integrated_gradients`` takes as baseline with
    ``layer=``} (default: the all-zero embedding, and PAD = id 0 at every position); ``class_names``: labels for the target
    menu. Controls as :class:`~attrkit.widgets.ig.IGExplorer`; ``tokens_html``/``nearest_html`` are the two
    text rows.
    """

    css = "attrkit-text-ig"
    title = ("<b>Integrated Gradients over token embeddings, one node at a time</b> (IG paper Eq. 3; the path "
             "runs from the baseline's embeddings to the tokens')")

    def __init__(self, model, ids, layer, vocab=None, target=None, baseline=None, steps: int = 32,
                 method: str = "gausslegendre", output: str = "logit", class_names=None, **old):
        if not isinstance(layer, nn.Module):
            raise TypeError(f"layer must be the model's embedding module (e.g. model.embedding), got "
                            f"{type(layer).__name__}")
        self.layer = layer
        self.words = lambda row: [word(vocab, int(i)) for i in row]
        super().__init__(model, ids, target=target, baseline=baseline, steps=steps, method=method, output=output,
                         class_names=class_names, **old)

    def _one_input(self, model, ids):
        if not isinstance(ids, torch.Tensor) or ids.is_floating_point() or ids.dim() not in (1, 2) or \
                (ids.dim() == 2 and ids.shape[0] != 1):
            raise TypeError("ids must be one text's token ids: an integer tensor of shape (L,) or (1, L), e.g. "
                            "tweets.encode(text)")
        ids = ids.view(1, -1)
        self.tokens = self.words(ids[0])
        return ids

    def _default_menu(self) -> dict:
        return {"zero embedding": None, "PAD ids (0)": torch.zeros_like(self.x)}

    def _panels(self) -> list:
        self.tokens_html, self.nearest_html = widgets.HTML(), widgets.HTML()
        return [self.tokens_html, self.nearest_html, self.plot.image]

    def _run(self):
        res = super()._run(layer=self.layer, baseline_in="layer")  # the menu's None is the zero embedding
        if res.attributions.dim() != 3 or res.attributions.shape[1] != len(self.tokens):
            raise ValueError(f"layer's output has shape {tuple(res.attributions.shape)}; the text explorer "
                             f"needs one row per token, (1, {len(self.tokens)}, E): pass the embedding layer")
        return res

    def _store_panels(self, res):
        self.per_token = as_array(res.trace.running[0].sum(-1))              # (m, L): running, per token
        self.limit = float(np.abs(self.per_token[-1]).max(initial=0.0)) or 1.0
        self.nearest = nearest_tokens(self.layer, res.path_points()[0], self.words)   # m lists of L words

    def _draw_panels(self, k: int, alpha: float):
        self.tokens_html.value = text_html(self.tokens, self.per_token[k], max_abs=self.limit,
                                           title=f"running attribution per token, after node {k + 1}")
        if self.nearest is None:
            self.nearest_html.value = ("<div style='font-size:small;color:var(--jp-content-font-color2, #4d4d4d)'>(nearest words: only when the "
                                       "layer is an nn.Embedding)</div>")
            return
        words = " ".join(f"<span style='border:1px solid #bbb;border-radius:3px;padding:1px 3px;margin:1px'>"
                         f"{html.escape(w)}</span>" for w in self.nearest[k])
        self.nearest_html.value = (f"<div style='line-height:2'><b>nearest words to γ(α = {alpha:.3f})</b>: "
                                   f"{words}</div>")


def word(vocab, i: int) -> str:
    """The word of id ``i`` in ``vocab`` (list or dict), or the id as text."""
    try:
        return str(vocab[i]) if vocab is not None else str(i)
    except (IndexError, KeyError):
        return str(i)


def nearest_tokens(layer, points: torch.Tensor, words) -> list | None:
    """For path points (m, L, E) in an ``nn.Embedding``'s space, the nearest row of its table (L2) as words
    (``words``: ids (L,) → L strings): m lists of L strings. None for any other layer (no vocabulary to search)."""
    if not isinstance(layer, nn.Embedding):
        return None
    table = layer.weight.detach().to(points.dtype)
    ids = torch.cdist(points.detach().reshape(-1, points.shape[-1]), table).argmin(1).view(points.shape[:2])
    return [words(row) for row in ids]
