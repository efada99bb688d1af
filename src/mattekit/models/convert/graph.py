"""The converter: entry points, and `_Converter`, which builds one ONNX graph from one tflite subgraph.

`_Converter` reads tensors and operators from the flatbuffer, offers the ONNX-building helpers
the op handlers call (initializers, nodes, activations, fused activations), dispatches each
operator through `ops._HANDLERS`, and checks the result with the ONNX checker and shape inference.
"""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import tflite
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper
from tflite.ActivationFunctionType import ActivationFunctionType as _Act
from tflite.BuiltinOperator import BuiltinOperator
from tflite.TensorType import TensorType

from mattekit.errors import ModelError
from mattekit.io.atomic import atomic_writer
from mattekit.models.convert.ops import _HANDLERS
from mattekit.models.convert.schema import (
    _DTYPES,
    _OP_NAMES,
    _OPTION_NAMES,
    _TO_NCHW,
    _TO_NHWC,
    INPUT_NAME,
    IR_VERSION,
    OPSET,
    OUTPUT_NAME,
    _Op,
    _parse_model,
    _Unsupported,
)

__all__ = ["convert_tflite_to_onnx", "tflite_to_onnx_model"]


def convert_tflite_to_onnx(tflite_path: Path, onnx_path: Path) -> None:
    """Convert a tflite file to an ONNX file, written atomically.

    Args:
        tflite_path: The tflite model to read.
        onnx_path: Where to write the ONNX model (replaced atomically).

    Raises:
        ModelError: The file cannot be read, is not a tflite model, or uses an
            operator this converter does not support.

    Example:
        >>> convert_tflite_to_onnx(Path("selfie.tflite"), Path("selfie.onnx"))  # doctest: +SKIP
    """
    tflite_path, onnx_path = Path(tflite_path), Path(onnx_path)
    try:
        data = tflite_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read tflite model {tflite_path}: {exc}") from exc
    model = tflite_to_onnx_model(data, source=str(tflite_path))
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(onnx_path) as out:
        out.write(model.SerializeToString())


def tflite_to_onnx_model(data: bytes, source: str = "<bytes>") -> onnx.ModelProto:
    """Convert tflite flatbuffer bytes to an ONNX model.

    Args:
        data: The tflite file's bytes.
        source: Where the bytes came from, used in error messages.

    Returns:
        A checked opset-17 ONNX model with the tflite model's NHWC interface.

    Raises:
        ModelError: The bytes are not a tflite model or cannot be converted exactly.

    Example:
        >>> model = tflite_to_onnx_model(Path("selfie.tflite").read_bytes())  # doctest: +SKIP
        >>> [i.name for i in model.graph.input]  # doctest: +SKIP
        ['input']
    """
    try:
        return _Converter(data, source).convert()
    except (struct.error, ValueError, TypeError, IndexError, KeyError) as exc:
        # flatbuffers decodes lazily, so a damaged file fails wherever it is first read
        raise ModelError(
            f"{source} is a corrupt TFLite model ({type(exc).__name__}: {exc}); fetch it again"
        ) from exc


