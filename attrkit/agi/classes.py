"""Which false classes j an AGI explanation walks towards: the set S of Algorithm 2 (Pan, Li, Zhu, IJCAI 2021).

AGI(x) = Σ_{j∈S} AGI_ij(x), where i is the explained (true) class and S a subsample of the false classes j ≠ i.
The paper draws S at random; the authors' demo script (AGI_main.py ``test()``) uses evenly spaced ids and skips
the target; their quantitative script (AGI_quantitive.py) draws k ids once for the whole run and replaces a
target among them by the next id. All three are here, plus an explicit list and "all".
"""
from __future__ import annotations

import torch

SELECTIONS = ("random", "stride", "shared")


def stride_ids(num_classes: int, k: int) -> list[int]:
    """The reference script's evenly spaced ids, generalised to C classes: ``range(0, C - 1, C // k)``.

    For C = 1000 this is exactly AGI_main.py's ``range(0, 999, int(1000/k))``: k = 20 gives 0, 50, …, 950 and
    k = 15 gives 16 ids 0, 66, …, 990 (k does not divide 1000). Class C − 1 is never used, as in the reference.
    """
    return list(range(0, num_classes - 1, num_classes // k))


def false_classes(target: torch.Tensor, num_classes: int, classes=20, selection: str = "random",
                  seed: int = 0) -> torch.Tensor:
    """Algorithm 2's S for each input: an (N, K) long tensor of false classes, −1 marking an unused slot.

    ``target`` (N,) holds the explained class i of every input; j = i is never used.

    - ``classes=k``, ``selection="random"`` (the paper): k classes drawn uniformly without replacement from
      {0..C−1} without i. Input n draws with ``torch.Generator().manual_seed(seed + n)``, so its classes do not
      depend on the rest of the batch (run it alone with ``seed=seed + n`` to get the same draw). Sorted.
    - ``classes=k``, ``selection="stride"`` (AGI_main.py): :func:`stride_ids` with i skipped, so k or k − 1
      classes (k + 1 or k when k does not divide C). Inputs with fewer classes get −1 padding.
    - ``classes=k``, ``selection="shared"`` (AGI_quantitive.py): one draw of k ids from {0..C−2} (the script's
      ``random.sample(range(0, 999), k)`` for C = 1000), ``torch.Generator().manual_seed(seed)``, shared by
      every input; where an id equals an input's i it is replaced by i + 1 (so that input may walk to i + 1
      twice, as the script does). Always k classes, in draw order.
    - ``classes=[j, ...]``: those classes; i is skipped where listed (as AGI_main.py skips it).

    Which script does what with the target: AGI_main.py (``stride``) *skips* it (k − 1 walks for that input);
    AGI_quantitive.py (``shared``) *replaces* it by the next id (k walks); the paper's ``random`` never draws it.
    - ``classes="all"``: every class but i (C − 1 classes; for a two-class model this is the one adversarial
      path of the binary case).
    """
    n, c = target.shape[0], num_classes
    if isinstance(classes, str):
        if classes != "all":
            raise ValueError(f"classes must be an int k, a list of class ids or 'all', got {classes!r}")
        rows = [[j for j in range(c) if j != i] for i in target.tolist()]
    elif isinstance(classes, int) and not isinstance(classes, bool):
        if selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
        if classes < 1:
            raise ValueError(f"classes must be ≥ 1 (the number k of false classes to walk towards), got {classes}")
        if classes > c - 1:
            raise ValueError(f"classes={classes} is larger than the number of false classes: the model has {c} "
                             f"classes, so {c - 1} false class(es) per input. Use classes='all' or "
                             f"classes ≤ {c - 1}")
        if selection == "stride":
            ids = stride_ids(c, classes)
            rows = [[j for j in ids if j != i] for i in target.tolist()]
        elif selection == "shared":
            if classes > c - 1:
                raise ValueError(f"classes={classes} is more than the {c - 1} ids 0..{c - 2} the shared draw picks from")
            ids = torch.randperm(c - 1, generator=torch.Generator().manual_seed(_seed(seed)))[:classes].tolist()
            rows = [[j + 1 if j == i else j for j in ids] for i in target.tolist()]
        else:
            _seed(seed)
            rows = []
            for m, i in enumerate(target.tolist()):
                others = torch.tensor([j for j in range(c) if j != i])
                g = torch.Generator().manual_seed(seed + m)
                rows.append(sorted(others[torch.randperm(c - 1, generator=g)[:classes]].tolist()))
    else:
        rows = _explicit(classes, target, c)
    empty = [m for m, r in enumerate(rows) if not r]
    if empty:
        raise ValueError(f"no false class left for input {empty[0]} (target {int(target[empty[0]])}): "
                         f"classes={classes!r} with selection={selection!r} lists only the target. "
                         "Use selection='random', classes='all' or another list")
    width = max(len(r) for r in rows)
    return torch.tensor([r + [-1] * (width - len(r)) for r in rows], dtype=torch.long)


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int (or None for a fresh one), got {type(seed).__name__}")
    return seed


def _explicit(classes, target: torch.Tensor, c: int) -> list[list[int]]:
    """An explicit list of class ids, checked; the target is skipped per input."""
    try:
        ids = torch.as_tensor(classes)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"classes must be an int k, a list of class ids or 'all', got {type(classes).__name__}")
    if ids.is_floating_point() or ids.dtype == torch.bool or ids.dim() != 1 or ids.numel() == 0:
        raise TypeError("classes given as a list must be a non-empty 1-D list of integer class ids, "
                        f"got {classes!r}")
    ids = ids.tolist()
    bad = [j for j in ids if not 0 <= j < c]
    if bad:
        raise ValueError(f"classes has class id {bad[0]} out of range: the model has {c} classes (0..{c - 1})")
    if len(set(ids)) != len(ids):
        raise ValueError(f"classes lists a class twice ({classes!r}): each false class gives one trajectory")
    return [[j for j in ids if j != i] for i in target.tolist()]
