"""A bounded cache of Removers keyed by their options.

Removers built for the same options are reused; they all share the loaded models (ONNX
Runtime sessions are cached by model), so an entry costs little besides its options. A
Remover whose background is an uploaded picture is built for its request alone: its
options are never equal to another request's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from mattekit.options import RemoveOptions
from mattekit.remover import Remover
from mattekit.stages.backgrounds import Picture

__all__ = ["RemoverCache"]


class RemoverCache:
    """The last `size` Removers used, by options (least recently used goes first).

    Args:
        size: how many Removers to keep (>= 1).
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._removers: OrderedDict[RemoveOptions, Remover] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, options: RemoveOptions) -> Remover:
        """The Remover for `options`, built (and its models loaded) on first use.

        Raises:
            OptionError, ModelError: as `Remover` does.
        """
        if isinstance(options.background, Picture):
            return Remover(options)
        with self._lock:
            found = self._removers.get(options)
            if found is not None:
                self._removers.move_to_end(options)
                return found
        remover = Remover(options)  # outside the lock: loading a model may take seconds
        with self._lock:
            remover = self._removers.setdefault(options, remover)
            self._removers.move_to_end(options)
            while len(self._removers) > self.size:
                self._removers.popitem(last=False)
        return remover

    def loaded(self) -> list[str]:
        """What the cached Removers run ("selfie", "isnet-medium@768", ...), once each."""
        with self._lock:
            return sorted({remover.info.name for remover in self._removers.values()})

    def __len__(self) -> int:
        with self._lock:
            return len(self._removers)
