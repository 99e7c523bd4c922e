"""Photos sent as field-presence proof: checked before anything is kept, stored by content hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.files import private_folder

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 36867
OFFSET_TIME_ORIGINAL = 36881
DATETIME = 306


class PhotoRefused(Exception):
    """A file that is not kept: `reason` is too_large, not_image or too_many_pixels."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo says about itself, read once when it arrives."""

    sha256: str
    phash: str  # 64-bit perceptual hash, 16 hex digits
    extension: str
    width: int
    height: int
    exif_lat: float | None = None
    exif_lon: float | None = None
    exif_taken_at: dt.datetime | None = None  # aware when the photo says its offset; else naive local


def inspect(data: bytes, *, max_bytes: int, max_pixels: int) -> PhotoFacts:
    """Read a photo's hashes and EXIF, refusing what is too big, not an image, or a pixel bomb."""
    if len(data) > max_bytes:
        raise PhotoRefused("too_large", f"{len(data)} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise PhotoRefused("not_image", str(image.format))
            width, height = image.size
            if width * height > max_pixels:
                raise PhotoRefused("too_many_pixels", f"{width}x{height}")
            exif = image.getexif()
            image.load()
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRefused("too_many_pixels", str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused("not_image", type(exc).__name__) from exc
    lat, lon = _gps(exif)
    upright = ImageOps.exif_transpose(image)
    return PhotoFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        phash=str(imagehash.phash(upright)),
        extension=FORMATS[str(image.format)],
        width=width,
        height=height,
        exif_lat=lat,
        exif_lon=lon,
        exif_taken_at=_taken_at(exif),
    )


def hash_distance(a: str, b: str) -> int:
    """How many of the 64 perceptual-hash bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def store(folder: Path, facts: PhotoFacts, data: bytes) -> Path:
    """Write the photo under its sha256, readable by this service's user alone; idempotent."""
    target = folder / facts.sha256[:2] / f"{facts.sha256}.{facts.extension}"
    if target.exists():
        # Fresh again: the sweep of unreferenced files leaves it to the row about to name it.
        os.utime(target)
        return target
    private_folder(target.parent)  # the photo folder too, when this makes it
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _rational(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        numerator, denominator = value
        return float(numerator) / float(denominator) if denominator else 0.0
    return float(value)


def _gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    """Decimal degrees from the GPS IFD, or (None, None) when absent or unreadable."""
    try:
        gps = exif.get_ifd(GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None, None
        lat = sum(_rational(part) / 60**i for i, part in enumerate(gps[2]))
        lon = sum(_rational(part) / 60**i for i, part in enumerate(gps[4]))
    except (TypeError, ValueError, ZeroDivisionError, KeyError):
        return None, None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return lat, lon


def _taken_at(exif: Image.Exif) -> dt.datetime | None:
    """DateTimeOriginal (else DateTime), with its offset when the camera wrote one."""
    try:
        details = exif.get_ifd(EXIF_IFD)
    except (KeyError, TypeError, ValueError):
        details = {}
    raw = details.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not raw:
        return None
    try:
        taken = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(OFFSET_TIME_ORIGINAL)
    if offset:
        try:
            parsed = dt.datetime.strptime(str(offset).strip("\x00 "), "%z")
        except ValueError:
            return taken
        return taken.replace(tzinfo=parsed.tzinfo)
    return taken
