"""Real JPEGs for the presence tests: distinct scenes, with or without EXIF GPS and time."""

from __future__ import annotations

import datetime as dt
import io
import random
from fractions import Fraction

from PIL import Image, ImageDraw, ImageFilter

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def scene(seed: int, size: tuple[int, int] = (1280, 960)) -> Image.Image:
    """A field photo stand-in: sky, ground, houses and people drawn from a seed."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (rng.randrange(90, 200), rng.randrange(150, 230), 255))
    draw = ImageDraw.Draw(image)
    horizon = rng.randrange(height // 3, height * 2 // 3)
    draw.rectangle(
        (0, horizon, width, height), fill=(rng.randrange(80, 160), rng.randrange(60, 120), 40)
    )
    for _ in range(rng.randrange(4, 9)):
        x = rng.randrange(0, width - 100)
        w, h = rng.randrange(80, 300), rng.randrange(60, 240)
        colour = tuple(rng.randrange(0, 256) for _ in range(3))
        draw.rectangle((x, horizon - h, x + w, horizon), fill=colour)
        draw.polygon(
            [(x - 10, horizon - h), (x + w // 2, horizon - h - 60), (x + w + 10, horizon - h)],
            fill=tuple(255 - c for c in colour),
        )
    for _ in range(rng.randrange(2, 6)):
        x, y = rng.randrange(0, width), rng.randrange(horizon, height)
        r = rng.randrange(20, 70)
        draw.ellipse((x - r, y - 3 * r, x + r, y), fill=tuple(rng.randrange(0, 256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(1))


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return Fraction(degrees), Fraction(minutes), Fraction(seconds).limit_denominator(10_000)


def jpeg(
    image: Image.Image,
    *,
    quality: int = 88,
    gps: tuple[float, float] | None = None,
    taken: dt.datetime | None = None,
) -> bytes:
    """Encode as JPEG, writing EXIF GPS and DateTimeOriginal (with its offset) when given."""
    exif = Image.Exif()
    if gps is not None:
        lat, lon = gps
        exif[GPS_IFD] = {
            1: "N" if lat >= 0 else "S",
            2: _dms(lat),
            3: "E" if lon >= 0 else "W",
            4: _dms(lon),
        }
    if taken is not None:
        details = {36867: taken.strftime("%Y:%m:%d %H:%M:%S")}
        if taken.tzinfo is not None:
            offset = taken.strftime("%z")
            details[36881] = f"{offset[:3]}:{offset[3:]}"
        exif[EXIF_IFD] = details
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes() if len(exif) else b"")
    return out.getvalue()


def photo(seed: int, **kwargs: object) -> bytes:
    return jpeg(scene(seed), **kwargs)  # type: ignore[arg-type]


def recompressed(data: bytes, quality: int = 60, scale: float = 0.75) -> bytes:
    """What a chat app does to a forwarded photo: smaller and more compressed, EXIF gone."""
    image = Image.open(io.BytesIO(data))
    size = (int(image.width * scale), int(image.height * scale))
    out = io.BytesIO()
    image.resize(size).save(out, "JPEG", quality=quality)
    return out.getvalue()


def cropped(data: bytes, fraction: float = 0.05) -> bytes:
    """The same photo with a thin border cut off each side."""
    image = Image.open(io.BytesIO(data))
    dx, dy = int(image.width * fraction), int(image.height * fraction)
    out = io.BytesIO()
    image.crop((dx, dy, image.width - dx, image.height - dy)).save(out, "JPEG", quality=85)
    return out.getvalue()
