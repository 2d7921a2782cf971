"""A scalar toy f(x) as a two-class model, shared by the IG tests."""
import torch
from torch import nn


class Scalar(nn.Module):
    """Column 0 is f(x), column 1 is 0: IG with target=0 explains f's logit."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        y = self.f(x)
        return torch.stack([y, torch.zeros_like(y)], 1)
