"""The Remover: options checked and models loaded once, and the one place that knows the order.

    decode -> segment -> edit the mask -> keep the input's own alpha -> compose -> crop or
    sticker -> encode

Every edge (the one-call functions, the command line, and later the server, video and
batch) builds a Remover and calls it; none of them repeats this order.
"""

from __future__ import annotations

import difflib
import os
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Union

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mattekit.allocator import keep_freed_buffers
from mattekit.errors import InputError, MattekitError, OptionError
from mattekit.io import images as imageio
from mattekit.io.images import DecodedImage, decode_image
from mattekit.options import RemoveOptions
from mattekit.segmenters import Segmenter, SegmenterInfo, SemanticSegmenter, build_segmenter, build_semantic
from mattekit.stages import compose, stickers
from mattekit.stages.classes import VOC_CLASSES, ClassShare, class_report, voc_palette
from mattekit.stages.edits import edit_mask

__all__ = ["MODES", "ImageInput", "Remover", "Segmentation"]

MODES = ("image", "video")
"""Running modes, as in MediaPipe: "image" builds the image levels' segmenters; "video"
builds the video levels' (recurrent RVM for people at balanced/accurate, temporal
smoothing elsewhere), whose stream calls keep state from frame to frame."""

ImageInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], Image.Image, NDArray[np.generic]]
"""Anything an image can be given as: a path, encoded bytes, a binary file, PIL or numpy."""

Target = Union[str, "os.PathLike[str]", IO[bytes]]
"""Where an output goes: a path (written atomically) or a binary stream."""


@dataclass(frozen=True, eq=False)
class Segmentation:
    """What segmenting one image found.

    Attributes:
        mask: float32 HxW in [0, 1] at the image's size (after EXIF orientation), edited
            and limited to the input's own alpha.
        segmenter: what ran, e.g. "selfie+isnet-medium@512".
        provider: the ONNX Runtime execution provider it ran on.
        classes: the kept VOC class indices, for class subjects; None otherwise.
        instance: the object kept by its rank in size (1 = the largest); None for all.
    """

    mask: NDArray[np.float32]
    segmenter: str
    provider: str
    classes: frozenset[int] | None = None
    instance: int | None = None

    @property
    def empty(self) -> bool:
        """True when no pixel is at least half subject: nothing was found."""
        return not bool((self.mask >= 0.5).any())

    def what_was_missing(self) -> str:
        """What was not found, for a warning when the result is empty."""
        names = ", ".join(VOC_CLASSES[i] for i in sorted(self.classes)) if self.classes else ""
        if self.instance:
            where = f"the kept classes ({names})" if self.classes else "the subject"
            return f"no object #{self.instance} by size of {where}"
        return f"none of the kept classes ({names})" if self.classes else "no subject"


