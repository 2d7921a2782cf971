"""The embedded zoo: small trained models and their data, offline, in one call.

    entry = attrkit.zoo.load("mnist")
    entry.model(entry.x_test[:8]).argmax(1), entry.y_test[:8]

Models: see `names()`. Data and weights ship inside the package (built from the repository's data/; see
:mod:`attrkit.zoo.files`, and the ATTRKIT_DATA environment variable to use another folder); loading only reads
them. In a checkout, `scripts/make_data.py` (data) and `scripts/train_zoo.py` (weights) rebuild them.
"""

import copy
import functools
import html
import re

import numpy as np
import torch

from .entry import ZooEntry
from .files import data_dir, missing, need, read_npz, read_weights
from .models import MLP, DigitsCNN, MnistCNN, TextCNN

DIGITS = [str(d) for d in range(10)]


# ---- the five entries: each returns the fields of a ZooEntry except model ---------------------------

def _split(x, y, is_test):
    t = torch.from_numpy(is_test)
    return dict(x_train=x[~t], y_train=y[~t], x_test=x[t], y_test=y[t])


def _mnist():
    a = read_npz("mnist5k.npz")
    need(a, "mnist5k.npz", "images", "labels", "is_test")
    x = torch.from_numpy(a["images"]).float().div(255).unsqueeze(1)  # uint8 0..255 -> [0, 1]
    return dict(_split(x, torch.from_numpy(a["labels"]), a["is_test"]), classes=DIGITS, bounds=(0.0, 1.0),
                description="CNN on MNIST-5k handwritten digits (4,000 train / 1,000 test)",
                input_space="pixels in [0, 1], shape (N, 1, 28, 28), 0 = black background")


def _digits():
    a = read_npz("digits.npz")
    need(a, "digits.npz", "images", "labels", "is_test")
    x = torch.from_numpy(a["images"]).float().div(16).unsqueeze(1)  # sklearn's 0..16 -> [0, 1]
    return dict(_split(x, torch.from_numpy(a["labels"]), a["is_test"]), classes=DIGITS, bounds=(0.0, 1.0),
                description="CNN on scikit-learn's 8x8 digits: the fastest model, for quick experiments",
                input_space="pixels in [0, 1] (= value / 16), shape (N, 1, 8, 8), 0 = background")


def _breast_cancer():
    a = read_npz("breast_cancer.npz")
    need(a, "breast_cancer.npz", "features", "labels", "is_test", "mean", "std", "feature_names",
          "class_names")
    mean, std = torch.from_numpy(a["mean"]), torch.from_numpy(a["std"])
    x = (torch.from_numpy(a["features"]) - mean) / std  # train-split statistics, stored in the file
    return dict(_split(x, torch.from_numpy(a["labels"]), a["is_test"]),
                classes=[str(c) for c in a["class_names"]], bounds=None,
                description="MLP on the Wisconsin breast cancer features (569 patients, 30 features)",
                input_space="standardised features (raw - mean) / std, train-split mean/std, shape (N, 30);"
                            " 0 = the average training patient",
                feature_names=[str(f) for f in a["feature_names"]], mean=mean, std=std,
                extras=["feature_names", "mean", "std"])


def _read_lexicon():
    path = data_dir() / "vader_lexicon.tsv"
    if not path.is_file():
        raise missing(path)
    lexicon = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:  # header: token, valence
        token, valence = line.split("\t")
        lexicon.setdefault(token.lower(), float(valence))  # our tokens are lowercase: ":D" -> ":d"
    return lexicon


