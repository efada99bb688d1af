"""Exact TFLite -> ONNX conversion for the float tflite models mattekit ships.

The converter handles only the operators used by the MediaPipe selfie
segmenters and DeepLab v3 (plus a few trivial activations), and refuses
anything else with a `ModelError`. The ONNX model keeps the tflite interface
(one NHWC float32 input named ``input``, one NHWC output named ``output``) but
runs NCHW inside: one Transpose at the input and one at the output.

Semantics that need care, and how they are mapped:

- TF "SAME" padding is computed from the static shapes, so pads may be
  asymmetric (the extra row/column goes at the bottom/right).
- AVERAGE_POOL_2D does not count padded cells (``count_include_pad=0``).
- RESIZE_BILINEAR: ``align_corners`` -> ONNX "align_corners",
  ``half_pixel_centers`` -> "half_pixel", neither -> "asymmetric".
- MediaPipe's custom ``Convolution2DTransposeBias`` follows the reference
  kernel in mediapipe/util/tflite/operations/transpose_conv_bias.cc: its
  custom options are a raw ``TfLiteTransposeConvParams`` struct
  (int32 padding: 1 = SAME, 2 = VALID; int32 stride_width; int32
  stride_height), the filter is OHWI, and SAME padding totals
  ``max(0, k - (in - 1) % stride - 1)``, split floor-first. XNNPACK (what
  LiteRT runs) instead gives ``in * stride`` outputs; geometries where the two
  disagree are refused.
- DEQUANTIZE of a constant (fp16 weights) is folded into a float32 initializer.
- Refused because TFLite itself has no single meaning for them: a fused TANH or
  SIGN_BIT (float kernels ignore it) and a fused activation on CONCATENATION
  (the builtin kernel rejects it, XNNPACK ignores it).

Every activation shape is checked against the tflite file with ONNX shape
inference, so a padding or size mistake fails the conversion instead of
producing a silently different model.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import tflite
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper
from tflite.ActivationFunctionType import ActivationFunctionType as _Act
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.Padding import Padding
from tflite.TensorType import TensorType

from mattekit.errors import ModelError
from mattekit.io.atomic import atomic_writer

__all__ = ["INPUT_NAME", "OPSET", "OUTPUT_NAME", "convert_tflite_to_onnx", "tflite_to_onnx_model"]

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


def _tf_pads(
    padding: int,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> list[int]:
    """ONNX pads [top, left, bottom, right] for TF SAME/VALID padding."""
    if padding == Padding.VALID:
        return [0, 0, 0, 0]
    if padding != Padding.SAME:
        raise _Unsupported(f"unknown padding mode {padding}")
    begin, end = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        total = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


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


# -- op handlers ------------------------------------------------------------------


def _dequantize(c: _Converter, op: _Op) -> None:
    """Fold DEQUANTIZE of an fp16 constant into a float32 constant."""
    value = c.const(op.inputs[0])
    if value is None or value.dtype != np.float16:
        raise _Unsupported("only DEQUANTIZE of float16 constants is supported")
    c.consts[op.outputs[0]] = value.astype(np.float32)


def _conv(c: _Converter, op: _Op, weight: NDArray[Any], group: int) -> None:
    """Emit a Conv for CONV_2D / DEPTHWISE_CONV_2D given the OIHW `weight`."""
    o = op.options
    _, h, w, _ = c.shape(op.inputs[0])
    kernel, stride = weight.shape[2:], (o.StrideH(), o.StrideW())
    dilation = (o.DilationHFactor(), o.DilationWFactor())
    inputs = [c.activation(op.inputs[0]), c.initializer(f"c{op.inputs[1]}_oihw", weight)]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        inputs.append(c.initializer(f"c{op.inputs[2]}", c.weight(op.inputs[2])))
    attrs = {
        "kernel_shape": list(kernel),
        "strides": list(stride),
        "dilations": list(dilation),
        "pads": _tf_pads(o.Padding(), (h, w), kernel, stride, dilation),
        "group": group,
    }
    c.emit(op, "Conv", inputs, o.FusedActivationFunction(), attrs)


def _conv_2d(c: _Converter, op: _Op) -> None:
    """CONV_2D: filter OHWI -> OIHW (grouped when the filter has fewer input channels)."""
    w = c.weight(op.inputs[1])
    cin = c.shape(op.inputs[0])[3]
    if cin % w.shape[3]:
        raise _Unsupported(f"input channels {cin} are not a multiple of filter channels {w.shape[3]}")
    _conv(c, op, w.transpose(_TO_NCHW), cin // w.shape[3])


def _depthwise_conv_2d(c: _Converter, op: _Op) -> None:
    """DEPTHWISE_CONV_2D: filter [1, kh, kw, C*M] -> [C*M, 1, kh, kw] with group = C."""
    w = c.weight(op.inputs[1])
    cin = c.shape(op.inputs[0])[3]
    if w.shape[0] != 1 or w.shape[3] % cin:
        raise _Unsupported(f"filter shape {w.shape} does not fit {cin} input channels")
    _conv(c, op, w[0].transpose(2, 0, 1)[:, None], cin)


def _transpose_conv_bias(c: _Converter, op: _Op) -> None:
    """MediaPipe Convolution2DTransposeBias: OHWI filter, bias, raw TfLiteTransposeConvParams."""
    if len(op.custom) < 12 or len(op.inputs) != 3:
        raise _Unsupported("expected 3 inputs and 12 bytes of TfLiteTransposeConvParams")
    padding, stride_w, stride_h = struct.unpack_from("<3i", op.custom)
    if padding not in (_MP_PADDING_SAME, _MP_PADDING_VALID) or min(stride_w, stride_h) < 1:
        raise _Unsupported(f"bad params padding={padding} stride=({stride_h}, {stride_w})")
    w = c.weight(op.inputs[1])
    _, h, wd, _ = c.shape(op.inputs[0])
    kernel, stride = w.shape[1:3], (stride_h, stride_w)
    totals = [
        max(0, k - (n - 1) % s - 1) if padding == _MP_PADDING_SAME else 0
        for n, k, s in zip((h, wd), kernel, stride, strict=False)
    ]
    size = tuple(s * (n - 1) + k - t for n, k, s, t in zip((h, wd), kernel, stride, totals, strict=False))
    if size != c.shape(op.outputs[0])[1:3]:
        # XNNPACK's SAME deconvolution gives in * stride; where that differs from MediaPipe's
        # reference kernel the two runtimes disagree, so there is no single answer to match.
        raise _Unsupported(
            f"MediaPipe's kernel gives a {size[0]}x{size[1]} output but the model declares "
            f"{c.shape(op.outputs[0])[1:3]}; runtimes disagree on this geometry"
        )
    inputs = [
        c.activation(op.inputs[0]),
        c.initializer(f"c{op.inputs[1]}_iohw", w.transpose(3, 0, 1, 2)),
        c.initializer(f"c{op.inputs[2]}", c.weight(op.inputs[2])),
    ]
    attrs = {
        "kernel_shape": list(kernel),
        "strides": list(stride),
        "pads": [t // 2 for t in totals] + [t - t // 2 for t in totals],
    }
    c.emit(op, "ConvTranspose", inputs, attrs=attrs)


def _average_pool_2d(c: _Converter, op: _Op) -> None:
    """AVERAGE_POOL_2D; TF never counts padded cells."""
    o = op.options
    x = c.activation(op.inputs[0])
    _, h, w, _ = c.shape(op.inputs[0])
    kernel, stride = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
    pads = _tf_pads(o.Padding(), (h, w), kernel, stride)
    if kernel == (h, w) and not any(pads):
        c.emit(op, "GlobalAveragePool", [x], o.FusedActivationFunction())
        return
    attrs = {
        "kernel_shape": list(kernel),
        "strides": list(stride),
        "pads": pads,
        "count_include_pad": 0,
    }
    c.emit(op, "AveragePool", [x], o.FusedActivationFunction(), attrs)


def _mean(c: _Converter, op: _Op) -> None:
    """MEAN with keep_dims over constant axes."""
    x = c.activation(op.inputs[0])
    axes = c.const(op.inputs[1])
    if axes is None or not op.options.KeepDims():
        raise _Unsupported("only MEAN over constant axes with keep_dims=True is supported")
    nchw = sorted({_AXIS_TO_NCHW[int(a) % 4] for a in np.ravel(axes)})
    if nchw == [2, 3]:
        c.emit(op, "GlobalAveragePool", [x])
    else:
        c.emit(op, "ReduceMean", [x], attrs={"axes": nchw, "keepdims": 1})


def _resize_bilinear(c: _Converter, op: _Op) -> None:
    """RESIZE_BILINEAR with TF's align_corners / half_pixel_centers coordinate mapping."""
    o = op.options
    x = c.activation(op.inputs[0])
    out_shape = c.shape(op.outputs[0])
    size = c.const(op.inputs[1])
    if size is not None and tuple(int(s) for s in np.ravel(size)) != out_shape[1:3]:
        raise _Unsupported(f"size {np.ravel(size).tolist()} disagrees with output shape {out_shape}")
    if o.AlignCorners() and o.HalfPixelCenters():
        raise _Unsupported("align_corners and half_pixel_centers cannot both be set")
    mode = "align_corners" if o.AlignCorners() else "half_pixel" if o.HalfPixelCenters() else "asymmetric"
    sizes = c.initializer(
        f"sizes_{op.outputs[0]}", np.array([out_shape[a] for a in _TO_NCHW], dtype=np.int64)
    )
    attrs = {"mode": "linear", "coordinate_transformation_mode": mode}
    c.emit(op, "Resize", [x, "", "", sizes], attrs=attrs)


