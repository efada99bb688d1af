"""rembg's HTTP API (``POST /api/remove``, as rembg 2.0.x's ``rembg s`` serves it), read into
mattekit's options, so a rembg client switches by changing the address.

rembg's fields and what they become here:

| field | rembg | here |
|---|---|---|
| ``file`` | the image (multipart) | the image (multipart, or the raw body) |
| ``model`` | a session name (default u2net) | a subject and level, by `REMBG_MODELS` |
| ``a`` | alpha matting on/off | ``refine=matting`` |
| ``af``, ``ab``, ``ae`` | matting thresholds (0-255) and erosion size | checked as rembg checks them; the matting here finds its own edge band |
| ``om`` | only the mask | ``output=mask``: an 8-bit greyscale PNG |
| ``ppm`` | post-process the mask (smooth, then make it hard) | ``threshold=0.5``: a hard mask |
| ``bgc`` (query) | background colour ``R,G,B,A`` | the cutout composed over that colour, still RGBA (as rembg) |
| ``extras`` (query) | JSON of session arguments | JSON object of the options of ``/v1/remove`` (``{"subject": "dog"}``); other keys are errors |

Custom rembg sessions (u2net_custom, dis_custom, ben_custom) load a model file by path, which
this server never does: add the model with ``mattekit models add`` and name it in
``extras`` (``{"model": "mine"}``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from mattekit.errors import OptionError
from mattekit.options import VERB_OPTIONS, RemoveOptions

__all__ = ["REMBG_MODELS", "RembgRequest", "rembg_request"]

REMBG_MODELS: dict[str, tuple[str, str]] = {
    "u2net": ("auto", "balanced"),
    "isnet-general-use": ("auto", "balanced"),
    "isnet-anime": ("auto", "balanced"),
    "sam": ("auto", "balanced"),
    "birefnet-general-lite": ("auto", "balanced"),
    "u2netp": ("auto", "fast"),
    "silueta": ("auto", "fast"),
    "u2net_human_seg": ("person", "balanced"),
    "u2net_cloth_seg": ("person", "balanced"),
    "birefnet-portrait": ("person", "accurate"),
    "birefnet-general": ("auto", "accurate"),
    "birefnet-dis": ("auto", "accurate"),
    "birefnet-hrsod": ("auto", "accurate"),
    "birefnet-cod": ("auto", "accurate"),
    "birefnet-massive": ("auto", "accurate"),
    "bria-rmbg": ("auto", "accurate"),
    "withoutbg": ("auto", "accurate"),
}
"""rembg's model names -> (subject, quality): the level nearest in what it finds and what it
costs (small, fast models -> fast; U-2-Net and IS-Net -> balanced; BiRefNet, BRIA -> accurate;
the human models -> person)."""

_CUSTOM = ("u2net_custom", "dis_custom", "ben_custom")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass
class RembgRequest:
    """rembg's fields, read: the options to run, and the colour to put behind the cutout."""

    options: RemoveOptions
    background: tuple[int, int, int, int] | None


def rembg_request(fields: Mapping[str, list[str]], *, max_pixels: int) -> RembgRequest:
    """Read rembg's fields (query and form together).

    Raises:
        OptionError: an unknown model, a bad value, or bad extras; the message names the field.
    """
    value = {key: values[-1] for key, values in fields.items()}
    unknown = sorted(set(value) - {"model", "a", "af", "ab", "ae", "om", "ppm", "bgc", "extras"})
    if unknown:
        raise OptionError(
            f"{unknown[0]}: not a field of rembg's /api/remove (model, a, af, ab, ae, om, ppm, bgc, extras)",
            unknown[0],
        )
    subject, quality = _model(value.get("model", "u2net").strip() or "u2net")
    for name, default, high in (("af", 240, 255), ("ab", 10, 255), ("ae", 10, None)):
        _number(name, value.get(name, str(default)), high)
    only_mask = _flag("om", value.get("om", ""))
    strings: dict[str, str | list[str]] = {
        "subject": subject,
        "quality": quality,
        "output": "mask" if only_mask else "image",
        "max_pixels": str(max_pixels),
    }
    if _flag("a", value.get("a", "")):
        strings["refine"] = "matting"
    if _flag("ppm", value.get("ppm", "")):
        strings["threshold"] = "0.5"
    strings.update(_extras(value.get("extras", "")))
    options = RemoveOptions.from_strings(strings)
    if options.max_pixels is not None and options.max_pixels > max_pixels:
        raise OptionError(f"max_pixels: at most the server's limit, {max_pixels}", "max_pixels")
    background = None if only_mask else _color(value.get("bgc", ""))
    return RembgRequest(options, background)


def _model(name: str) -> tuple[str, str]:
    if name in REMBG_MODELS:
        return REMBG_MODELS[name]
    if name in _CUSTOM:
        raise OptionError(
            f"model: '{name}' loads a model file by path, which this server never does; add the model "
            'with `mattekit models add NAME FILE` and pass extras={"model": "NAME"}',
            "model",
        )
    close = difflib.get_close_matches(name, list(REMBG_MODELS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise OptionError(
        f"model: '{name}' is not a rembg model; known: {', '.join(REMBG_MODELS)}.{hint}", "model"
    )


def _flag(name: str, text: str) -> bool:
    lower = text.strip().lower()
    if lower in _TRUE or lower in _FALSE or not lower:
        return lower in _TRUE
    raise OptionError(f"{name}: '{text}' is not a yes/no value (true, false, 1, 0)", name)


def _number(name: str, text: str, high: int | None) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise OptionError(f"{name}: '{text}' is not a whole number", name) from None
    if number < 0 or (high is not None and number > high):
        bound = f"from 0 to {high}" if high is not None else ">= 0"
        raise OptionError(f"{name}: must be {bound}, got {number}", name)
    return number


def _color(text: str) -> tuple[int, int, int, int] | None:
    if not text.strip():
        return None
    parts = [part.strip() for part in text.split(",")]
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (3, 4) or not all(0 <= n <= 255 for n in numbers):
        raise OptionError(f"bgc: '{text}' is not R,G,B,A (whole numbers from 0 to 255)", "bgc")
    red, green, blue, *rest = numbers
    return (red, green, blue, rest[0] if rest else 255)


def _extras(text: str) -> dict[str, str | list[str]]:
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise OptionError(f"extras: not JSON ({exc})", "extras") from None
    if not isinstance(parsed, dict):
        raise OptionError(
            'extras: must be a JSON object of mattekit options, e.g. {"subject": "dog"}', "extras"
        )
    strings: dict[str, str | list[str]] = {}
    allowed = VERB_OPTIONS["remove"]
    for raw_key, item in parsed.items():
        key = str(raw_key).replace("-", "_").strip().lower()
        if key not in allowed:
            raise OptionError(
                f"extras: '{raw_key}' is not an option here; it takes {', '.join(allowed)}", "extras"
            )
        if isinstance(item, bool):
            strings[key] = "true" if item else "false"
        elif isinstance(item, list):
            strings[key] = [str(part) for part in item]
        elif item is not None:
            strings[key] = str(item)
    return strings
