"""mattekit: offline, CPU-first background removal and replacement for photos and videos.

Example:
    >>> from mattekit import remove
    >>> remove("dog.jpg").save("dog.png")  # doctest: +SKIP
"""

from mattekit.api import class_map, classes, composite, load_segmenter, remove, segment, sticker
from mattekit.errors import (
    InputError,
    InputTooLargeError,
    MattekitError,
    ModelError,
    OptionError,
    UnsupportedInputError,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "InputTooLargeError",
    "MattekitError",
    "ModelError",
    "OptionError",
    "UnsupportedInputError",
    "__version__",
    "class_map",
    "classes",
    "composite",
    "load_segmenter",
    "remove",
    "segment",
    "sticker",
]
