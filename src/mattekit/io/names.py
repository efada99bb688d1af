"""How the commands name their outputs: the input's stem, a tag, and the format's extension.

One table for every shell that writes files (the single-file commands and batch), so
`mattekit remove photo.jpg` and `mattekit batch` both write ``photo.cutout.png``.

Example:
    >>> OUTPUT_NAMES["remove"].for_stem("photo")
    'photo.cutout.png'
    >>> OUTPUT_NAMES["replace"].for_stem("photo", ".webp")
    'photo.replaced.webp'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OUTPUT_NAMES", "OutputName"]


@dataclass(frozen=True)
class OutputName:
    """The name of one kind of output.

    Attributes:
        tag: put between the input's stem and the extension (".cutout").
        ext: the default extension, with its dot (".png").
    """

    tag: str
    ext: str

    def for_stem(self, stem: str, ext: str | None = None) -> str:
        """The output's file name for an input stem; `ext` (with its dot) overrides the default."""
        return f"{stem}{self.tag}{ext or self.ext}"


OUTPUT_NAMES: dict[str, OutputName] = {
    "remove": OutputName(".cutout", ".png"),
    "replace": OutputName(".replaced", ".jpg"),
    "mask": OutputName(".mask", ".png"),
    "class-map": OutputName(".classes", ".png"),
    "sticker": OutputName(".sticker", ".png"),
}
"""By command (and "class-map" for `mask --classes`)."""
