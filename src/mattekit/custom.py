"""Bring your own model: add an ONNX file as a named model, once it is seen to fit its card.

As rembg's ``u2net_custom`` and MediaPipe's any-``.tflite`` allow, any ONNX model that takes
one RGB image and gives one soft mask can be used by name (``--model NAME`` on the command
line, ``model=NAME`` in the options) after it is added:

    mattekit models add my-isnet isnet.onnx --task subject --size 1024x1024 --mean 0.5,0.5,0.5

`add_model` stores the file with its sha256 and card (`mattekit.models.user`), then opens it
with ONNX Runtime, checks its input and output shapes against the card, and runs it once on
the bundled photo (``mattekit/data/sample.jpg``, a public-domain NASA portrait from
scikit-image's sample data) to check that it gives a probability mask. A model that does not
fit is removed again, and the error says what to change.

Example:
    >>> from mattekit.custom import parse_size, parse_triple
    >>> parse_size("1024x768")
    (1024, 768)
    >>> parse_triple("0.5", "mean")
    (0.5, 0.5, 0.5)
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mattekit.errors import MattekitError, ModelError, OptionError
from mattekit.models import ModelSpec, Session, load_model
from mattekit.models.registry import UserSource
from mattekit.models.runtime import clear_cache
from mattekit.models.user import add_user_model
from mattekit.segmenters.base import model_input

__all__ = [
    "RANGE_TOLERANCE",
    "add_model",
    "check_model",
    "parse_size",
    "parse_triple",
    "sample_photo",
]

RANGE_TOLERANCE = 1e-3
"""How far outside [0, 1] a mask value may be (rounding in the model's last layers)."""

_MIN_SPREAD = 1e-2
"""A mask whose values span less than this on the sample photo counts as constant."""

_FLOAT = "tensor(float)"


def parse_size(size: str | int | Sequence[int]) -> tuple[int, int]:
    """A model's input size as (width, height), from "WxH", one int (square) or (width, height).

    Raises:
        OptionError: not two positive whole numbers.
    """
    if isinstance(size, int):
        parts: list[int | str] = [size, size]
    elif isinstance(size, str):
        parts = list(size.strip().lower().split("x"))
    else:
        parts = list(size)
    try:
        width, height = (int(p) for p in parts)
        ok = width > 0 and height > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise OptionError(
            f"size: must be WIDTHxHEIGHT in pixels, e.g. 1024x1024, got '{_show(size)}'",
            option="size",
        )
    return width, height


def parse_triple(value: str | float | Sequence[float], option: str) -> tuple[float, float, float]:
    """Per-channel values (R, G, B) from "R,G,B", one number for all three, or a sequence.

    Args:
        value: what was given.
        option: its name ("mean" or "std"), for the message.

    Raises:
        OptionError: not one or three numbers.
    """
    if isinstance(value, str):
        parts: list[str | float] = [p for p in value.replace(" ", "").split(",")]
    elif isinstance(value, (int, float)):
        parts = [value]
    else:
        parts = list(value)
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) == 1:
        numbers *= 3
    if len(numbers) != 3 or not all(np.isfinite(numbers)):
        raise OptionError(
            f"{option}: must be R,G,B: three numbers on the 0..1 scale, e.g. 0.5,0.5,0.5, "
            f"got '{_show(value)}'",
            option=option,
        )
    return numbers[0], numbers[1], numbers[2]


