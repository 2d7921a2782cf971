"""Toy models from the IG paper (Sundararajan, Taly, Yan, ICML 2017), as small torch modules.

Convention: like every model in the kit, a toy returns (N, 2) class scores, here ``[-f(x), f(x)]``, and
``TARGET = 1`` explains f itself (column 0 is its mirror image, so a softmax over the two columns is
``sigmoid(2f)`` and AGI has an adversarial class to climb). Toys compute in float64 and accept float32 inputs.

    saturating()      f(x) = 1 − ReLU(1 − x)                        sensitivity(a), IG-paper §2.1
    relu_pair()       F, G: equal functions, different networks     implementation invariance, IG-paper §2.2
    product_plus()    f(x, y, z) = x·y + z                          symmetry, slides' example
    sin_dummy()       f(x1, x2) = sin(3·x1) + x1², x2 a dummy       sensitivity(b)/dummy, IG-paper §4.1
    random_net(...)   random MLPs (optionally with dummy inputs)    completeness, linearity
    symmetric_net()   f(x) = g(x) + g(x with x_i, x_j swapped)      symmetry on a real network
    reparameterised() a functionally equal copy of a random net     implementation invariance
    combine(f1, f2, a, b): one network computing a·f1 + b·f2        linearity

Toys built as ``Net`` (an ``nn.Sequential`` of Linear and activation modules) work with captum's DeepLift and
LRP; ``Function`` toys (products, sines) are plain formulas: no layers for LRP to attach rules to.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

TARGET = 1
DTYPE = torch.float64
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "softplus": nn.Softplus}


class Net(nn.Sequential):
    """A toy network: Linear and activation layers, the last Linear giving ``[-f, f]``; float64 inside."""

    def __init__(self, *layers: nn.Module, name: str = "net"):
        super().__init__(*layers)
        self.name = name
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.to(DTYPE))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class Function(nn.Module):
    """A toy given by a formula ``f(x) -> (N,)``; returns ``[-f, f]``."""

    def __init__(self, f: Callable[[torch.Tensor], torch.Tensor], n_features: int, name: str):
        super().__init__()
        self.f, self.n_features, self.name = f, n_features, name
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"{self.name} takes inputs of shape (N, {self.n_features}), got {tuple(x.shape)}")
        f = self.f(x.to(DTYPE))
        return torch.stack([-f, f], dim=1)

    def extra_repr(self) -> str:
        return f"{self.name}"


def _linear(weight, bias) -> nn.Linear:
    """An ``nn.Linear`` with the given weight (out, in) and bias (out,), in float64."""
    w = torch.as_tensor(weight, dtype=DTYPE)
    layer = nn.Linear(w.shape[1], w.shape[0], dtype=DTYPE)
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(torch.as_tensor(bias, dtype=DTYPE))
    return layer


def _mirror(weight, bias) -> nn.Linear:
    """The output layer: one row computing f = weight·h + bias, written as the two rows [-f, f]."""
    w, b = torch.as_tensor(weight, dtype=DTYPE).reshape(1, -1), torch.as_tensor(bias, dtype=DTYPE).reshape(1)
    return _linear(torch.cat([-w, w]), torch.cat([-b, b]))


def point(*values: float) -> torch.Tensor:
    """One input ``(1, d)`` in float64: ``point(3, 1)`` is the paper's x = (3, 1)."""
    return torch.tensor([list(values)], dtype=DTYPE)


