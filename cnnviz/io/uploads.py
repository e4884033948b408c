"""The user's own images: a ZIP with one folder per class, checked before anything is decoded.

Refused, each with its own message: not a ZIP, too big, too many files, absolute paths or '..' (path
traversal), files that are not images (by extension and by content), images with too many pixels
(decompression bombs: the size is read from the header before decoding), highly compressed members,
fewer than 2 classes, or too few images in a class. Nothing is ever extracted to disk."""
from __future__ import annotations

import io
import posixpath
import zipfile

import numpy as np
import torch
from PIL import Image

from cnnviz.io.data import Dataset
from cnnviz.errors import ConfigError

IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF", ".webp": "WEBP"}
MAX_ZIP_BYTES = 20 * 2 ** 20
MAX_TOTAL_BYTES = 200 * 2 ** 20    # uncompressed
MAX_FILES = 5000
MAX_PIXELS = 4096 * 4096           # per image, checked before decoding
MAX_RATIO = 200                    # uncompressed / compressed size of one member
MIN_PER_CLASS = 4
MAX_CLASSES = 20
IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


def _refuse(message: str):
    raise ConfigError("zip", message)


def _safe_name(name: str) -> str:
    """The member's path, or ConfigError when it is absolute or climbs out with '..'."""
    if name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        _refuse(f"{name!r} is an absolute path; refused (path traversal)")
    parts = name.split("/")
    if ".." in parts:
        _refuse(f"{name!r} contains '..' and would point outside the archive; refused (path traversal)")
    return posixpath.normpath(name)


def _members(zf: zipfile.ZipFile, max_total: int) -> list[tuple[str, str, zipfile.ZipInfo]]:
    """(class name, file name, info) for every image; checks names, types, sizes and compression ratios."""
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        _refuse(f"has {len(infos):,} entries; at most {MAX_FILES:,} are allowed")
    files, total = [], 0
    for info in infos:
        name = _safe_name(info.filename)
        if info.is_dir() or any(part in name for part in IGNORED) or posixpath.basename(name).startswith("."):
            continue
        ext = posixpath.splitext(name)[1].lower()
        if ext not in IMAGE_TYPES:
            _refuse(f"{name!r} is not an image; allowed types: {', '.join(sorted(IMAGE_TYPES))}")
        total += info.file_size
        if total > max_total:
            _refuse(f"unpacks to more than {max_total / 2 ** 20:.0f} MiB; refused")
        if info.compress_size and info.file_size > 2 ** 20 and info.file_size / info.compress_size > MAX_RATIO:
            _refuse(f"{name!r} is compressed {info.file_size / info.compress_size:.0f}:1 — a decompression "
                    "bomb? refused")
        files.append((name, info))
    if not files:
        _refuse("contains no images; put one folder per class, each with its images")
    # one folder per class, optionally inside one common top folder
    parts = [n.split("/") for n, _ in files]
    if all(len(p) >= 3 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    if any(len(p) != 2 for p in parts):
        bad = next("/".join(p) for p in parts if len(p) != 2)
        _refuse(f"{bad!r} is not inside a class folder; use one folder per class: cats/1.png, dogs/1.png")
    return [(p[0], p[1], info) for p, (_, info) in zip(parts, files)]


def _decode(data: bytes, name: str, ext: str, size: int) -> np.ndarray:
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:
        _refuse(f"{name!r} claims more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels: a decompression bomb; refused")
    except Exception:
        _refuse(f"{name!r} is not a readable image")
    if img.format != IMAGE_TYPES[ext] and not (ext in (".jpg", ".jpeg") and img.format == "MPO"):
        _refuse(f"{name!r} says {ext} but holds {img.format or 'something else'}")
    w, h = img.size
    if w * h > MAX_PIXELS:
        _refuse(f"{name!r} is {w}×{h} pixels, more than {MAX_PIXELS:,}: a decompression bomb? refused")
    try:
        img = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    except (OSError, Image.DecompressionBombError, ValueError) as e:
        _refuse(f"{name!r} could not be decoded ({e})")
    return np.asarray(img, dtype=np.float32) / 255.0  # (S, S, 3)


def load_zip(data: bytes, size: int = 32, seed: int = 0, max_bytes: int = MAX_ZIP_BYTES,
             max_total: int = MAX_TOTAL_BYTES, val_fraction: float = 0.2) -> Dataset:
    """A :class:`Dataset` of ``size × size`` RGB images from a ZIP of class folders; classes in name order,
    a stratified seeded split (every class has at least one validation image)."""
    if len(data) > max_bytes:
        _refuse(f"is {len(data) / 2 ** 20:.1f} MiB; at most {max_bytes / 2 ** 20:.0f} MiB is allowed")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        _refuse("is not a ZIP file")
    with zf:
        members = _members(zf, max_total)
        classes = sorted({c for c, _, _ in members})
        counts = {c: sum(1 for m in members if m[0] == c) for c in classes}
        if len(classes) < 2:
            _refuse(f"has only one class folder ({classes[0]!r}); at least 2 are needed")
        if len(classes) > MAX_CLASSES:
            _refuse(f"has {len(classes)} class folders; at most {MAX_CLASSES} are allowed")
        few = [f"{c} ({n})" for c, n in counts.items() if n < MIN_PER_CLASS]
        if few:
            _refuse(f"needs at least {MIN_PER_CLASS} images per class; too few in: {', '.join(few)}")
        xs, ys = [], []
        for cls, fname, info in members:
            with zf.open(info) as f:
                blob = f.read(info.file_size + 1)
            if len(blob) > info.file_size:
                _refuse(f"{cls}/{fname!r} is larger than its header says; refused")
            xs.append(_decode(blob, f"{cls}/{fname}", posixpath.splitext(fname)[1].lower(), size))
            ys.append(classes.index(cls))
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()  # (N, 3, S, S)
    y = torch.tensor(ys, dtype=torch.int64)
    return stratified_split(x, y, classes, seed, val_fraction)


def stratified_split(x, y, classes, seed: int = 0, val_fraction: float = 0.2) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    val, train = [], []
    for c in range(len(classes)):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = max(1, int(round(len(idx) * val_fraction)))
        val.append(idx[:k]), train.append(idx[k:])
    val, train = torch.cat(val), torch.cat(train)
    return Dataset(x[train], y[train], x[val], y[val], tuple(classes))
