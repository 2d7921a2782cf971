"""Collect every natural photo available offline into data/photos/ with a manifest (run once; outputs committed).

Sources are files bundled in PyPI packages; nothing here touches the network:

    pip install scikit-image scikit-learn matplotlib pillow     # not attrkit's runtime dependencies
    pip download --no-deps --only-binary :all: --python-version 3.11 scipy==1.9.3 -d /tmp/dl   # face.dat
    python scripts/make_photos.py --scipy-wheel /tmp/dl/scipy-1.9.3-cp311-*.whl

Writes data/photos/<name>.jpg (shorter side 299 px, inception_v3's input, as the four photos made by
scripts/make_data.py, whose files and names this keeps byte-identical; centre crops are taken at load time) and
data/photos/photos.json: per photo its source, licence, and the ImageNet classes a person would accept for it
(our judgement, made before looking at any model; [] where ImageNet-1k has no class for the subject).
Without --scipy-wheel the raccoon is skipped. attrkit itself is not imported.
"""

import argparse
import bz2
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parent.parent / "data"
SHORT_SIDE, MAX_BYTES = 299, 40 * 1024


def skimage_photo(name):
    import skimage.data
    return lambda: getattr(skimage.data, name)()


def sklearn_photo(filename):
    def load():
        from sklearn.datasets import load_sample_image
        return load_sample_image(filename)
    return load


def matplotlib_photo(filename):
    def load():
        import matplotlib.cbook
        with matplotlib.cbook.get_sample_data(filename) as f:
            return np.asarray(Image.open(f).convert("RGB"))
    return load


def scipy_face(wheel):
    def load():  # scipy.misc.face() of scipy <= 1.9: raw uint8 bytes, bz2-compressed, no pickle
        with zipfile.ZipFile(wheel) as z:
            raw = bz2.decompress(z.read("scipy/misc/face.dat"))
        return np.frombuffer(raw, dtype=np.uint8).reshape(768, 1024, 3)
    return load


# name -> (loader, source, licence, ImageNet classes a person would accept). Class names as in torchvision's
# ImageNet metadata. The first four are the photos scripts/make_data.py already ships.
PHOTOS = {
    "chelsea": (skimage_photo("chelsea"), "scikit-image skimage.data.chelsea() (Stefan van der Walt)", "CC0",
                ["tabby", "tiger cat", "Egyptian cat"]),
    "coffee": (skimage_photo("coffee"), "scikit-image skimage.data.coffee() (Rachel Michetti, courtesy of "
               "Pikolo Espresso Bar)", "CC0", ["espresso", "cup", "coffee mug"]),
    "rocket": (skimage_photo("rocket"), "scikit-image skimage.data.rocket() (SpaceX: launch of DSCOVR on "
               "Falcon 9)", "public domain", ["missile", "projectile", "space shuttle"]),
    "astronaut": (skimage_photo("astronaut"), "scikit-image skimage.data.astronaut() (NASA, Eileen Collins)",
                  "public domain", []),
    "camera": (skimage_photo("camera"), "scikit-image skimage.data.camera() (greyscale; Lav Varshney)", "CC0",
               ["tripod", "reflex camera", "Polaroid camera"]),
    "clock": (skimage_photo("clock"), "scikit-image skimage.data.clock() (greyscale, motion-blurred; "
              "Stefan van der Walt)", "public domain", ["wall clock", "analog clock"]),
    "motorcycle": (lambda: skimage_photo("stereo_motorcycle")()[0], "scikit-image "
                   "skimage.data.stereo_motorcycle() left view (Middlebury 2014 stereo data set, D. Scharstein "
                   "et al.)", "no licence stated by scikit-image; Middlebury data, cite Scharstein et al. 2014",
                   ["moped", "motor scooter"]),
    "brick": (skimage_photo("brick"), "scikit-image skimage.data.brick() (greyscale brick wall; "
              "Stefan van der Walt)", "CC0", ["stone wall"]),
    "china": (sklearn_photo("china.jpg"), "scikit-learn load_sample_image('china.jpg') (Flickr user "
              "danielbuechele)", "CC BY 2.0", ["palace", "monastery", "stupa", "bell cote", "church", "dome"]),
    "flower": (sklearn_photo("flower.jpg"), "scikit-learn load_sample_image('flower.jpg'), a dahlia (Flickr "
               "user vultilion)", "CC BY 2.0", ["daisy"]),
    "hopper": (matplotlib_photo("grace_hopper.jpg"), "matplotlib cbook.get_sample_data('grace_hopper.jpg') "
               "(US Navy portrait of Grace Hopper)", "public domain",
               ["military uniform", "Windsor tie", "bow tie", "suit"]),
    "raccoon": (None, "scipy 1.9.3 wheel, scipy/misc/face.dat (scipy.misc.face(); from "
                "public-domain-image.com)", "public domain (scipy: BSD-3-Clause)", []),
}


def save(name, array):
    img = Image.fromarray(np.asarray(array)).convert("RGB")
    w, h = img.size
    s = SHORT_SIDE / min(w, h)
    img = img.resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)  # as scripts/make_data.py
    path = DATA / "photos" / f"{name}.jpg"
    for quality in (85, 80, 75, 70, 65, 60):  # the first quality that fits MAX_BYTES
        img.save(path, quality=quality, optimize=True)
        if path.stat().st_size <= MAX_BYTES:
            return img.size, quality, path.stat().st_size
    raise SystemExit(f"{path}: over {MAX_BYTES} bytes even at quality 60")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scipy-wheel", help="scipy 1.9.3 wheel (holds scipy/misc/face.dat)")
    a = p.parse_args()
    (DATA / "photos").mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, (load, source, licence, accepted) in PHOTOS.items():
        if name == "raccoon":
            if not a.scipy_wheel:
                print("raccoon skipped: pass --scipy-wheel")
                continue
            load = scipy_face(a.scipy_wheel)
        size, quality, nbytes = save(name, load())
        manifest.append(dict(name=name, file=f"{name}.jpg", source=source, licence=licence,
                             accepted_classes=accepted, width=size[0], height=size[1], jpeg_quality=quality))
        print(f"data/photos/{name}.jpg: {size[0]}x{size[1]}, quality {quality}, {nbytes / 1024:.0f} KB")
    path = DATA / "photos" / "photos.json"
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: {len(manifest)} photos")


if __name__ == "__main__":
    main()
