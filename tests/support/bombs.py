"""Upload bombs for the tests, built at run time (nothing large is stored or held in memory): an inflating
torch archive member, PNGs whose headers declare what they do not hold, ZIPs of class folders."""
import io
import struct
import zipfile
import zlib

from PIL import Image

MB = 2 ** 20
INFLATE_MIB = 512


def _zeros_deflate(n_mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of n_mib MiB of zeros and its CRC-32, without holding the zeros: after a full
    flush the compressor's output for the same 1 MiB chunk repeats, so the stream is one block repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MB)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(n_mib):
        crc = zlib.crc32(chunk, crc)
    return first + block * (n_mib - 1) + c.flush(), crc


def _write_zip(members) -> bytes:
    """A ZIP by hand: members are (name, method, payload, crc, uncompressed size)."""
    out, central = io.BytesIO(), []
    for name, method, payload, crc, usize in members:
        off, nb = out.tell(), name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, method, 0, 0, crc, len(payload), usize, len(nb), 0)
                  + nb + payload)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, method, 0, 0, crc, len(payload),
                                   usize, len(nb), 0, 0, 0, 0, 0, off) + nb)
    cd = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, len(central), len(central), out.tell() - cd, cd, 0))
    return out.getvalue()


def inflating(blob: bytes, n_mib: int = INFLATE_MIB) -> bytes:
    """The torch.save archive ``blob`` with its first tensor record replaced by n_mib MiB of deflated zeros."""
    zin, members, done = zipfile.ZipFile(io.BytesIO(blob)), [], False
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith("/data/0") and not done:
            payload, crc = _zeros_deflate(n_mib)
            members.append((info.filename, zipfile.ZIP_DEFLATED, payload, crc, n_mib * MB))
            done = True
        else:
            members.append((info.filename, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data)))
    assert done
    return _write_zip(members)


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def header_png(w: int, h: int) -> bytes:
    """A PNG whose header declares w×h 8-bit grey pixels, with a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def class_zip(image: bytes, per_class: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for cls in ("cats", "dogs"):
            for i in range(per_class):
                zf.writestr(f"{cls}/{i}.png", image)
    return buf.getvalue()
