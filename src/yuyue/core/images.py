"""Pictures people upload (avatars, credential documents): checked and made safe before they are
kept. Only JPEG, PNG, WebP and GIF are taken; a file larger than allowed, or a picture with more
pixels than a decompression bomb check allows, is refused before it is decoded; what is kept is
a re-encoded JPEG (EXIF and every other metadata, such as the GPS position, are gone), no wider
or taller than `max_side`."""

from __future__ import annotations

import io

from yuyue.core.errors import DomainError

FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000


def clean_image(
    data: bytes, *, max_bytes: int, max_side: int = 2048, square: int | None = None
) -> bytes:
    """The picture as a metadata-free JPEG; `square` crops and scales it to that many pixels a
    side. Refusals: invalid_image (not a picture of a taken kind), image_too_large (bytes),
    image_too_big (pixels)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise DomainError("invalid_image", max_mb=max_bytes // 1024 // 1024)
    if len(data) > max_bytes:
        raise DomainError("image_too_large", max_mb=max_bytes // 1024 // 1024)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in FORMATS:
                raise DomainError("invalid_image", max_mb=max_bytes // 1024 // 1024)
            if img.width * img.height > MAX_PIXELS:  # before decoding a single pixel
                raise DomainError("image_too_big", max_pixels=MAX_PIXELS)
            img.load()
            img = ImageOps.exif_transpose(img).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DomainError("invalid_image", max_mb=max_bytes // 1024 // 1024) from exc
    if square:
        img = ImageOps.fit(img, (square, square))
    else:
        img.thumbnail((max_side, max_side))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing carried over
    return out.getvalue()