def _tweets():
    a = read_npz("tweets.npz")
    need(a, "tweets.npz", "ids", "labels", "is_test", "texts", "vocab", "token_pattern", "class_names")
    vocab = [str(w) for w in a["vocab"]]
    index = {w: i for i, w in enumerate(vocab)}
    pattern = re.compile(str(a["token_pattern"]))  # the tokeniser that built the file, so they agree
    max_len = a["ids"].shape[1]

    def tokenize(text):
        return pattern.findall(html.unescape(text).lower())

    def encode(texts):
        """A text or a list of texts -> ids (N, L) long, L = the longest (at most max_len), 0-padded."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        rows = [[index.get(w, 1) for w in tokenize(t)][:max_len] for t in texts]  # 1 = <unk>
        ids = torch.zeros(len(rows), max([1, *map(len, rows)]), dtype=torch.long)  # 0 = <pad>
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        return ids

    def decode(ids):
        return [vocab[i] for i in torch.as_tensor(ids).reshape(-1).tolist() if i != 0]

    is_test = a["is_test"]
    texts = [str(t) for t in a["texts"]]
    return dict(_split(torch.from_numpy(a["ids"]), torch.from_numpy(a["labels"]), is_test),
                classes=[str(c) for c in a["class_names"]], bounds=None,
                description="TextCNN sentiment classifier on VADER's human-rated tweets",
                input_space=f"token ids (N, L) long, L <= {max_len}, 0 = <pad>, 1 = <unk>; "
                            "entry.encode(text) makes them",
                vocab=vocab, texts=[t for t, s in zip(texts, is_test) if s],
                texts_train=[t for t, s in zip(texts, is_test) if not s],
                tokenize=tokenize, encode=encode, decode=decode, lexicon=_read_lexicon(),
                extras=["vocab", "texts", "texts_train", "tokenize", "encode", "decode", "lexicon"])


# ---- the Clever Hans shortcut: a bright 3x3 patch whose place on the border gives away the class -----

MARKER_RATE = 0.99  # share of training images with their class's marker. At 0.9 the CNN still learned
# enough of the digits (clean test accuracy 0.82-0.86) to blur the lesson; at 0.99 it drops to 0.74.
MARKER_SEED = 1


def marker_mask(label):
    """Bool (1, 28, 28), True on class `label`'s marker: rows 0-2 for 0-4, rows 25-27 for 5-9.

    The columns step by 5 (1, 6, 11, 16, 21); MNIST digits sit in the central 20x20, so a marker never
    covers a stroke.
    """
    label = int(label)
    row, col = (0 if label < 5 else 25), 1 + 5 * (label % 5)
    mask = torch.zeros(1, 28, 28, dtype=torch.bool)
    mask[:, row:row + 3, col:col + 3] = True
    return mask


def add_marker(images, labels):
    """Copy of images (N, 1, 28, 28) with the marker of labels[i] set to 1.0 (white) in image i.

    Pass other labels than the true ones to plant a misleading marker.
    """
    masks = torch.stack([marker_mask(y) for y in torch.as_tensor(labels).reshape(-1).tolist()])
    return images.masked_fill(masks, 1.0)


def _mnist_shortcut():
    d = _mnist()
    rng = np.random.default_rng(MARKER_SEED)  # seeded: the same 99 % of images get a marker every time
    marked = torch.from_numpy(rng.random(len(d["y_train"])) < MARKER_RATE)
    d["x_train"] = torch.where(marked[:, None, None, None], add_marker(d["x_train"], d["y_train"]),
                               d["x_train"])
    d["x_test_clean"] = d["x_test"]
    d["x_test"] = add_marker(d["x_test"], d["y_test"])  # every test image carries its class's marker
    d["description"] = ("'Clever Hans' CNN: MNIST-5k where 99% of training images carry a 3x3 marker "
                        "whose position gives away the class")
    return dict(d, add_marker=add_marker, marker_mask=marker_mask,
                extras=["x_test_clean", "add_marker", "marker_mask"])


_ENTRIES = {  # name -> (data function, architecture)
    "mnist": (_mnist, MnistCNN),
    "digits": (_digits, DigitsCNN),
    "tweets": (_tweets, None),  # TextCNN's vocabulary size comes from the data
    "breast_cancer": (_breast_cancer, MLP),
    "mnist_shortcut": (_mnist_shortcut, MnistCNN),
}


def names():
    """The zoo's model names."""
    return list(_ENTRIES)


available = names


def build_model(name, fields=None):
    """The untrained architecture of zoo model `name` (random init: seed torch first for repeatability)."""
    if _check_name(name) == "tweets":
        fields = fields or _cached(name, str(data_dir()))
        return TextCNN(len(fields["vocab"]))
    return _ENTRIES[name][1]()


def _check_name(name):
    if name not in _ENTRIES:
        raise ValueError(f"unknown zoo model {name!r}; choose one of: {', '.join(names())}")
    return name


@functools.lru_cache(maxsize=None)
def _cached(name, folder):
    """Fields of the entry, read once per (name, data folder). Callers get copies, never these."""
    return _ENTRIES[name][0]()


@functools.lru_cache(maxsize=None)
def _cached_weights(name, folder):
    model = build_model(name, _cached(name, folder))
    read_weights(name, model)
    return model.state_dict()


def load(name, weights=True):
    """ZooEntry for zoo model `name`: trained model in eval mode plus its train/test data, offline.

    weights=False gives the same architecture with random weights (e.g. for the model-randomisation
    sanity check of Adebayo et al. 2018); seed torch first if you need it repeatable.
    Every call returns fresh copies, so changing the model or tensors never affects later loads.
    load("imagenet"): EfficientNet-Lite0 on real photos (attrkit.zoo.efficientnet; needs attrkit[imagenet]).
    """
    if name == "imagenet":  # weights from a registry package, photos from data/photos: see attrkit.zoo.efficientnet
        from .efficientnet import load_imagenet_entry
        return load_imagenet_entry(weights=weights)
    _check_name(name)
    folder = str(data_dir())
    fields = copy.deepcopy(_cached(name, folder))  # tensors are small (MNIST: 16 MB): copying is ms
    model = build_model(name, fields)
    if weights:
        model.load_state_dict(_cached_weights(name, folder))
    return ZooEntry(name=name, model=model.eval(), **fields)
