"""Rebuild ``assets/photos/`` from scikit-image's wheel: ten of its sample photographs whose licences allow
redistribution (CC0 or public domain), each shrunk to at most 256 px on its long side (colour kept where the original
has it), saved as PNG, with ``photos.json`` (name, title, file, size, mode, sha256) and ``LICENSE.md``.

The wheel is read as a ZIP (it is never installed: cnnviz does not depend on scikit-image). Pillow only.

    python scripts/build_photos.py /path/to/scikit_image-0.26.0-*.whl
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "assets" / "photos"
LONG_SIDE = 256

# name: (file in skimage/data, title, what it shows, author / source, licence): the licence as scikit-image's
# skimage/data/_fetchers.py states it for that image.
PHOTOS = {
    "astronaut": ("astronaut.png", "Astronaut", "a person: Eileen Collins, NASA portrait",
                  "NASA (Great Images database)", "public domain (no known copyright restrictions)"),
    "camera": ("camera.png", "Cameraman", "a person with a camera on a tripod; strong edges",
               "Lav Varshney", "CC0"),
    "cat": ("chelsea.png", "Cat", "an animal: Chelsea the cat", "Stefan van der Walt", "CC0"),
    "horse": ("horse.png", "Horse", "an animal: a horse's silhouette (a drawing)",
              "Andreas Preuss (marauder), openclipart", "CC0"),
    "coffee": ("coffee.png", "Coffee", "an object: a cup of coffee on a wooden table",
               "Rachel Michetti (Pikolo Espresso Bar)", "CC0"),
    "coins": ("coins.png", "Coins", "objects: Greek coins from Pompeii",
              "Brooklyn Museum Collection", "no known copyright restrictions"),
    "text": ("text.png", "Text", "text: letters and corners",
             "Wikipedia (File:Corner.png)", "public domain (no known copyright restrictions)"),
    "rocket": ("rocket.jpg", "Rocket", "a scene with strong edges: Falcon 9 launching DSCOVR",
               "SpaceX", "public domain (released by SpaceX)"),
    "brick": ("brick.png", "Brick wall", "a texture of straight edges: a brick wall",
              "CC0Textures (Bricks25)", "CC0"),
    "hubble": ("hubble_deep_field.jpg", "Hubble deep field", "a scene of small bright spots: galaxies",
               "NASA / Hubble (HubbleSite)", "public domain (NASA media guidelines)"),
}


def shrink(img: Image.Image) -> Image.Image:
    """RGB stays RGB, grey stays L; an alpha channel is flattened onto white; the long side at most LONG_SIDE."""
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
        rgb = img.convert("RGB")
        r, g, b = rgb.split()
        img = rgb.convert("L") if r.tobytes() == g.tobytes() == b.tobytes() else rgb
    elif img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    w, h = img.size
    scale = LONG_SIDE / max(w, h)
    if scale < 1:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    return img


def build(wheel: Path, out: Path = OUT) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    with zipfile.ZipFile(wheel) as z:
        for name, (src, title, shows, author, licence) in PHOTOS.items():
            img = shrink(Image.open(io.BytesIO(z.read(f"skimage/data/{src}"))))
            buf = io.BytesIO()
            img.save(buf, format="PNG", optimize=True)
            data = buf.getvalue()
            (out / f"{name}.png").write_bytes(data)
            manifest.append(dict(name=name, title=title, file=f"{name}.png", size=list(img.size), mode=img.mode,
                                 sha256=hashlib.sha256(data).hexdigest(), shows=shows, source=src, author=author,
                                 licence=licence))
    (out / "photos.json").write_text(json.dumps(manifest, indent=1) + "\n")
    rows = "\n".join(f"| `{m['file']}` | {m['shows']} | `skimage/data/{m['source']}` | {m['author']} | {m['licence']} |"
                     for m in manifest)
    (out / "LICENSE.md").write_text(
        "# Photographs\n\nTaken from scikit-image 0.26.0's sample data (`skimage/data/`, the wheel read as a ZIP by "
        "`scripts/build_photos.py`), shrunk to at most 256 px on the long side and saved as PNG. Only images whose "
        "licence, as scikit-image documents it in `skimage/data/_fetchers.py`, allows redistribution: CC0 or public "
        "domain (no known copyright restrictions). scikit-image itself is BSD-3-Clause (© 2009-2022 the "
        "scikit-image team).\n\n| file | shows | source | author | licence |\n| --- | --- | --- | --- | --- |\n"
        + rows + "\n")
    return manifest


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="scikit_image-*.whl (read as a ZIP; not installed)")
    args = ap.parse_args()
    for m in build(args.wheel):
        print(f"{m['file']:14s} {m['mode']:3s} {m['size'][0]}×{m['size'][1]}  {m['sha256'][:12]}")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{total / 1024:.0f} KiB in {OUT}")