def _show(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _check_scale(mean: tuple[float, float, float], std: tuple[float, float, float]) -> None:
    """Refuse a mean or std on the 0..255 scale (the card's are on 0..1), or a std <= 0."""
    for option, values in (("mean", mean), ("std", std)):
        if any(abs(v) > 1 for v in values):
            scaled = ",".join(f"{v / 255:.4g}" for v in values)
            raise OptionError(
                f"{option}: values are on the 0..1 scale (pixels / 255), got {_show(values)}; "
                f"divide them by 255: {scaled}",
                option=option,
            )
    if any(v <= 0 for v in std):
        raise OptionError(f"std: must be positive, got {_show(std)}", option="std")


@cache
def _sample_bytes() -> bytes:
    return resources.files("mattekit").joinpath("data/sample.jpg").read_bytes()


def sample_photo() -> NDArray[np.uint8]:
    """The bundled photo `add_model` runs a new model on: RGB uint8, 512x512."""
    with Image.open(io.BytesIO(_sample_bytes())) as image:
        return np.asarray(image.convert("RGB"), np.uint8)


def add_model(
    name: str,
    file: str | os.PathLike[str],
    *,
    task: str,
    size: str | int | Sequence[int],
    mean: str | float | Sequence[float] = (0.0, 0.0, 0.0),
    std: str | float | Sequence[float] = (1.0, 1.0, 1.0),
    layout: str = "NCHW",
    replace: bool = False,
    license: str = "unknown",
) -> ModelSpec:
    """Add an ONNX model file as model `name`, after checking that it fits its card.

    The file is copied into the model store with its sha256; from then on ``name`` works
    wherever a model name does (``--model NAME``, ``model=NAME``). The model is opened with
    ONNX Runtime, its input must be one 4-D float image in `layout` with 3 channels and
    `size` pixels (or dynamic sizes), its first output must squeeze to one H x W map, and
    on the bundled sample photo that map must lie in [0, 1] and not be constant.

    Args:
        name: a kebab-case name that no built-in model has.
        file: the ONNX file.
        task: "subject" (any salient object) or "person".
        size: input size the model takes: "WxH", (width, height), or one int for a square.
        mean, std: the model takes (rgb / 255 - mean) / std per channel: "R,G,B", three
            numbers, or one number for all three.
        layout: "NCHW" (PyTorch exports) or "NHWC" (TensorFlow exports).
        replace: overwrite a user model of the same name (it is kept if the new one is
            refused).
        license: the weights' license (SPDX id), "unknown" unless given.

    Returns:
        The new model's card.

    Raises:
        OptionError: a bad name or option, or the model does not fit its card (shapes,
            value range); the model is not kept.
        ModelError: the file is missing or ONNX Runtime cannot load it.

    Example:
        >>> add_model("my-isnet", "isnet.onnx", task="subject", size="1024x1024",
        ...           mean=0.5)  # doctest: +SKIP
    """
    width, height = parse_size(size)
    m = parse_triple(mean, "mean")
    s = parse_triple(std, "std")
    _check_scale(m, s)
    return add_user_model(
        name,
        file,
        task=task,
        input_size=(height, width),
        mean=m,
        std=s,
        layout=layout,
        license=license,
        replace=replace,
        check=_checked,
    )


def _checked(spec: ModelSpec) -> None:
    # A session loaded for an earlier model of the same name must not answer for this one,
    # and a refused model's session must not stay loaded: sessions are cached by name.
    clear_cache()
    try:
        check_model(spec)
    except BaseException:
        clear_cache()
        raise


def check_model(spec: ModelSpec) -> None:
    """Check that a stored user model fits its card: shapes, then one run on the sample photo.

    Raises:
        OptionError: the model does not fit its card.
        ModelError: ONNX Runtime cannot load it.
    """
    session = _open(spec)
    _check_input(spec, session)
    _check_output_shape(spec, session)
    _check_mask(spec, session)


def _refuse(spec: ModelSpec, what: str) -> OptionError:
    return OptionError(f"cannot add model '{spec.name}': {what}")


def _origin(spec: ModelSpec) -> str:
    return spec.source.path if isinstance(spec.source, UserSource) else spec.name


def _cause(exc: BaseException) -> str:
    text = str(exc.__cause__ or exc).strip()
    return (text.splitlines() or ["no detail"])[0]


def _open(spec: ModelSpec) -> Session:
    try:
        return load_model(spec.name, "cpu")
    except MattekitError as exc:
        raise ModelError(
            f"cannot add model '{spec.name}': ONNX Runtime cannot load {_origin(spec)} "
            f"({_cause(exc)}); it must be an .onnx model file"
        ) from exc


def _fmt(shape: Sequence[object]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _fixed(dim: object) -> int | None:
    """A graph dimension's size, or None when it is dynamic (a name or unknown)."""
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None


def _check_input(spec: ModelSpec, session: Session) -> None:
    inputs = session.inner.get_inputs()
    if len(inputs) != 1:
        names = ", ".join(f"'{i.name}'" for i in inputs)
        raise _refuse(spec, f"it takes {len(inputs)} inputs ({names}) where mattekit gives it one image")
    graph_input = inputs[0]
    shape = list(graph_input.shape or [])
    label = f"its input '{graph_input.name}'"
    if graph_input.type != _FLOAT:
        raise _refuse(spec, f"{label} is {graph_input.type}; mattekit gives float32 pixels ({_FLOAT})")
    if len(shape) != 4:
        raise _refuse(
            spec,
            f"{label} has shape {_fmt(shape)}; mattekit gives one 4-D image, (1, 3, H, W) "
            "for --layout NCHW or (1, H, W, 3) for --layout NHWC",
        )
    nchw = spec.layout == "NCHW"
    batch, channels, height, width = (
        (shape[0], shape[1], shape[2], shape[3]) if nchw else (shape[0], shape[3], shape[1], shape[2])
    )
    fixed_batch = _fixed(batch)
    if fixed_batch is not None and fixed_batch != 1:
        raise _refuse(spec, f"{label} has batch size {fixed_batch}; mattekit gives one image at a time")
    fixed_channels = _fixed(channels)
    if fixed_channels is not None and fixed_channels != 3:
        other = "NHWC" if nchw else "NCHW"
        hint = f"; it looks {other}: pass --layout {other}" if _fixed(shape[3 if nchw else 1]) == 3 else ""
        raise _refuse(
            spec,
            f"{label} has shape {_fmt(shape)}, which as {spec.layout} has {fixed_channels} "
            f"channels where mattekit gives 3 (RGB){hint}",
        )
    want_h, want_w = spec.input_size
    got_h, got_w = _fixed(height), _fixed(width)
    if (got_h is not None and got_h != want_h) or (got_w is not None and got_w != want_w):
        shown = f"{got_w or '?'}x{got_h or '?'}"
        hint = f"; pass --size {shown}" if got_h and got_w else ""
        raise _refuse(
            spec,
            f"{label} takes {shown} pixels ({spec.layout} shape {_fmt(shape)}) but the card "
            f"says --size {want_w}x{want_h}{hint}",
        )


def _channels_message(spec: ModelSpec, output: str, shape: Sequence[object], channels: int) -> str:
    return (
        f"its output '{output}' of shape {_fmt(shape)} gives {channels} channels where a "
        f"{spec.task} model gives one mask; export the model with a single output channel, "
        "the foreground probability"
    )


def _check_output_shape(spec: ModelSpec, session: Session) -> None:
    """Refuse, before running it, a first output whose static shape is not one H x W map."""
    first = session.inner.get_outputs()[0]
    shape = list(first.shape or [])
    dims = [_fixed(d) for d in shape]
    if not shape or any(d is None for d in dims):
        return  # dynamic: the run tells
    kept = [d for d in dims if d != 1]
    if len(kept) == 3:
        raise _refuse(spec, _channels_message(spec, first.name, shape, min(d or 0 for d in kept)))
    if len(kept) != 2:
        raise _refuse(spec, f"its output '{first.name}' has shape {_fmt(shape)}, not one H x W mask")


def _check_mask(spec: ModelSpec, session: Session) -> None:
    """Run the model once on the sample photo and check its first output is a probability map."""
    height, width = spec.input_size
    try:
        raw = session.run(model_input(sample_photo(), spec))[0]
    except ModelError as exc:
        raise _refuse(
            spec,
            f"it fails on a {width}x{height} {spec.layout} image as its card says ({_cause(exc)}); "
            "check --size and --layout",
        ) from exc
    output = session.output_names[0]
    mask = np.squeeze(raw)
    if mask.ndim == 3:
        raise _refuse(spec, _channels_message(spec, output, raw.shape, min(mask.shape)))
    if mask.ndim != 2:
        raise _refuse(spec, f"its output '{output}' has shape {_fmt(raw.shape)}, not one H x W mask")
    if not np.isfinite(mask).all():
        raise _refuse(
            spec,
            f"its output '{output}' has NaN or infinite values on the sample photo; check --mean and --std",
        )
    low, high = float(mask.min()), float(mask.max())
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise _refuse(
            spec,
            f"its output '{output}' ranges from {low:.3g} to {high:.3g} on the sample photo, "
            "but it must be a probability in 0..1 (these look like logits); add a sigmoid "
            "to the model's output and export it again",
        )
    if high - low < _MIN_SPREAD:
        raise _refuse(
            spec,
            f"its output '{output}' is {low:.3g} everywhere on the sample photo, not a mask; "
            "check --mean, --std and --layout against how the model was trained",
        )
