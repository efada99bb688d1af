"""Options, typed once, and the one parser that reads them from strings.

`RemoveOptions` is frozen and checked when it is made: a bad value raises `OptionError`
whose message starts with the option's name ("quality: ..."), the same name on every
surface (`--quality` on the command line, `quality` as an HTTP field or a batch key; the
background is `--bg` / `bg`). `RemoveOptions.from_strings` reads CLI flags, HTTP fields and
batch configs; `OPTION_TEXTS` holds each string option's help, metavar and choices, which
the command line builds its flags from.

Example:
    >>> options = RemoveOptions.from_strings({"subject": "dog,cat", "quality": "fast"})
    >>> options.kind, sorted(options.classes or ())
    ('classes', [8, 12])
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mattekit.errors import InputError, OptionError
from mattekit.models.runtime import DEVICES, resolve_device
from mattekit.segmenters.instances import parse_instance
from mattekit.segmenters.levels import QUALITIES, REFINES
from mattekit.stages.backgrounds import Background, Transparent, parse_background
from mattekit.stages.classes import VOC_CLASSES, parse_classes, select_classes
from mattekit.stages.stickers import check_margin, check_sticker_options

__all__ = [
    "OPTION_TEXTS",
    "OUTPUTS",
    "VERB_OPTIONS",
    "MaskEdits",
    "OptionText",
    "RemoveOptions",
    "StickerStyle",
]

OUTPUTS = ("image", "mask", "sticker", "class-map")
"""What a Remover makes: the composite (a cutout, or the subject on a background), the
8-bit mask, a sticker, or the VOC class map."""

_PERSON_WORDS = ("person", "people")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _fail(option: str, detail: str) -> OptionError:
    return OptionError(f"{option}: {detail}", option)


def _named(option: str, exc: OptionError) -> OptionError:
    """`exc` with its message prefixed by the option's name (once)."""
    message = str(exc)
    if exc.option is not None and message.startswith(f"{exc.option}:"):
        return exc
    return _fail(option, message)


