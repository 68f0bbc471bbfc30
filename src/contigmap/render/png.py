"""Write an RGB image as a PNG file: no row filter, zlib level 3, resolution, nothing else.

A map drawn by Agg is mostly flat colour with thin anti-aliased lines. On such images
PNG's adaptive row filters (what Pillow and libpng choose by default: each row gets the
filter with the least sum of absolute differences, W3C PNG specification, 2nd ed., §12.8)
cost more than they save: on a 14,000-road county map at 150 dpi (1753 × 1240 px) Pillow
writes 1.10 MB in 71 ms at level 3, while filter type 0 ("None") on every row writes
0.87 MB in 33 ms. The file has the signature, ``IHDR`` (8-bit RGB, not interlaced),
``pHYs`` (the resolution, so the page size is known), one ``IDAT`` and ``IEND``; no text
chunks and no timestamp, so the same pixels give the same bytes.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any, Final

import numpy as np

from contigmap.errors import ValidationError
from contigmap.io.write import atomic_path

__all__ = ["filtered_rows", "write_figure_png", "write_rgb_png"]

_SIGNATURE: Final[bytes] = b"\x89PNG\r\n\x1a\n"
_LEVEL: Final[int] = 3


def _chunk(tag: bytes, data: bytes) -> bytes:
    """Length, type, data and the CRC-32 of type and data (PNG specification §5.3)."""
    crc = zlib.crc32(data, zlib.crc32(tag))  # of type then data, without joining them
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def filtered_rows(pixels: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return the PNG rows of height × width × 3 bytes: each a 0 byte (filter "None"), RGB.

    One channel at a time: a strided copy whose inner loop runs along a row (numpy copies
    an RGB pixel's 3 bytes as a loop of its own otherwise; on a 1753 × 1240 map from Agg's
    RGBA buffer, 24 ms against 2.4 ms, ``benchmarks/bench_report_maps.py``).
    """
    height, width, _ = pixels.shape
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0
    rgb = rows[:, 1:].reshape(height, width, 3)
    for channel in range(3):
        rgb[:, :, channel] = pixels[:, :, channel]
    return rows


def write_rgb_png(path: Path, rgb: np.ndarray[Any, Any], dpi: float) -> Path:
    """Write ``rgb`` (height × width × 3, uint8, top row first) to ``path``, atomically.

    Parameters
    ----------
    path
        The PNG file; written to a temporary file next to it, then renamed.
    rgb
        The pixels.
    dpi
        Resolution recorded in the ``pHYs`` chunk (pixels per metre, rounded).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValidationError
        ``rgb`` is not a height × width × 3 array of bytes.
    """
    pixels = np.asarray(rgb)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        msg = f"expected height x width x 3 uint8 pixels, got {pixels.shape} {pixels.dtype}"
        raise ValidationError(msg)
    height, width, _ = pixels.shape
    rows = filtered_rows(pixels)
    per_metre = round(dpi / 0.0254)
    body = b"".join((
        _SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
        _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        _chunk(b"IDAT", zlib.compress(rows.data, _LEVEL)),
        _chunk(b"IEND", b""),
    ))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(body)
    return path


def write_figure_png(fig: Any, path: Path) -> Path:
    """Draw a matplotlib figure on its Agg canvas and write it with :func:`write_rgb_png`.

    The figure must be opaque (a white figure, as the maps and charts are): the alpha
    channel is dropped. The file holds no software tag or time, so the same figure gives
    the same bytes.
    """
    fig.canvas.draw()
    return write_rgb_png(path, np.asarray(fig.canvas.buffer_rgba())[..., :3], fig.dpi)
