"""The fixed facts of both formats, and opening a tflite flatbuffer.

ONNX side: the opset, IR version and interface names. Layout: the NHWC <-> NCHW
permutations. tflite side: operator, options and dtype tables, MediaPipe's padding
enum, the decoded operator (`_Op`) and the error op handlers raise (`_Unsupported`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

from mattekit.errors import ModelError

__all__ = ["INPUT_NAME", "IR_VERSION", "OPSET", "OUTPUT_NAME"]

OPSET = 17
IR_VERSION = 8  # the IR version onnx wrote with opset 17, so older onnxruntime versions load it
INPUT_NAME = "input"
OUTPUT_NAME = "output"

_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)
_AXIS_TO_NCHW = (0, 2, 3, 1)  # NHWC axis i is NCHW axis _AXIS_TO_NCHW[i]

_OP_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
_OPTION_NAMES = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}
_DTYPES = {
    TensorType.FLOAT32: np.float32,
    TensorType.FLOAT16: np.float16,
    TensorType.INT32: np.int32,
    TensorType.INT64: np.int64,
    TensorType.UINT8: np.uint8,
    TensorType.INT8: np.int8,
}
_MP_PADDING_SAME, _MP_PADDING_VALID = 1, 2  # TfLitePadding enum in the C API


class _Unsupported(Exception):
    """Raised by an op handler; the converter adds the file and operator to the message."""


@dataclass(frozen=True)
class _Op:
    """One tflite operator, decoded."""

    index: int
    kind: str  # builtin name, or "CUSTOM:<custom code>"
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Any
    custom: bytes


def _parse_model(data: bytes, source: str) -> Any:
    """Return the flatbuffer root of a one-subgraph tflite model, or raise ModelError."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(
            f"{source} is not a TFLite model: expected the flatbuffer identifier 'TFL3' "
            f"at byte 4, found {bytes(data[4:8])!r}; the file is corrupt or of another format"
        )
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() != 1:
        raise ModelError(f"cannot convert {source}: expected 1 subgraph, found {model.SubgraphsLength()}")
    return model