def _binary(onnx_type: str) -> Callable[[_Converter, _Op], None]:
    """Handler for an element-wise binary op with a fused activation."""

    def handler(c: _Converter, op: _Op) -> None:
        fused = op.options.FusedActivationFunction() if op.options is not None else _Act.NONE
        c.emit(op, onnx_type, [c.operand(i) for i in op.inputs], fused)

    handler.__doc__ = f"Element-wise {onnx_type} with fused activation."
    return handler


def _concatenation(c: _Converter, op: _Op) -> None:
    """CONCATENATION along the matching NCHW axis."""
    o = op.options
    if o.FusedActivationFunction() != _Act.NONE:
        # TFLite's kernel rejects a fused activation here and XNNPACK ignores it: nothing to match.
        raise _Unsupported("a fused activation on CONCATENATION has no agreed meaning in TFLite")
    inputs = [c.operand(i) for i in op.inputs]
    c.emit(op, "Concat", inputs, attrs={"axis": _AXIS_TO_NCHW[o.Axis() % 4]})


def _unary(onnx_type: str) -> Callable[[_Converter, _Op], None]:
    """Handler for an attribute-free unary activation op."""

    def handler(c: _Converter, op: _Op) -> None:
        c.emit(op, onnx_type, [c.activation(op.inputs[0])])

    handler.__doc__ = f"Unary {onnx_type}."
    return handler


def _relu6(c: _Converter, op: _Op) -> None:
    """RELU6 as Clip(0, 6)."""
    c.fused_activation(_Act.RELU6, c.activation(op.inputs[0]), c.name(op.outputs[0]), f"op{op.index}")


_HANDLERS: dict[str, Callable[[_Converter, _Op], None]] = {
    "DEQUANTIZE": _dequantize,
    "CONV_2D": _conv_2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv_2d,
    "CUSTOM:Convolution2DTransposeBias": _transpose_conv_bias,
    "AVERAGE_POOL_2D": _average_pool_2d,
    "MEAN": _mean,
    "RESIZE_BILINEAR": _resize_bilinear,
    "ADD": _binary("Add"),
    "MUL": _binary("Mul"),
    "CONCATENATION": _concatenation,
    "LOGISTIC": _unary("Sigmoid"),
    "RELU": _unary("Relu"),
    "TANH": _unary("Tanh"),
    "HARD_SWISH": _unary("HardSwish"),
    "RELU6": _relu6,
}
