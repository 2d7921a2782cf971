"""attrkit.zoo: every model loads offline, is accurate, and bad data fails loudly, naming the file."""

import hashlib
import shutil
from pathlib import Path

import pytest
import torch

from attrkit import zoo

torch.set_num_threads(1)

MIN_ACC = {"mnist": 0.95, "digits": 0.97, "tweets": 0.82, "breast_cancer": 0.95, "mnist_shortcut": 0.95}
DATA = zoo.data_dir()


@torch.no_grad()
def accuracy(model, x, y):
    return (model(x).argmax(1) == y).float().mean().item()


def tree_hash(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def entries():
    return {n: zoo.load(n) for n in zoo.names()}


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ that ATTRKIT_DATA points at, for tests that break files."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    monkeypatch.setenv(zoo.DATA_ENV, str(copy))
    return copy


def test_names():
    assert set(zoo.names()) == set(MIN_ACC) and zoo.available() == zoo.names()


@pytest.mark.parametrize("name", list(MIN_ACC))
def test_model_loads_in_eval_mode_and_is_accurate(entries, name):
    e = entries[name]
    assert e.name == name and not any(m.training for m in e.model.modules())
    assert accuracy(e.model, e.x_test, e.y_test) >= MIN_ACC[name]
    assert e.y_train.dtype == e.y_test.dtype == torch.long
    assert len(e.x_train) == len(e.y_train) and len(e.x_test) == len(e.y_test)
    assert int(e.y_test.max()) < len(e.classes) and e.description and e.input_space
    assert name in repr(e) and name in e._repr_html_()


@pytest.mark.parametrize("name,shape", [("mnist", (1, 28, 28)), ("digits", (1, 8, 8)),
                                        ("mnist_shortcut", (1, 28, 28))])
def test_images_are_float_pixels_in_unit_interval(entries, name, shape):
    e = entries[name]
    for x in (e.x_train, e.x_test):
        assert x.dtype == torch.float32 and x.shape[1:] == shape
        assert x.min() >= 0 and x.max() <= 1
    assert e.bounds == (0.0, 1.0)


def test_split_sizes(entries):
    assert (len(entries["mnist"].x_train), len(entries["mnist"].x_test)) == (4000, 1000)
    assert torch.bincount(entries["mnist"].y_test).tolist() == [100] * 10  # stratified


def test_shortcut_model_relies_on_the_marker(entries):
    e = entries["mnist_shortcut"]
    marked = accuracy(e.model, e.x_test, e.y_test)
    clean = accuracy(e.model, e.x_test_clean, e.y_test)
    wrong = (e.y_test + 1) % 10
    follows = accuracy(e.model, e.add_marker(e.x_test_clean, wrong), wrong)
    assert marked >= 0.95 and clean <= marked - 0.2  # measured: 1.000 vs 0.739
    assert follows >= 0.5                             # measured: 0.735 follow a misleading marker


def test_marker_helpers(entries):
    e = entries["mnist_shortcut"]
    masks = torch.stack([e.marker_mask(c) for c in range(10)])
    assert masks.shape == (10, 1, 28, 28) and (masks.sum((1, 2, 3)) == 9).all()
    assert masks.sum(0).max() == 1  # ten disjoint places
    x = e.x_test_clean[:5].clone()
    marked = e.add_marker(x, e.y_test[:5])
    assert torch.equal(x, e.x_test_clean[:5])  # input untouched
    assert torch.equal(marked, e.x_test[:5])
    for i in range(5):
        m = e.marker_mask(e.y_test[i])
        assert (marked[i][m] == 1).all() and torch.equal(marked[i][~m], x[i][~m])
    # about 99 % of the training images carry their marker
    has = torch.stack([(x[e.marker_mask(y)] == 1).all() for x, y in zip(e.x_train, e.y_train)])
    assert 0.98 < has.float().mean() < 1.0


def test_tweets_extras(entries):
    e = entries["tweets"]
    assert e.x_test.dtype == torch.long and e.vocab[:2] == ["<pad>", "<unk>"]
    assert len(e.texts) == len(e.x_test) and len(e.texts_train) == len(e.x_train)
    ids = e.encode(e.texts)  # the zoo's tokeniser reproduces the stored ids
    L = ids.shape[1]
    assert torch.equal(ids, e.x_test[:, :L]) and (e.x_test[:, L:] == 0).all()
    one = e.encode("I love this :) !")
    assert one.shape == (1, 5) and e.decode(one[0]) == ["i", "love", "this", ":)", "!"]
    assert e.decode(e.encode("zzqx love")[0]) == ["<unk>", "love"]
    assert e.lexicon["love"] > 2 and e.lexicon["hate"] < -2 and e.lexicon[":)"] > 0
    probs = e.model(e.encode(["I love it, great day", "awful, I hate this"])).softmax(1)
    assert probs[0, 1] > 0.5 and probs[1, 0] > 0.5


def test_tweets_mask_comes_from_ids_not_embeddings(entries):
    """Embedding IG swaps the embedding output for path points; the pad mask must stay the input's."""
    model, x = entries["tweets"].model, entries["tweets"].x_test[:4]
    emb = model.embedding(x)
    with torch.no_grad():
        assert torch.allclose(model(x), model.forward_embedded(emb, x != 0))
        scaled = 0.3 * emb  # a point on the straight path from the zero embedding
        hook = model.embedding.register_forward_hook(lambda m, i, out: 0.3 * out)
        try:
            via_hook = model(x)
        finally:
            hook.remove()
        assert torch.allclose(via_hook, model.forward_embedded(scaled, x != 0))


def test_breast_cancer_extras(entries):
    e = entries["breast_cancer"]
    assert e.x_train.shape[1] == 30 == len(e.feature_names) and e.bounds is None
    assert e.classes == ["malignant", "benign"] and "mean radius" in e.feature_names
    assert torch.allclose(e.x_train.mean(0), torch.zeros(30), atol=1e-4)  # standardised on train
    assert torch.allclose(e.x_train.std(0, unbiased=False), torch.ones(30), atol=1e-3)
    raw = e.x_test * e.std + e.mean
    assert (raw[:, 0] > 5).all()  # mean radius in the original units


def test_load_returns_fresh_copies():
    a = zoo.load("digits")
    with torch.no_grad():
        for p in a.model.parameters():
            p.zero_()
    a.x_test.zero_()
    b = zoo.load("digits")
    assert b.x_test.max() == 1 and accuracy(b.model, b.x_test, b.y_test) >= 0.97


def test_random_weights_option():
    torch.manual_seed(0)
    e = zoo.load("digits", weights=False)
    assert not any(m.training for m in e.model.modules())
    assert accuracy(e.model, e.x_test, e.y_test) < 0.5


def test_loading_never_writes_data():
    before = tree_hash(DATA)
    zoo.entries._cached.cache_clear()
    zoo.entries._cached_weights.cache_clear()
    for n in zoo.names():
        zoo.load(n)
    assert tree_hash(DATA) == before


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown zoo model 'resnet'.*mnist, digits"):
        zoo.load("resnet")


def test_missing_data_file_names_file_and_fix(data_copy):
    (data_copy / "digits.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"digits\.npz.*make_data\.py"):
        zoo.load("digits")


def test_corrupt_data_file(data_copy):
    (data_copy / "digits.npz").write_bytes(b"not a zip file")
    with pytest.raises(RuntimeError, match=r"digits\.npz.*make_data\.py"):
        zoo.load("digits")


def test_missing_weights_file(data_copy):
    (data_copy / "weights" / "digits.pt").unlink()
    with pytest.raises(FileNotFoundError, match=r"digits\.pt.*train_zoo\.py digits"):
        zoo.load("digits")


def test_corrupt_weights_file(data_copy):
    (data_copy / "weights" / "digits.pt").write_bytes(b"\x00garbage")
    with pytest.raises(RuntimeError, match=r"digits\.pt.*train_zoo\.py digits"):
        zoo.load("digits")


def test_mismatched_weights(data_copy):
    shutil.copy(data_copy / "weights" / "breast_cancer.pt", data_copy / "weights" / "digits.pt")
    with pytest.raises(RuntimeError, match=r"digits\.pt do not fit the DigitsCNN"):
        zoo.load("digits")


def test_weights_loaded_with_weights_only(data_copy, monkeypatch):
    seen = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: seen.append(k) or real(*a, **k))
    zoo.load("breast_cancer")
    assert seen and all(k.get("weights_only") is True for k in seen)