class Remover:
    """Removes or replaces the backgrounds of images and video frames, as its options say.

    Building it checks the options and loads every model they need, so a missing model or a
    bad option fails here, never at the first image. Models are shared by every Remover of
    the process (ONNX Runtime sessions are cached by model, device and thread count). The
    first Remover also tunes glibc's malloc to keep freed frame-sized buffers
    (`mattekit.allocator`; ``MATTEKIT_MALLOC=default`` leaves it alone).

    Image mode (`segment`, `process`, `process_file`, `class_map`) keeps no state: one Remover
    may serve several threads at once (ONNX Runtime's `run` is thread-safe, and the only
    cache here, a picture background's scaled copies, is locked). Stream mode
    (`segment_frame`, `process_frame`, `reset`) follows one stream whose timestamps increase,
    and may keep state from frame to frame; calls are serialised, but two streams must not
    share a Remover: build one per stream (they still share the loaded models).

    Args:
        options: what to do; None for the defaults (any subject, balanced, a cutout).
        mode: "image" (the default) or "video": which level table builds the segmenter
            (see `MODES`). Both modes offer both kinds of call; a "video" Remover is made
            for the stream calls, and its `segment` of a still runs the video model once
            from a fresh state.

    Raises:
        OptionError: options that no model serves (e.g. a semantic user model as `model`),
            or an unknown mode.
        ModelError: a model is missing and cannot be fetched, or fails to load.

    Example:
        >>> with Remover(RemoveOptions(subject="person", quality="fast")) as remover:  # doctest: +SKIP
        ...     cutout = remover.process("portrait.jpg")  # RGBA uint8
    """

    def __init__(self, options: RemoveOptions | None = None, *, mode: str = "image") -> None:
        if mode not in MODES:
            close = difflib.get_close_matches(str(mode), MODES, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise OptionError(f"mode: '{mode}' is not one of {', '.join(MODES)}.{hint}", "mode")
        self._mode = mode
        self.options = options or RemoveOptions()
        keep_freed_buffers()  # frame-sized buffers reused, not page-faulted in per image
        opts = self.options
        self._semantic: SemanticSegmenter | None = None
        self._segmenter: Segmenter | None = None
        if opts.output == "class-map":
            self._semantic = build_semantic(opts.quality, opts.device)
            self._info = SegmenterInfo(self._semantic.name, (self._semantic.provider,))
        else:
            self._segmenter = build_segmenter(
                opts.kind, opts.quality, classes=opts.classes, refine=opts.refine,
                instance=opts.instance, model=opts.model, device=opts.device, video=mode == "video",
            )  # fmt: skip
            self._info = self._segmenter.info
        self._stream_lock = threading.Lock()
        self._last_timestamp: float | None = None
        self._closed = False

    @property
    def mode(self) -> str:
        """The running mode: "image" or "video"."""
        return self._mode

    @property
    def info(self) -> SegmenterInfo:
        """What runs (models, sizes) and on which providers."""
        return self._info

    # -- images ---------------------------------------------------------------------------

    def decode(self, image: ImageInput, name: str | None = None) -> DecodedImage:
        """Decode an input within this Remover's pixel limit."""
        self._check_open()
        return decode_image(image, name=name, max_pixels=self.options.max_pixels)

    def segment(self, image: ImageInput, *, name: str | None = None) -> Segmentation:
        """The subject's mask of one image, with what was kept.

        Raises:
            InputError: the image cannot be read or is too large.
        """
        return self._segment_decoded(self.decode(image, name))

    def process(self, image: ImageInput, *, name: str | None = None) -> NDArray[np.uint8]:
        """The output of one image, as the options say: RGBA cutout or sticker, RGB
        composite, 8-bit mask (HxW), or VOC class indices (HxW) for "class-map"."""
        return self._process(self.decode(image, name))[0]

    def process_file(
        self,
        source: ImageInput,
        target: Target,
        *,
        fmt: str | None = None,
        name: str | None = None,
    ) -> Segmentation:
        """Decode, process and encode one image to a path (written atomically) or a stream.

        Args:
            source: the input.
            target: an output path (never one of the inputs) or a binary stream.
            fmt: "PNG", "WEBP" or "JPEG"; None for the target's suffix (PNG for streams).
            name: how to call the input in error messages.

        Returns:
            The segmentation, e.g. to warn when it is empty.

        Raises:
            InputError: unreadable input, or the target is the input.
            OptionError: an unknown output format, or a transparent result as JPEG.
        """
        is_path = isinstance(target, (str, os.PathLike))
        if is_path and isinstance(source, (str, os.PathLike)):
            imageio.ensure_not_input(target, [source])  # type: ignore[arg-type]
        if self.options.output == "class-map":
            fmt = "PNG"
        elif fmt is None:
            fmt = imageio.format_for_path(target) if is_path else "PNG"  # type: ignore[arg-type]
        pixels, found = self._process(self.decode(source, name))
        if self.options.output == "class-map":
            encoded = imageio.encode_indexed_png(pixels, voc_palette())
        else:
            encoded = imageio.encode_image(pixels, fmt)
        if is_path:
            imageio.write_atomic(target, encoded)  # type: ignore[arg-type]
        else:
            target.write(encoded)  # type: ignore[union-attr]
            target.flush()  # type: ignore[union-attr]
        return found

    def class_map(self, image: ImageInput, *, name: str | None = None) -> NDArray[np.uint8]:
        """The VOC class index of every pixel (uint8 HxW; see `VOC_CLASSES`).

        Raises:
            OptionError: the Remover was not built for output "class-map".
        """
        if self._semantic is None:
            raise OptionError("output: class maps need a Remover built with output='class-map'", "output")
        return self._semantic.class_map(self.decode(image, name).rgb)

    def classes(
        self, image: ImageInput, *, min_share: float = 0.0, name: str | None = None
    ) -> list[ClassShare]:
        """The VOC object classes in an image, largest first, with shares, boxes and counts."""
        return class_report(self.class_map(image, name=name), min_share)

    # -- streams --------------------------------------------------------------------------

    def segment_frame(self, rgb: NDArray[np.uint8], timestamp_ms: float) -> Segmentation:
        """The mask of the next frame of a stream (RGB uint8 HxWx3).

        Raises:
            InputError: not an RGB uint8 frame, or a timestamp not after the previous one.
        """
        return self._frame(rgb, timestamp_ms)[1]

    def process_frame(self, rgb: NDArray[np.uint8], timestamp_ms: float) -> NDArray[np.uint8]:
        """The output of the next frame of a stream (see `process` and `segment_frame`)."""
        frame, found = self._frame(rgb, timestamp_ms)
        return self._compose(frame.rgb, found.mask)

    def reset(self) -> None:
        """Forget the stream: the next frame starts a new one (any timestamp)."""
        with self._stream_lock:
            self._last_timestamp = None
            if self._segmenter is not None:
                self._segmenter.reset()

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the models (they stay cached for other Removers); later calls fail."""
        self._closed = True
        self._segmenter = None
        self._semantic = None

    def __enter__(self) -> Remover:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Remover({self._info.name})"

    # -- the order ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise MattekitError("this Remover is closed")

    def _frame(self, rgb: NDArray[np.uint8], timestamp_ms: float) -> tuple[DecodedImage, Segmentation]:
        self._check_open()
        frame = decode_image(rgb, name="frame", max_pixels=self.options.max_pixels)
        with self._stream_lock:
            if self._last_timestamp is not None and timestamp_ms <= self._last_timestamp:
                raise InputError(
                    f"frame timestamps must increase: got {timestamp_ms} ms after "
                    f"{self._last_timestamp} ms; call reset() to start a new stream"
                )
            self._last_timestamp = timestamp_ms
            return frame, self._segment_decoded(frame, timestamp_ms)

    def _segment_decoded(self, image: DecodedImage, timestamp_ms: float | None = None) -> Segmentation:
        rgb = image.rgb
        if self._semantic is not None:
            raw = (self._semantic.class_map(rgb) > 0).astype(np.float32)
        elif self._segmenter is not None:
            if timestamp_ms is None:
                raw = self._segmenter.segment(rgb)
            else:
                raw = self._segmenter.segment_frame(rgb, timestamp_ms)
        else:
            raise MattekitError("this Remover is closed")
        edits = self.options.edits
        mask = edit_mask(raw, erode=edits.erode, dilate=edits.dilate, threshold=edits.threshold,
                         feather=edits.feather)  # fmt: skip
        if image.alpha is not None:
            mask = np.minimum(mask, image.alpha)
        info = self._info
        provider = info.providers[0] if info.providers else ""
        return Segmentation(mask, info.name, provider, info.classes, info.instance)

    def _process(self, image: DecodedImage) -> tuple[NDArray[np.uint8], Segmentation]:
        output = self.options.output
        if output == "class-map" and self._semantic is not None:
            indices = self._semantic.class_map(image.rgb)
            mask = (indices > 0).astype(np.float32)
            return indices, Segmentation(mask, self._info.name, self._info.providers[0])
        found = self._segment_decoded(image)
        return self._compose(image.rgb, found.mask), found

    def _compose(self, rgb: NDArray[np.uint8], mask: NDArray[np.float32]) -> NDArray[np.uint8]:
        opts = self.options
        if opts.output == "mask":
            return compose.mask_to_l8(mask)
        if opts.estimate_foreground:
            out = opts.background.compose_estimating(rgb, mask)
        else:
            out = opts.background.compose(rgb, mask)
        if opts.output == "sticker":
            style = opts.sticker
            return stickers.make_sticker(out, margin=style.margin, outline=style.outline,
                                         outline_color=style.outline_color, shadow=style.shadow)  # fmt: skip
        if opts.crop is not None:
            return stickers.crop_to_subject(out, opts.crop)
        return out
