"""Image decoding and encoding at the edges of mattekit.

Everything below this package takes arrays: RGB ``uint8`` HxWx3 images and ``float32`` HxW alpha in
[0, 1]. This package turns files, bytes, file objects, PIL images and arrays into that form, and arrays
back into PNG, WebP, JPEG, BMP or TIFF bytes, written atomically and never over an input.

`decoding` reads an input (`decode_image`, `DecodedImage`) under the pixel limit from `limits`;
`encoding` writes arrays as image bytes (`encode_image`, `encode_indexed_png`, `format_for_path`);
`output` puts those bytes on disk (`write_atomic`, `ensure_not_input`).
"""

from __future__ import annotations

from mattekit.io.images.decoding import DecodedImage, ImageSource, decode_image
from mattekit.io.images.encoding import encode_image, format_for_path
from mattekit.io.images.encoding import encode_indexed_png as encode_indexed_png  # not in __all__, as before
from mattekit.io.images.limits import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, max_pixels_from_env
from mattekit.io.images.output import ensure_not_input, write_atomic

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "DecodedImage",
    "ImageSource",
    "decode_image",
    "encode_image",
    "ensure_not_input",
    "format_for_path",
    "max_pixels_from_env",
    "write_atomic",
]