class _Converter:
    """Builds one ONNX graph from one tflite subgraph."""

    def __init__(self, data: bytes, source: str) -> None:
        self.source = source
        self.data = data
        self.model = _parse_model(data, source)
        self.graph = self.model.Subgraphs(0)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, TensorProto] = {}
        self.consts: dict[int, NDArray[Any]] = {}
        self.ready: set[int] = set()

    # -- reading the tflite model -------------------------------------------------

    def shape(self, idx: int) -> tuple[int, ...]:
        """Static shape of tensor `idx`."""
        tensor = self.graph.Tensors(idx)
        return tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()

    def tensor_type(self, idx: int) -> int:
        """tflite TensorType of tensor `idx`."""
        return int(self.graph.Tensors(idx).Type())

    def const(self, idx: int) -> NDArray[Any] | None:
        """Value of constant tensor `idx` (NHWC layout), or None if it is computed."""
        if idx in self.consts:
            return self.consts[idx]
        tensor = self.graph.Tensors(idx)
        buffer = self.model.Buffers(tensor.Buffer())
        if buffer.Offset() > 1:  # large models keep buffers after the flatbuffer
            raw = self.data[buffer.Offset() : buffer.Offset() + buffer.Size()]
        elif buffer.DataLength():
            raw = buffer.DataAsNumpy().tobytes()
        else:
            return None
        dtype = _DTYPES.get(tensor.Type())
        if dtype is None:
            raise _Unsupported(f"constant tensor {idx} has unsupported type {tensor.Type()}")
        value = np.frombuffer(raw, dtype=dtype).reshape(self.shape(idx)).copy()
        self.consts[idx] = value
        return value

    def decode(self, index: int) -> _Op:
        """Decode operator `index` of the subgraph."""
        op = self.graph.Operators(index)
        code = self.model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == BuiltinOperator.CUSTOM:
            kind = "CUSTOM:" + (code.CustomCode() or b"").decode("utf-8", "replace")
        else:
            kind = _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
        options = None
        if op.BuiltinOptionsType():
            cls = getattr(tflite, _OPTION_NAMES[op.BuiltinOptionsType()])
            table = op.BuiltinOptions()
            options = cls()
            options.Init(table.Bytes, table.Pos)
        custom = op.CustomOptionsAsNumpy().tobytes() if op.CustomOptionsLength() else b""
        return _Op(
            index,
            kind,
            tuple(int(i) for i in op.InputsAsNumpy()) if op.InputsLength() else (),
            tuple(int(i) for i in op.OutputsAsNumpy()) if op.OutputsLength() else (),
            options,
            custom,
        )

    # -- building the ONNX graph --------------------------------------------------

    @staticmethod
    def name(idx: int) -> str:
        """ONNX value name of tflite tensor `idx` (NCHW layout)."""
        return f"t{idx}"

    def initializer(self, name: str, value: NDArray[Any]) -> str:
        """Add (once) an initializer and return its name."""
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(value), name)
        return name

    def node(
        self,
        op_type: str,
        inputs: list[str],
        outputs: list[str],
        tag: str,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        """Append an ONNX node named after `tag` (the tflite operator it comes from)."""
        node = helper.make_node(op_type, inputs, outputs, name=f"{tag}_{op_type}")
        node.attribute.extend(helper.make_attribute(k, v) for k, v in (attrs or {}).items())
        self.nodes.append(node)

    def activation(self, idx: int) -> str:
        """Name of computed 4-D activation tensor `idx`, checking it exists."""
        if idx not in self.ready:
            raise _Unsupported(f"input tensor {idx} is not a computed activation")
        return self.name(idx)

    def weight(self, idx: int) -> NDArray[Any]:
        """Float32 constant `idx` (weights or bias)."""
        value = self.const(idx)
        if value is None or value.dtype != np.float32:
            raise _Unsupported(f"tensor {idx} must be a float32 constant (weights)")
        return value

    def operand(self, idx: int) -> str:
        """Name of an element-wise operand: an activation, or a constant made NCHW-broadcastable."""
        value = self.const(idx)
        if value is None:
            return self.activation(idx)
        if value.dtype != np.float32:
            raise _Unsupported(f"constant operand {idx} is {value.dtype}, not float32")
        if value.ndim == 4:
            value = value.transpose(_TO_NCHW)
        elif value.ndim == 1:  # broadcasts along the last (channel) axis in NHWC
            value = value.reshape(1, -1, 1, 1)
        elif value.ndim != 0:
            raise _Unsupported(f"constant operand {idx} of rank {value.ndim} cannot be laid out NCHW")
        return self.initializer(f"c{idx}_nchw", value)

    def scalar(self, value: float) -> str:
        """A float32 scalar initializer."""
        return self.initializer(f"scalar_{value:g}", np.array(value, dtype=np.float32))

    def emit(
        self,
        op: _Op,
        op_type: str,
        inputs: list[str],
        fused: int = _Act.NONE,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        """Emit the main node of `op` into its output, followed by its fused activation."""
        out = self.name(op.outputs[0])
        if fused == _Act.NONE:
            self.node(op_type, inputs, [out], f"op{op.index}", attrs)
        else:
            self.node(op_type, inputs, [f"{out}_pre"], f"op{op.index}", attrs)
            self.fused_activation(fused, f"{out}_pre", out, f"op{op.index}")

    def fused_activation(self, fused: int, x: str, y: str, tag: str) -> None:
        """Emit a tflite fused activation function from `x` to `y`."""
        if fused == _Act.RELU:
            self.node("Relu", [x], [y], tag)
        elif fused == _Act.RELU6:
            self.node("Clip", [x, self.scalar(0.0), self.scalar(6.0)], [y], tag)
        elif fused == _Act.RELU_N1_TO_1:
            self.node("Clip", [x, self.scalar(-1.0), self.scalar(1.0)], [y], tag)
        else:
            # TFLite's float kernels clamp only to the three ranges above and silently ignore a
            # fused TANH or SIGN_BIT, so no ONNX op reproduces "the" semantics: refuse.
            raise _Unsupported(f"fused activation function {fused} is not supported")

    # -- the conversion -----------------------------------------------------------

    def convert(self) -> onnx.ModelProto:
        """Convert the whole subgraph and return the checked ONNX model."""
        ops = [self.decode(i) for i in range(self.graph.OperatorsLength())]
        self.check_supported(ops)
        in_idx, out_idx = self.interface()
        self.node("Transpose", [INPUT_NAME], [self.name(in_idx)], "input", {"perm": list(_TO_NCHW)})
        self.ready.add(in_idx)
        for op in ops:
            try:
                _HANDLERS[op.kind](self, op)
            except _Unsupported as exc:
                raise ModelError(
                    f"cannot convert {self.source} to ONNX: operator #{op.index} {op.kind}: {exc}"
                ) from exc
            if op.kind != "DEQUANTIZE":
                self.ready.update(op.outputs)
        self.node("Transpose", [self.activation(out_idx)], [OUTPUT_NAME], "output", {"perm": list(_TO_NHWC)})
        model = self.assemble(in_idx, out_idx)
        self.check_shapes(model)
        return model

    def check_supported(self, ops: list[_Op]) -> None:
        """Raise ModelError naming every operator kind the converter lacks."""
        missing = Counter(op.kind for op in ops if op.kind not in _HANDLERS)
        if missing:
            found = ", ".join(f"{kind} (x{n})" for kind, n in sorted(missing.items()))
            raise ModelError(
                f"cannot convert {self.source} to ONNX: unsupported operator(s) {found}. "
                f"mattekit's converter supports only {', '.join(sorted(_HANDLERS))}; "
                "run this model with LiteRT instead, or extend mattekit.models.convert"
            )

    def interface(self) -> tuple[int, int]:
        """Validate the single NHWC float32 input and output; return their tensor indices."""
        ins, outs = self.graph.InputsAsNumpy(), self.graph.OutputsAsNumpy()
        if self.graph.InputsLength() != 1 or self.graph.OutputsLength() != 1:
            raise ModelError(
                f"cannot convert {self.source} to ONNX: expected 1 input and 1 output, found "
                f"{self.graph.InputsLength()} and {self.graph.OutputsLength()}"
            )
        for idx in (int(ins[0]), int(outs[0])):
            shape = self.shape(idx)
            if self.tensor_type(idx) != TensorType.FLOAT32 or len(shape) != 4 or min(shape) < 1:
                raise ModelError(
                    f"cannot convert {self.source} to ONNX: interface tensor {idx} must be "
                    f"float32 NHWC with a static shape, found type {self.tensor_type(idx)} shape {shape}"
                )
        return int(ins[0]), int(outs[0])

    def assemble(self, in_idx: int, out_idx: int) -> onnx.ModelProto:
        """Wrap nodes and initializers into a checked ONNX model."""
        graph = helper.make_graph(
            self.nodes,
            "mattekit_tflite",
            [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(self.shape(in_idx)))],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, list(self.shape(out_idx)))],
            initializer=list(self.initializers.values()),
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="mattekit",
            ir_version=IR_VERSION,
        )
        model.doc_string = f"Converted from {Path(self.source).name} by mattekit.models.convert"
        try:
            onnx.checker.check_model(model)
        except onnx.checker.ValidationError as exc:
            raise ModelError(f"conversion of {self.source} produced an invalid ONNX model: {exc}") from exc
        return model

    def check_shapes(self, model: onnx.ModelProto) -> None:
        """Check that ONNX shape inference reproduces every tflite activation shape."""
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        except onnx.shape_inference.InferenceError as exc:
            raise ModelError(f"conversion of {self.source} is inexact: {exc}") from exc
        for info in inferred.graph.value_info:
            if not (info.name.startswith("t") and info.name[1:].isdigit()):
                continue
            idx = int(info.name[1:])
            want = tuple(self.shape(idx)[a] for a in _TO_NCHW)
            got = tuple(d.dim_value for d in info.type.tensor_type.shape.dim)
            if got != want:
                raise ModelError(
                    f"conversion of {self.source} is inexact: tensor {idx} "
                    f"({self.graph.Tensors(idx).Name().decode()}) has NCHW shape {got} "
                    f"in ONNX but {want} in tflite"
                )
