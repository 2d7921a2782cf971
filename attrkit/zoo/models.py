"""The zoo's architectures: small, readable nn.Modules that train in seconds on a CPU.

Conventions that attribution code relies on:
- Image models take pixels in [0, 1], shape (N, 1, H, W). Black is 0, so the all-black baseline of the IG
  paper (Sundararajan et al. 2017, Sec. 3) is `torch.zeros_like(x)`, and clamping to [0, 1] (AGI's
  projection, Pan et al. 2021, Alg. 1) keeps inputs valid. Any normalisation belongs inside the model.
- The text model takes token ids (N, L) and exposes `model.embedding`, so IG can run its straight-line path in
  embedding space (ids are discrete: there is no path between two ids).
- Every model returns logits (N, classes); attribution targets are logits or softmax of logits.
"""

import torch
from torch import nn


class MnistCNN(nn.Module):
    """conv16-pool-conv32-pool-fc64-fc10 for 28x28 digits (also the `mnist_shortcut` model)."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class DigitsCNN(nn.Module):
    """conv16-conv32-pool-fc64-fc10 for sklearn's 8x8 digits (pixels value/16 in [0, 1]): the fastest model."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 4 x 4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class TextCNN(nn.Module):
    """Embedding(V, 32) -> Conv1d(64, k=3) -> ReLU -> max over real tokens -> Linear(2). Input: ids (N, L).

    The padding mask is computed from the ids (pad id 0), never from the embeddings. So when IG replaces the
    embedding output by points on a path (e.g. with a forward hook on `model.embedding`, as captum's
    LayerIntegratedGradients does), every point on the path uses the same mask as the input itself.
    """

    def __init__(self, vocab_size, embed_dim=32, channels=64, n_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.conv = nn.Conv1d(embed_dim, channels, kernel_size=3, padding=1)
        self.fc = nn.Linear(channels, n_classes)

    def forward(self, ids):
        return self.forward_embedded(self.embedding(ids), mask=ids != 0)

    def forward_embedded(self, emb, mask):
        """Logits from embeddings emb (N, L, D) and a bool mask (N, L) of real (non-pad) tokens."""
        h = torch.relu(self.conv(emb.transpose(1, 2)))  # (N, channels, L)
        # After ReLU every value is >= 0, so setting pad positions to 0 leaves the max over real tokens
        # unchanged; unlike -inf it never produces NaN (or NaN gradients) for an all-pad row.
        h = h.masked_fill(~mask[:, None, :], 0.0)
        return self.fc(h.amax(dim=2))


class MLP(nn.Module):
    """30-32-32-2 for breast cancer. Input: *standardised* features ((raw - mean) / std, train statistics).

    Standardised input means the zero baseline is "the average training patient", a baseline with a meaning.
    """

    def __init__(self, n_features=30, hidden=32, n_classes=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)
