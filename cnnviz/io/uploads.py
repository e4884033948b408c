"""The user's own uploads, checked on what they declare before anything is decoded: a ZIP of images (one
folder per class) for the Training Lab, and PyTorch checkpoints (``torch.save``'s ZIP archive).

ZIPs are refused, each with its own message: not a ZIP, too big, too many files, absolute paths or '..'
(path traversal), files that are not images (by extension and by content), members that unpack to too much
or are compressed too highly, images with too many pixels, more pixels over the whole ZIP than the decoding
budget (all from the headers, before one pixel is decoded), a data set too big in memory, fewer than 2
classes, too few images in a class, or a class folder whose name holds invisible characters (class names are
NFC-normalised, so one name typed two ways is one class). Nothing is ever extracted to disk.

Checkpoints: the archive's members are listed with :mod:`zipfile` and their declared uncompressed sizes
summed before ``torch.load`` (``weights_only=True``, always) inflates any of them. The budgets live in
:mod:`cnnviz.io.budgets`."""
from __future__ import annotations

import io
import posixpath
import unicodedata
import zipfile
from typing import Callable

import numpy as np
import torch

from cnnviz.io import budgets
from cnnviz.io.data import Dataset
from cnnviz.io.images import bands, check_decoded_size, decode_pixels, open_header
from cnnviz.errors import ConfigError

IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF", ".webp": "WEBP",
               ".tif": "TIFF", ".tiff": "TIFF"}
MAX_ZIP_BYTES = budgets.ZIP_FILE_BYTES
MAX_TOTAL_BYTES = budgets.ZIP_UNCOMPRESSED_BYTES    # uncompressed
MAX_FILES = budgets.ZIP_MAX_FILES
MAX_PIXELS = budgets.ZIP_IMAGE_PIXELS               # per image, checked before decoding
MAX_DECODED = budgets.ZIP_DECODED_VALUES            # Σ width × height × bands over the ZIP, before decoding
MAX_RATIO = budgets.ZIP_MAX_RATIO                   # uncompressed / compressed size of one member
MIN_PER_CLASS = 4
MAX_CLASSES = 20
IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")
MiB = budgets.MiB


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


def class_name(folder: str) -> str:
    """A class folder's name as the app shows it: NFC-normalised, so "café" typed as one character and as "e" plus
    a combining accent is ONE class; refused when it holds an invisible format or control character (a
    right-to-left override would make "god" print as "dog"; a zero-width space makes two names look alike)."""
    name = unicodedata.normalize("NFC", folder)
    hidden = [c for c in name if unicodedata.category(c) in ("Cf", "Cc")]
    if hidden:
        codes = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'control character')}" for c in dict.fromkeys(hidden))
        _refuse(f"class folder {ascii(folder)} contains invisible characters ({codes}); rename the folder")
    return name


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
    return [(class_name(p[0]), p[1], info) for p, (_, info) in zip(parts, files)]


def _header(data, name: str, ext: str):
    """The opened (not decoded) image and its declared cost, width × height × bands."""
    img = open_header(data, "zip", name)
    if img.format != IMAGE_TYPES[ext] and not (ext in (".jpg", ".jpeg") and img.format == "MPO") \
            and not (ext == ".jpg" and img.format == "JPEG"):
        _refuse(f"{name!r} says {ext} but holds {img.format or 'something else'}")
    w, h = img.size
    if w * h > MAX_PIXELS:
        _refuse(f"{name!r} is {w}×{h} pixels, more than {MAX_PIXELS:,}: a decompression bomb? refused")
    check_decoded_size(img, "zip", name)  # mode × pixels, in the first pass already
    return img, w * h * bands(img)


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    with zf.open(info) as f:
        blob = f.read(info.file_size + 1)
    if len(blob) > info.file_size:
        _refuse(f"{name!r} is larger than its header says; refused")
    return blob