def f_of(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The toy's scalar function f(x) = ``model(x)[:, TARGET]``, shape (N,)."""
    with torch.no_grad():
        return model(x)[:, TARGET]


# ---- the paper's toys --------------------------------------------------------------------------------

def saturating() -> Net:
    """f(x) = 1 − ReLU(1 − x) (IG-paper §2.1): f(0) = 0, f(2) = 1, but f′(2) = 0, so gradients give 0."""
    return Net(_linear([[-1.0]], [1.0]), nn.ReLU(), _mirror([-1.0], 1.0), name="1 − ReLU(1 − x)")


def relu_pair() -> tuple[Net, Net]:
    """The paper's F and G (IG-paper §2.2, appendix; ICML slides): equal functions, different networks.

    F(x1, x2) = ReLU(ReLU(x1) − 1 − ReLU(x2))      the bias −1 sits after the first ReLU
    G(x1, x2) = ReLU(ReLU(x1 − 1) − ReLU(x2))      the bias −1 sits before it
    At x = (3, 1), x′ = (0, 0): F = G = 1. IG gives (1.5, −0.5) for both; DeepLift (and the LRP the paper
    shows) give (1.5, −0.5) for F but (2, −1) for G.
    """
    eye = [[1.0, 0.0], [0.0, 1.0]]
    F = Net(_linear(eye, [0.0, 0.0]), nn.ReLU(), _linear([[1.0, -1.0]], [-1.0]), nn.ReLU(),
            _mirror([1.0], 0.0), name="F")
    G = Net(_linear(eye, [-1.0, 0.0]), nn.ReLU(), _linear([[1.0, -1.0]], [0.0]), nn.ReLU(),
            _mirror([1.0], 0.0), name="G")
    return F, G


def product_plus() -> Function:
    """f(x, y, z) = x·y + z (ICML slides): at (1, 1, 2) with x′ = 0, x and y are symmetric: IG = (0.5, 0.5, 2)."""
    return Function(lambda v: v[:, 0] * v[:, 1] + v[:, 2], 3, "x·y + z")


def sin_dummy() -> Function:
    """f(x1, x2) = sin(3·x1) + x1² (IG-paper §4.1 style): x2 is a dummy, it must get zero attribution."""
    return Function(lambda v: torch.sin(3 * v[:, 0]) + v[:, 0] ** 2 + 0 * v[:, 1], 2, "sin(3·x1) + x1²")


# ---- random networks for property checks ------------------------------------------------------------

def random_net(n_features: int = 4, hidden: tuple[int, ...] = (8,), activation: str = "relu", seed: int = 0,
               dummy: tuple[int, ...] = ()) -> Net:
    """A random MLP ``n_features → hidden… → [-f, f]``; inputs listed in ``dummy`` are disconnected (their
    first-layer weights are 0), so f does not depend on them."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    bad = [i for i in dummy if not 0 <= i < n_features]
    if bad:
        raise ValueError(f"dummy features {bad} out of range for {n_features} features")
    g = torch.Generator().manual_seed(seed)
    sizes, layers = (n_features, *hidden), []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = torch.randn(b, a, generator=g, dtype=DTYPE) / math.sqrt(a)
        if k == 0 and dummy:
            w[:, list(dummy)] = 0.0
        layers += [_linear(w, 0.5 * torch.randn(b, generator=g, dtype=DTYPE)), ACTIVATIONS[activation]()]
    h = sizes[-1]
    layers.append(_mirror(torch.randn(h, generator=g, dtype=DTYPE) / math.sqrt(h),
                          0.5 * torch.randn(1, generator=g, dtype=DTYPE)))
    name = f"random {activation} net {n_features}→{'→'.join(map(str, hidden))}→1 (seed {seed})"
    return Net(*layers, name=name + (f", dummy inputs {list(dummy)}" if dummy else ""))


def symmetric_net(n_features: int = 3, swap: tuple[int, int] = (0, 1), hidden: int = 6,
                  activation: str = "relu", seed: int = 0) -> Net:
    """f(x) = g(x) + g(Px) for a random one-hidden-layer net g and P the swap of inputs ``swap``: swapping
    those two inputs leaves f unchanged, as the symmetry axiom requires (IG-paper §4.2)."""
    i, j = swap
    if i == j or not (0 <= i < n_features and 0 <= j < n_features):
        raise ValueError(f"swap must name two different inputs among 0..{n_features - 1}, got {swap}")
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(hidden, n_features, generator=g, dtype=DTYPE) / math.sqrt(n_features)
    b = 0.5 * torch.randn(hidden, generator=g, dtype=DTYPE)
    wp = w.clone()
    wp[:, [i, j]] = w[:, [j, i]]
    v = torch.randn(hidden, generator=g, dtype=DTYPE) / math.sqrt(hidden)
    return Net(_linear(torch.cat([w, wp]), torch.cat([b, b])), ACTIVATIONS[activation](),
               _mirror(torch.cat([v, v]), 0.1), name=f"symmetric {activation} net, x{i} ↔ x{j} (seed {seed})")


def reparameterised(net: Net, seed: int = 1) -> Net:
    """A functionally equal copy of a one-hidden-layer ReLU ``random_net``: hidden units permuted and each
    scaled by c > 0 (ReLU(c·z) = c·ReLU(z), undone in the next layer). Same function, other network."""
    layers = list(net)
    if len(layers) != 3 or not isinstance(layers[1], nn.ReLU):
        raise ValueError("reparameterised needs a one-hidden-layer ReLU net, e.g. random_net(hidden=(8,))")
    first, last = layers[0], layers[2]
    g = torch.Generator().manual_seed(seed)
    h = first.out_features
    perm = torch.randperm(h, generator=g)
    c = torch.exp(torch.randn(h, generator=g, dtype=DTYPE))
    w1 = first.weight.detach()[perm] * c[:, None]
    b1 = first.bias.detach()[perm] * c
    w2 = last.weight.detach()[:, perm] / c[None, :]
    return Net(_linear(w1, b1), nn.ReLU(), _linear(w2, last.bias.detach()), name=net.name + ", reparameterised")


def combine(f1: Net, f2: Net, a: float, b: float) -> Net:
    """One network computing a·f1 + b·f2 (for linearity, IG-paper §4.1), built by placing the two
    networks side by side (block-diagonal weights) and mixing their outputs in the last Linear layer."""
    l1, l2 = list(f1), list(f2)
    if len(l1) != len(l2) or any(type(p) is not type(q) for p, q in zip(l1, l2)):
        raise ValueError("combine needs two Nets with the same layer types, e.g. two random_net(...) calls "
                         "with the same hidden sizes and activation")
    linears = [k for k, m in enumerate(l1) if isinstance(m, nn.Linear)]
    layers = []
    for k, (p, q) in enumerate(zip(l1, l2)):
        if not isinstance(p, nn.Linear):
            layers.append(type(p)())
            continue
        wp, wq, bp, bq = p.weight.detach(), q.weight.detach(), p.bias.detach(), q.bias.detach()
        first, last = k == linears[0], k == linears[-1]
        if first and last:                                                  # no hidden layer: just mix
            w, bias = a * wp + b * wq, a * bp + b * bq
        elif first:                                                         # both read the same input
            w, bias = torch.cat([wp, wq]), torch.cat([bp, bq])
        elif last:                                                          # mix the two outputs
            w, bias = torch.cat([a * wp, b * wq], dim=1), a * bp + b * bq
        else:                                                               # side by side
            w, bias = torch.block_diag(wp, wq), torch.cat([bp, bq])
        layers.append(_linear(w, bias))
    return Net(*layers, name=f"{a:g}·({f1.name}) + {b:g}·({f2.name})")


def max_difference(f: nn.Module, g: nn.Module, n_features: int, samples: int = 1000, scale: float = 4.0,
                   seed: int = 0) -> float:
    """max |f(x) − g(x)| over random inputs x ~ U(−scale, scale)^d (all output columns): 0 for equal functions."""
    x = (torch.rand(samples, n_features, generator=torch.Generator().manual_seed(seed), dtype=DTYPE) * 2 - 1)
    with torch.no_grad():
        return float((f(x * scale) - g(x * scale)).abs().max())
