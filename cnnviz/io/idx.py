"""The IDX format of MNIST and Fashion-MNIST (Yann LeCun's, http://yann.lecun.com/exdb/mnist/): a 4-byte magic
``00 00 <type> <ndim>``, ``ndim`` big-endian uint32 sizes, then the values row-major, big-endian. Optionally
gzip-compressed (the files are shipped as ``*-ubyte.gz``).

:func:`read_idx` checks the header against the payload before building the array (an unknown type code, a
dimension count of 0 or above 4, a size product that disagrees with the bytes) and bounds what a gzip stream
may expand to, so a malformed or hostile file is refused with a :class:`ConfigError` naming it."""
from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np

from cnnviz.errors import ConfigError

# type code -> big-endian numpy dtype
IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MAX_IDX_BYTES = 64 * 2 ** 20   # decoded size of one file: Fashion-MNIST's largest is 47 MB
MAX_IDX_DIMS = 4
GZIP_MAGIC = b"\x1f\x8b"


def _gunzip(data: bytes, limit: int, field: str) -> bytes:
    """The decompressed bytes, read in chunks and refused beyond ``limit`` (a gzip bomb stops early)."""
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            while chunk := f.read(1 << 20):
                out.write(chunk)
                if out.tell() > limit:
                    raise ConfigError(field, f"expands to more than {limit // 2 ** 20} MiB")
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise ConfigError(field, f"is not a readable gzip stream ({err})") from None
    return out.getvalue()


def read_idx(data: bytes | str | Path, field: str = "idx", max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """An IDX file (bytes or a path; gzip or plain) -> a native-endian numpy array of its declared shape."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise ConfigError(field, f"no file {path}")
        data = path.read_bytes()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConfigError(field, f"expected bytes or a path, got {type(data).__name__}")
    data = bytes(data)
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, max_bytes + 4 + 4 * MAX_IDX_DIMS, field)
    if len(data) < 4:
        raise ConfigError(field, f"is {len(data)} bytes long, shorter than the 4-byte IDX magic")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise ConfigError(field, f"does not start with the IDX magic 00 00 (got {data[:2].hex(' ')})")
    if code not in IDX_TYPES:
        raise ConfigError(field, f"has unknown IDX type code 0x{code:02x}; known: "
                          + ", ".join(f"0x{c:02x}" for c in IDX_TYPES))
    if not 1 <= ndim <= MAX_IDX_DIMS:
        raise ConfigError(field, f"declares {ndim} dimensions; 1 to {MAX_IDX_DIMS} are read")
    head = 4 + 4 * ndim
    if len(data) < head:
        raise ConfigError(field, f"ends inside its header ({len(data)} of {head} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:head])
    dtype = IDX_TYPES[code]
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if need > max_bytes:
        raise ConfigError(field, f"declares {need:,} bytes of values, above the limit of {max_bytes:,}")
    if len(data) - head != need:
        raise ConfigError(field, f"header declares shape {shape} ({need:,} bytes of values) but the file holds "
                          f"{len(data) - head:,}")
    arr = np.frombuffer(data, dtype=dtype, offset=head).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)  # native order, writable, detached from ``data``


def write_idx(array: np.ndarray, compress: bool = False) -> bytes:
    """``array`` as IDX bytes (its dtype must be one of ``IDX_TYPES``); gzip-compressed when ``compress``."""
    array = np.asarray(array)
    code = next((c for c, dt in IDX_TYPES.items() if dt.kind == array.dtype.kind
                 and dt.itemsize == array.dtype.itemsize), None)
    if code is None:
        raise ConfigError("array", f"dtype {array.dtype} has no IDX type code")
    if not 1 <= array.ndim <= MAX_IDX_DIMS:
        raise ConfigError("array", f"has {array.ndim} dimensions; IDX here holds 1 to {MAX_IDX_DIMS}")
    raw = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    raw += np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    return gzip.compress(raw, mtime=0) if compress else raw