def load_zip(data: bytes, size: int = 32, seed: int = 0, max_bytes: int = MAX_ZIP_BYTES,
             max_total: int = MAX_TOTAL_BYTES, val_fraction: float = 0.2, max_decoded: int = MAX_DECODED,
             progress: Callable[[float, str], None] | None = None) -> Dataset:
    """A :class:`Dataset` of ``size × size`` RGB images from a ZIP of class folders; classes in name order,
    a stratified seeded split (every class has at least one validation image).

    Two passes: the first reads every image's header (no pixels) and refuses the ZIP when the declared
    pixels, summed over all images, exceed ``max_decoded``; only then the second decodes. ``progress``
    (optional) gets the fraction done and a short text, for a progress bar."""
    report = progress or (lambda frac, text: None)
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
        need = len(members) * 3 * size * size * 4
        if need > budgets.DATASET_BYTES:
            _refuse(f"{len(members):,} images of 3×{size}×{size} take {need / 2 ** 20:.0f} MiB as float32; "
                    f"the limit is {budgets.DATASET_BYTES / 2 ** 20:.0f} MiB")
        declared = 0
        for k, (cls, fname, info) in enumerate(members):  # pass 1: headers only
            name = f"{cls}/{fname}"
            with zf.open(info) as f:  # Image.open reads the header from the member's stream: no full read
                img, cost = _header(f, name, posixpath.splitext(fname)[1].lower())
                img.close()
            if info.file_size > 2 * cost + MiB:  # bytes beyond any encoding of its pixels: padding, not image
                _refuse(f"{name!r} is {info.file_size / MiB:.1f} MiB for {cost:,} pixel values; refused")
            declared += cost
            if declared > max_decoded:
                _refuse(f"its images declare more than {max_decoded / 1e6:,.0f} million pixel values "
                        f"(width × height × channels, summed from their headers; over the limit at {name!r}): "
                        "too slow to decode; refused before decoding. Shrink the images or send fewer")
            if k % 64 == 0:
                report(0.1 * k / len(members), "Reading the image headers…")
        xs, ys = [], []
        for k, (cls, fname, info) in enumerate(members):  # pass 2: decode, resize
            name = f"{cls}/{fname}"
            img, _ = _header(_read(zf, info, name), name, posixpath.splitext(fname)[1].lower())
            xs.append(decode_pixels(img, "zip", name, size))  # (S, S, 3)
            ys.append(classes.index(cls))
            if k % 16 == 0:
                report(0.1 + 0.9 * k / len(members), f"Decoding image {k + 1:,} of {len(members):,}…")
    report(1.0, "Done")
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


# --------------------------------------------------------------------------- checkpoints (torch archives)
def check_torch_archive(data: bytes, field: str = "checkpoint") -> None:
    """Refuse a ``torch.save`` file whose members would inflate past the budgets, from the archive's
    directory alone (nothing is decompressed): too many members, more declared uncompressed bytes than
    ``CHECKPOINT_DECODED_BYTES``, a member compressed more than ``CHECKPOINT_MAX_RATIO``:1, or a compression
    method other than stored/deflate. Files that are not ZIP archives (PyTorch's legacy format declares its
    storage sizes in a pickle, unchecked) are refused too."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ConfigError(field, "the file is empty")
    if len(data) > budgets.CHECKPOINT_FILE_BYTES:
        raise ConfigError(field, f"is {len(data) / 2**20:.1f} MiB; the limit is "
                          f"{budgets.CHECKPOINT_FILE_BYTES // 2**20} MiB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ConfigError(field, "not a readable PyTorch checkpoint: not a PyTorch weights file in "
                          "torch.save's default ZIP format (older formats cannot be size-checked before "
                          "loading)") from None
    if len(infos) > budgets.CHECKPOINT_MAX_MEMBERS:
        raise ConfigError(field, f"the archive has {len(infos):,} members; at most "
                          f"{budgets.CHECKPOINT_MAX_MEMBERS:,} are allowed")
    total = 0
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ConfigError(field, f"member {info.filename[:80]!r} uses compression method "
                              f"{info.compress_type}; only stored or deflate members are read")
        total += info.file_size
        if total > budgets.CHECKPOINT_DECODED_BYTES:
            raise ConfigError(field, f"its archive members unpack to more than "
                              f"{budgets.CHECKPOINT_DECODED_BYTES // 2**20} MiB (declared sizes, checked before "
                              "loading); refused")
        if info.file_size > budgets.CHECKPOINT_RATIO_MIN_BYTES and \
                info.file_size > budgets.CHECKPOINT_MAX_RATIO * max(info.compress_size, 1):
            raise ConfigError(field, f"member {info.filename[:80]!r} is compressed "
                              f"{info.file_size / max(info.compress_size, 1):,.0f}:1 (a decompression bomb?); "
                              f"at most {budgets.CHECKPOINT_MAX_RATIO}:1 is allowed")


def load_weights(data: bytes, field: str = "checkpoint"):
    """Checkpoint bytes -> what ``torch.save`` stored, after :func:`check_torch_archive`; always
    ``torch.load(weights_only=True)`` on the CPU. Pickled code and garbage become ConfigError."""
    check_torch_archive(data, field)
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - UnpicklingError for gadgets, RuntimeError / EOFError for garbage
        text = str(e).strip()
        first = text.splitlines()[0][:160] if text else type(e).__name__
        if "weights_only" in text or "Unsupported global" in text or "GLOBAL" in text:
            raise ConfigError(field, "refused by torch.load(weights_only=True): the file contains Python objects "
                              f"other than tensors and plain data (a pickle that could run code) — {first}") from None
        raise ConfigError(field, f"not a readable PyTorch checkpoint ({first})") from None