def _choice(option: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise _fail(option, f"'{value}' is not one of {', '.join(choices)}.{hint}")


@dataclass(frozen=True)
class MaskEdits:
    """Changes to a finished mask, applied in this order.

    Attributes:
        erode, dilate: shrink or grow the subject by this many pixels (0..1000).
        threshold: make the mask hard, 1 where alpha >= threshold (in (0, 1]); None: soft.
        feather: soften its edge with a Gaussian of this sigma in pixels (0..1000).
    """

    erode: int = 0
    dilate: int = 0
    threshold: float | None = None
    feather: float = 0.0

    def __post_init__(self) -> None:
        for name in ("erode", "dilate"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
                raise _fail(name, f"must be a whole number of pixels from 0 to 1000, got {value!r}")
        if self.threshold is not None and not (
            isinstance(self.threshold, (int, float))
            and not isinstance(self.threshold, bool)
            and 0 < self.threshold <= 1
        ):
            raise _fail("threshold", f"must be in (0, 1], got {self.threshold!r}")
        if not (isinstance(self.feather, (int, float)) and 0 <= self.feather <= 1000):
            raise _fail("feather", f"must be a number of pixels from 0 to 1000, got {self.feather!r}")


@dataclass(frozen=True)
class StickerStyle:
    """How a sticker looks.

    Attributes:
        margin: space around it: pixels (16, "16px") or a share of the subject ("5%").
        outline: outline width in pixels, 0 for none; outline_color: its colour.
        shadow: whether it casts a soft drop shadow.
    """

    margin: int | float | str = "5%"
    outline: float = 0
    outline_color: str | tuple[int, int, int] = "white"
    shadow: bool = False

    def __post_init__(self) -> None:
        _checked("margin", check_margin, self.margin)
        _checked("outline", lambda width: check_sticker_options(0, width, "white"), self.outline)
        _checked("outline_color", lambda color: check_sticker_options(0, 0, color), self.outline_color)


@dataclass(frozen=True)
class RemoveOptions:
    """Everything a Remover does, checked once.

    Attributes:
        subject: "auto" (any salient subject), "person", or VOC classes to keep ("dog,cat";
            a list of names is joined).
        quality: "fast", "balanced" or "accurate" (see `QUALITIES`).
        keep: VOC classes to keep, besides those `subject` names.
        drop: VOC classes to drop; alone, every other object class stays.
        instance: keep one object only: its rank by size (1 = the largest; "largest" and
            "2" are read too); None for all.
        refine: edge refinement, "none", "guided" or "matting"; None for the level's.
        edits: erode / dilate / threshold / feather, after refinement.
        background: what goes behind the subject (`Transparent()` for a cutout); text,
            colours and pictures are read by `parse_background`.
        output: "image" (composite), "mask" (8-bit), "sticker" or "class-map".
        crop: crop a cutout to the subject plus this margin (pixels, "16px", "5%").
        sticker: the sticker's look, for output "sticker".
        estimate_foreground: recover the subject's colours at soft edges (no halo).
        model: a model card's name to run instead of the level's models (a user model
            added with `mattekit models add`, or a built-in person/subject model).
        device: ONNX Runtime device ("cpu", "cuda", ...); None is read as $MATTEKIT_DEVICE,
            else "cpu", when the options are made.
        max_pixels: refuse larger inputs; None for the default limit.
        kind: (derived) "person", "auto" or "classes".
        classes: (derived) the kept VOC class indices for kind "classes", else None.

    Raises:
        OptionError: a bad value or combination; the message starts with the option's name.
        InputError: a background picture that cannot be read or is too large.
    """

    subject: str = "auto"
    quality: str = "balanced"
    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    instance: int | None = None
    refine: str | None = None
    edits: MaskEdits = field(default_factory=MaskEdits)
    background: Background = field(default_factory=Transparent)
    output: str = "image"
    crop: int | float | str | None = None
    sticker: StickerStyle = field(default_factory=StickerStyle)
    estimate_foreground: bool = True
    model: str | None = None
    device: str | None = None
    max_pixels: int | None = None
    kind: str = field(init=False)
    classes: frozenset[int] | None = field(init=False)

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        subject: object = self.subject
        if not isinstance(subject, str):
            subject = ",".join(str(s) for s in _as_names(subject))
        put("subject", str(subject).strip() or "auto")
        put("keep", _names_tuple(self.keep))
        put("drop", _names_tuple(self.drop))
        _choice("quality", self.quality, QUALITIES)
        if self.refine is not None:
            _choice("refine", self.refine, REFINES)
        _choice("output", self.output, OUTPUTS)
        if self.instance is not None:
            put("instance", _checked("instance", parse_instance, self.instance))
        put("background", _checked("bg", lambda b: parse_background(b, max_pixels=self.max_pixels),
                                   self.background))  # fmt: skip
        if self.crop is not None:
            _checked("crop", check_margin, self.crop)
        put("device", _checked("device", resolve_device, self.device))
        if self.max_pixels is not None and (
            not isinstance(self.max_pixels, int) or isinstance(self.max_pixels, bool) or self.max_pixels < 1
        ):
            raise _fail("max_pixels", f"must be a whole number >= 1, got {self.max_pixels!r}")
        kind, classes = _resolve_subject(self.subject, self.keep, self.drop)
        put("kind", kind)
        put("classes", classes)
        self._check_combinations()

    def _check_combinations(self) -> None:
        cutout = self.output in ("image", "sticker") and self.background.transparent
        if self.crop is not None and not (cutout and self.output == "image"):
            raise _fail("crop", "needs a transparent cutout (output image, no background)")
        if self.output == "sticker" and not self.background.transparent:
            raise _fail("bg", "a sticker is a transparent cutout; it takes no background")
        if self.model is not None and self.kind == "classes":
            raise _fail("model", "cannot be combined with VOC classes (they always use deeplabv3-voc)")

    @classmethod
    def from_strings(cls, values: Mapping[str, str | Sequence[str] | None]) -> RemoveOptions:
        """Options from text, as the command line, HTTP fields and batch configs give them.

        Keys are the names in `OPTION_TEXTS` ("-" and "_" alike); None or empty values are
        left at their defaults; `keep` and `drop` may be lists. Unknown keys are errors.

        Raises:
            OptionError: an unknown key or a bad value; the message names the option.
            InputError: a background picture that cannot be read or is too large.

        Example:
            >>> RemoveOptions.from_strings({"quality": "fast", "bg": "blur:20"}).background
            Blur(radius=20.0)
        """
        typed: dict[str, Any] = {}
        for raw_key, raw in values.items():
            key = _option_key(raw_key)
            if raw is None or (not isinstance(raw, str) and not list(raw)):
                continue
            text = OPTION_TEXTS[key]
            if text.multiple:
                typed[key] = tuple(_as_names(raw))
                continue
            value = (raw if isinstance(raw, str) else ",".join(raw)).strip()
            if value:
                typed[key] = _from_text(key, text, value)
        return cls.from_values(typed)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> RemoveOptions:
        """Options from one flat mapping of Python values, keyed as in `OPTION_TEXTS`.

        The mask edits (erode, dilate, threshold, feather) and the sticker's look (margin,
        outline, outline_color, shadow) are gathered into their own types; `bg` and
        `background` are the same option.

        Raises:
            OptionError: an unknown key or a bad value; the message names the option.
            InputError: a background picture that cannot be read or is too large.
        """
        parsed: dict[str, Any] = {}
        edits: dict[str, Any] = {}
        style: dict[str, Any] = {}
        for raw_key, value in values.items():
            key = _option_key(raw_key)
            target = edits if key in _EDIT_KEYS else style if key in _STYLE_KEYS else parsed
            target[_FIELD_NAMES.get(key, key)] = value
        if edits:
            parsed["edits"] = MaskEdits(**edits)
        if style:
            parsed["sticker"] = StickerStyle(**style)
        return cls(**parsed)

    def with_changes(self, **changes: Any) -> RemoveOptions:
        """A copy with some fields changed, checked again."""
        return replace(self, **changes)


def _option_key(name: str) -> str:
    """The canonical name of an option ("max-pixels" -> "max_pixels"); unknown names fail."""
    key = name.replace("-", "_").strip().lower()
    key = "bg" if key == "background" else key
    if key not in OPTION_TEXTS:
        close = difflib.get_close_matches(key, list(OPTION_TEXTS), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise _fail(key, f"unknown option; known: {', '.join(OPTION_TEXTS)}.{hint}")
    return key


def _checked(option: str, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except OptionError as exc:
        raise _named(option, exc) from None
    except InputError:
        raise


def _as_names(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [part for item in value for part in _as_names(str(item))]
    return [str(value)]


def _names_tuple(value: object) -> tuple[str, ...]:
    return tuple(_as_names(value))


def _resolve_subject(
    subject: str, keep: tuple[str, ...], drop: tuple[str, ...]
) -> tuple[str, frozenset[int] | None]:
    """The subject kind, and the kept VOC classes for kind "classes"."""
    named = subject.lower()
    if not keep and not drop and named in ("auto", *_PERSON_WORDS):
        return ("person" if named in _PERSON_WORDS else "auto"), None
    if named != "auto":
        _checked("subject", _check_subject, subject)
    kept = ([] if named == "auto" else _as_names(subject)) + list(keep)
    try:
        classes = select_classes(keep=kept or None, drop=list(drop) or None)
    except OptionError as exc:
        raise _named("drop" if drop and not kept else "keep", exc) from None
    return "classes", classes


def _check_subject(subject: str) -> None:
    try:
        parse_classes(subject)
    except OptionError:
        if "," in subject:  # a list of classes: name the unknown one
            raise
        words = ("auto", "person", *VOC_CLASSES[1:])
        close = difflib.get_close_matches(subject.strip().lower(), words, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise OptionError(
            f"unknown subject '{subject}'; use auto, person, or VOC classes: "
            f"{', '.join(VOC_CLASSES[1:])}.{hint}"
        ) from None


# -- the string options -------------------------------------------------------------------


@dataclass(frozen=True)
class OptionText:
    """How one option is given as text: its help line, metavar, choices and type.

    Attributes:
        help: one line for --help and the HTTP docs.
        metavar: how its value is shown ("PX", "CLASS[,CLASS]").
        choices: the allowed values, when there is a fixed list.
        kind: "text", "int", "float" or "bool".
        multiple: may be given several times (or comma-separated).
        short: the command line's one-letter flag, if any.
    """

    help: str
    metavar: str = ""
    choices: tuple[str, ...] = ()
    kind: str = "text"
    multiple: bool = False
    short: str = ""


OPTION_TEXTS: dict[str, OptionText] = {
    "subject": OptionText(
        "What to keep: any salient subject, people, or Pascal VOC classes (dog,cat).",
        "auto|person|CLASS[,CLASS]", short="-s",
    ),
    "quality": OptionText("Speed/quality level.", "|".join(QUALITIES), QUALITIES, short="-Q"),
    "keep": OptionText("VOC classes to keep (see `mattekit classes`).", "CLASS[,CLASS]", multiple=True),
    "drop": OptionText(
        "VOC classes to drop; alone, every other object class stays.", "CLASS[,CLASS]", multiple=True
    ),
    "instance": OptionText("Keep one object only: the largest, or the N-th largest.", "largest|N"),
    "refine": OptionText(
        "Edges: none (bilinear), guided (edge-aware), matting (alpha matting of the edge band). "
        "Default: the level's.",
        "|".join(REFINES), REFINES,
    ),
    "erode": OptionText("Shrink the mask by PX pixels.", "PX", kind="int"),
    "dilate": OptionText("Grow the mask by PX pixels.", "PX", kind="int"),
    "threshold": OptionText("Hard mask: subject where the mask >= T (0-1).", "T", kind="float"),
    "feather": OptionText("Soften the mask's edge (Gaussian sigma in pixels).", "PX", kind="float"),
    "bg": OptionText(
        "New background: an image file, a colour (white, '#00ff00'), blur[:RADIUS] or transparent.",
        "IMAGE|COLOR|blur[:R]",
    ),
    "output": OptionText("What to make.", "|".join(OUTPUTS), OUTPUTS),
    "crop": OptionText("Crop to the subject plus MARGIN: pixels, 16px, or 5%.", "MARGIN"),
    "margin": OptionText(
        "Space around the sticker: pixels, 16px, or a percentage of the subject.", "MARGIN"
    ),
    "outline": OptionText("Outline width in pixels (0: none).", "PX", kind="float"),
    "outline_color": OptionText("Outline colour: a name or #hex.", "COLOR"),
    "shadow": OptionText("Add a soft drop shadow.", kind="bool"),
    "estimate_foreground": OptionText(
        "Recover the subject's colours at soft edges (no halo).", kind="bool"
    ),
    "model": OptionText(
        "Run this model instead of the level's (a user model from `mattekit models add`).", "NAME"
    ),
    "device": OptionText(
        "ONNX Runtime device (default $MATTEKIT_DEVICE or cpu).", "|".join(DEVICES), tuple(DEVICES)
    ),
    "max_pixels": OptionText(
        "Refuse inputs with more pixels (default 100 MP or $MATTEKIT_MAX_PIXELS).", "N", kind="int"
    ),
}  # fmt: skip

_SEGMENT_OPTIONS = ("subject", "quality", "keep", "drop", "instance", "model", "device", "max_pixels")
_EDIT_OPTIONS = ("refine", "erode", "dilate", "threshold", "feather")
_LOOK_OPTIONS = ("margin", "outline", "outline_color", "shadow")

VERB_OPTIONS: dict[str, tuple[str, ...]] = {
    "remove": (*_SEGMENT_OPTIONS, *_EDIT_OPTIONS, "estimate_foreground", "crop"),
    "replace": (*_SEGMENT_OPTIONS, *_EDIT_OPTIONS, "estimate_foreground", "bg"),
    "mask": (*_SEGMENT_OPTIONS, *_EDIT_OPTIONS),
    "sticker": (*_SEGMENT_OPTIONS, *_EDIT_OPTIONS, "estimate_foreground", *_LOOK_OPTIONS),
    "classes": ("quality", "device", "max_pixels"),
    "video": ("bg", *_SEGMENT_OPTIONS, *_EDIT_OPTIONS, "estimate_foreground"),
}
"""The options each verb takes (names of `OPTION_TEXTS`), in the order they are shown: the
command line's flags and the server's fields are built from these lists."""

_EDIT_KEYS = frozenset(f.name for f in fields(MaskEdits))
_STYLE_KEYS = frozenset(f.name for f in fields(StickerStyle))
_FIELD_NAMES = {"bg": "background"}


def _from_text(key: str, text: OptionText, value: str) -> Any:
    """One option's value from text, by its kind."""
    if text.kind == "bool":
        lower = value.lower()
        if lower in _TRUE or lower in _FALSE:
            return lower in _TRUE
        raise _fail(key, f"'{value}' is not a yes/no value (true, false, 1, 0, yes, no, on, off)")
    if text.kind in ("int", "float"):
        try:
            return int(value) if text.kind == "int" else float(value)
        except ValueError:
            noun = "a whole number" if text.kind == "int" else "a number"
            raise _fail(key, f"'{value}' is not {noun}") from None
    if key in ("margin", "crop"):
        try:
            return float(value)
        except ValueError:
            return value
    return value
