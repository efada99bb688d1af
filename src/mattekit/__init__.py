"""mattekit: offline, CPU-first background removal and replacement for photos and videos.

One-call functions (`remove`, `segment`, `sticker`, `composite`, `classes`, `class_map`,
`process_file`) for a few images; a `Remover` built from `RemoveOptions` for many images,
video frames, servers and batches: it loads its models once.

Example:
    >>> from mattekit import Remover, RemoveOptions, remove
    >>> remove("dog.jpg").save("dog.png")  # doctest: +SKIP
    >>> with Remover(RemoveOptions(subject="person", quality="fast")) as remover:  # doctest: +SKIP
    ...     mask = remover.segment("portrait.jpg").mask
"""

from mattekit.api import class_map, classes, composite, process_file, remove, segment, sticker
from mattekit.custom import add_model
from mattekit.errors import (
    EXIT_CODES,
    HTTP_STATUSES,
    InputError,
    InputTooLargeError,
    MattekitError,
    ModelError,
    OptionError,
    UnsupportedInputError,
    exit_code,
    http_status,
)
from mattekit.models.runtime import DEVICES
from mattekit.options import OPTION_TEXTS, OUTPUTS, MaskEdits, OptionText, RemoveOptions, StickerStyle
from mattekit.remover import Remover, Segmentation
from mattekit.segmenters.levels import KINDS, QUALITIES, REFINES
from mattekit.stages.backgrounds import Background, Blur, Color, Picture, Transparent, parse_background
from mattekit.stages.classes import VOC_CLASSES, ClassShare, class_report
from mattekit.video import VideoResult, process_frames, process_video

__version__ = "0.1.0"

__all__ = [
    "DEVICES",
    "EXIT_CODES",
    "HTTP_STATUSES",
    "KINDS",
    "OPTION_TEXTS",
    "OUTPUTS",
    "QUALITIES",
    "REFINES",
    "VOC_CLASSES",
    "Background",
    "Blur",
    "ClassShare",
    "Color",
    "InputError",
    "InputTooLargeError",
    "MaskEdits",
    "MattekitError",
    "ModelError",
    "OptionError",
    "OptionText",
    "Picture",
    "RemoveOptions",
    "Remover",
    "Segmentation",
    "StickerStyle",
    "Transparent",
    "UnsupportedInputError",
    "VideoResult",
    "__version__",
    "add_model",
    "class_map",
    "class_report",
    "classes",
    "composite",
    "exit_code",
    "http_status",
    "parse_background",
    "process_file",
    "process_frames",
    "process_video",
    "remove",
    "segment",
    "sticker",
]
