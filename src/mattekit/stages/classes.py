"""The 21 Pascal VOC classes: names and aliases, class selections, the palette, the report.

Example:
    >>> parse_classes("dog, TV, dining table")
    (12, 20, 11)
    >>> sorted(VOC_CLASSES[i] for i in select_classes(keep=None, drop=["person"]))[:3]
    ['aeroplane', 'bicycle', 'bird']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mattekit.errors import OptionError
from mattekit.models.registry import VOC_LABELS
from mattekit.stages.pieces import ranked_pieces

__all__ = [
    "VOC_CLASSES",
    "ClassShare",
    "class_index",
    "class_report",
    "parse_classes",
    "select_classes",
    "voc_palette",
]

VOC_CLASSES: tuple[str, ...] = VOC_LABELS
"""Class names by index, as the DeepLab model numbers them (0 = background)."""

# Other names people use for the classes (compared after lower-casing and dropping spaces,
# hyphens, underscores and slashes).
_ALIASES = {
    "airplane": "aeroplane", "plane": "aeroplane", "aircraft": "aeroplane",
    "bike": "bicycle", "cycle": "bicycle",
    "ship": "boat",
    "automobile": "car",
    "kitty": "cat",
    "table": "diningtable",
    "puppy": "dog",
    "motorcycle": "motorbike", "scooter": "motorbike",
    "people": "person", "persons": "person", "human": "person", "humans": "person",
    "man": "person", "woman": "person", "child": "person",
    "plant": "pottedplant", "pottedplants": "pottedplant", "houseplant": "pottedplant",
    "lamb": "sheep",
    "couch": "sofa",
    "tv": "tvmonitor", "monitor": "tvmonitor", "television": "tvmonitor", "screen": "tvmonitor",
}  # fmt: skip


def _normal(name: str) -> str:
    return re.sub(r"[\s_/\-]+", "", name.strip().lower())


_LOOKUP = {_normal(n): i for i, n in enumerate(VOC_CLASSES)} | {
    _normal(alias): VOC_CLASSES.index(target) for alias, target in _ALIASES.items()
}
# Plural "s" of every class name ("dogs", "cats", "buses" needs the "es" form too).
_LOOKUP |= {k + "s": v for k, v in list(_LOOKUP.items()) if not k.endswith("s")}
_LOOKUP |= {"buses": VOC_CLASSES.index("bus"), "sheeps": VOC_CLASSES.index("sheep")}


def class_index(name: str) -> int:
    """The index of class `name` (any case; aliases such as "tv", "plant", "people" accepted).

    Raises:
        OptionError: unknown class; the message lists the known ones.
    """
    key = _normal(name)
    if key in _LOOKUP:
        return _LOOKUP[key]
    close = difflib.get_close_matches(key, list(_LOOKUP), n=1, cutoff=0.6)
    hint = f" Did you mean '{VOC_CLASSES[_LOOKUP[close[0]]]}'?" if close else ""
    raise OptionError(f"unknown class '{name.strip()}'; known: {', '.join(VOC_CLASSES[1:])}.{hint}")


def parse_classes(names: str | Iterable[str]) -> tuple[int, ...]:
    """Class indices from "dog,cat" or ["dog", "cat"], in the order given, without repeats.

    Raises:
        OptionError: an unknown class, or no class at all.
    """
    items = (
        names.split(",")
        if isinstance(names, str)
        else [part for name in names for part in str(name).split(",")]
    )
    indices: list[int] = []
    for item in items:
        if item.strip():
            index = class_index(item)
            if index not in indices:
                indices.append(index)
    if not indices:
        raise OptionError("no class named; give one or more of: " + ", ".join(VOC_CLASSES[1:]))
    return tuple(indices)


def select_classes(
    keep: str | Iterable[str] | None = None, drop: str | Iterable[str] | None = None
) -> frozenset[int]:
    """The classes that stay in the picture.

    With `keep`, exactly those classes stay. With only `drop`, every object class (not the
    background) stays except those dropped. Naming a class in both is an error.

    Raises:
        OptionError: unknown class names, a class both kept and dropped, nothing named, or
            nothing left to keep.
    """
    if keep is None and drop is None:
        raise OptionError("name the classes to keep or to drop")
    dropped = set(parse_classes(drop)) if drop is not None else set()
    if keep is not None:
        kept = set(parse_classes(keep))
        both = sorted(kept & dropped)
        if both:
            names = ", ".join(VOC_CLASSES[i] for i in both)
            raise OptionError(f"class {names} is both kept and dropped")
    else:
        kept = set(range(1, len(VOC_CLASSES))) - dropped
    if not kept:
        raise OptionError("every class is dropped; nothing would be left")
    return frozenset(kept)


def voc_palette() -> list[int]:
    """The standard Pascal VOC colour palette (256 RGB triples, flattened) for "P" PNGs.

    Class i gets the colour whose bits interleave i's bits (the VOC devkit's `labelcolormap`):
    background black, aeroplane (128, 0, 0), bicycle (0, 128, 0), ...; 255 (void) is
    (224, 224, 192).
    """
    palette: list[int] = []
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette += [r, g, b]
    return palette


@dataclass(frozen=True)
class ClassShare:
    """One class found in an image: its share of the pixels, its bounding box, and how many
    separate objects (connected pieces, as `--instance` counts them) it forms.

    box is (x0, y0, x1, y1) in pixels, x1 and y1 exclusive.
    """

    name: str
    index: int
    share: float
    box: tuple[int, int, int, int]
    objects: int = 1

    def to_dict(self) -> dict[str, Any]:
        """As plain JSON-ready values."""
        return asdict(self)


def class_report(class_map: NDArray[np.uint8], min_share: float = 0.0) -> list[ClassShare]:
    """The object classes present in a class map, largest share first.

    Args:
        class_map: HxW class indices (as `SemanticSegmenter.class_map` returns).
        min_share: leave out classes covering less than this fraction of the pixels.
    """
    counts = np.bincount(class_map.ravel(), minlength=len(VOC_CLASSES))
    total = class_map.size
    found = []
    for index in np.flatnonzero(counts[1 : len(VOC_CLASSES)]) + 1:
        share = counts[index] / total
        if share < min_share:
            continue
        pixels = class_map == index
        rows = np.flatnonzero(pixels.any(axis=1))
        cols = np.flatnonzero(pixels.any(axis=0))
        box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        objects = len(ranked_pieces(pixels)[1])
        found.append(ClassShare(VOC_CLASSES[index], int(index), float(share), box, objects))
    return sorted(found, key=lambda c: -c.share)
