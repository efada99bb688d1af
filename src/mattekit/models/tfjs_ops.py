"""Op handlers of the TFJS -> ONNX converter (`mattekit.models.tfjs`), one per TF op.

Each handler reads one TF node and emits ONNX nodes through the converter's helpers. 4-D
activations are NCHW inside the ONNX graph (`Converter.nchw`), everything else keeps TF's layout
(`Converter.plain`). TF semantics that need care, and how they are kept:

- Convolutions: HWIO filters -> OIHW; a depthwise ``[kh, kw, C, M]`` filter -> ``[C*M, 1, kh, kw]``
  with ``group = C`` (TF's output channel ``c*M + m``). ``padding`` SAME with stride 1 is the
  fixed total ``(k - 1) * dilation`` (the extra cell at the bottom/right, as TF); with a larger
  stride it depends on the frame size and is ONNX ``SAME_UPPER``, computed at run time the same
  way. VALID is no padding, EXPLICIT takes ``explicit_paddings``. ``_FusedConv2D`` and
  ``FusedDepthwiseConv2dNative`` apply their ``fused_ops``: BiasAdd, then at most one of Relu,
  Relu6, Elu, Sigmoid, LeakyRelu (Prelu and FusedBatchNorm are refused).
- AvgPool never counts padded cells (``count_include_pad=0``), as TF and TFJS.
- ResizeBilinear: ``align_corners`` -> "align_corners", ``half_pixel_centers`` -> "half_pixel"
  (TFJS clamps source coordinates into the image, as ONNX Runtime does), neither -> "asymmetric".
- SpaceToBatchND -> convolution -> BatchToSpaceND (how TF writes a dilated convolution) becomes
  Pad -> the convolution with ``dilation = block`` -> crop: the same products and sums without
  the shuffles. Anywhere else the two ops are rebuilt exactly with Pad, Reshape and Transpose.
  Paddings and crops are run-time values, so any frame size works.
- Slice's ``size`` -1 means "to the end"; StridedSlice supports begin/end/shrink masks.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from onnx import TensorProto

if TYPE_CHECKING:
    from mattekit.models.tfjs import Converter

__all__ = ["HANDLERS", "TF_TYPES", "TO_NCHW", "TO_NHWC", "TfNode", "Unsupported", "decode_attr"]

TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]
_AXIS = (0, 2, 3, 1)  # NHWC axis i is NCHW axis _AXIS[i]
_END = int(np.iinfo(np.int64).max)
_FLOAT, _INT = int(TensorProto.FLOAT), int(TensorProto.INT64)
TF_TYPES = {"DT_FLOAT": _FLOAT, "DT_INT32": _INT, "DT_INT64": _INT, "DT_BOOL": int(TensorProto.BOOL)}


class Unsupported(Exception):
    """Raised by a handler; the converter adds the node and the file to the message."""


@dataclass(frozen=True)
class TfNode:
    """One GraphDef node: its data inputs as ``node:port`` (control inputs dropped)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: Mapping[str, Any]

    def attr(self, key: str, default: Any = None) -> Any:
        """A decoded attribute, or ``default``."""
        return self.attrs.get(key, default)


def decode_attr(value: Mapping[str, Any]) -> Any:
    """Decode one JSON AttrValue: strings (base64), ints, floats, bools, types, lists of them.

    Shapes and tensors are returned as their JSON objects.

    Example:
        >>> decode_attr({"s": "U0FNRQ=="}), decode_attr({"list": {"i": ["1", "2"]}})
        ('SAME', [1, 2])
    """
    kinds: dict[str, Callable[[Any], Any]] = {
        "s": lambda s: base64.b64decode(s).decode("utf-8", "replace"),
        "i": int, "f": float, "b": bool, "type": str,
    }  # fmt: skip
    if "list" in value:
        items = value["list"]
        return next(([kinds[k](x) for x in items[k]] for k in kinds if k in items), [])
    for key, parse in kinds.items():
        if key in value:
            return parse(value[key])
    return next((value[k] for k in ("shape", "tensor", "func") if k in value), None)


Handler = Callable[["Converter", TfNode], None]


def _part(c: Converter, vector: str, start: int, end: int) -> str:
    """Elements ``start:end`` of a 1-D tensor."""
    return c.emit("Slice", [vector, c.init([start]), c.init([end])])[0]


def _dtype(c: Converter, refs: tuple[str, ...]) -> int:
    values = [c.value(r) for r in refs]
    return next((v.dtype for v in values if v.const is None), values[0].dtype)


def _either(c: Converter, ref: str) -> tuple[str, bool]:
    """A tensor in whatever layout it has: (ONNX name, is NCHW)."""
    v = c.value(ref)
    return (v.name, True) if v.nchw else (c.plain(ref), False)


# -- element-wise -------------------------------------------------------------------------

_FOLD: dict[str, Callable[[Any, Any], Any]] = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Min": np.minimum,
    "Max": np.maximum, "Mod": np.mod, "Equal": np.equal,
}  # fmt: skip


def _binary(onnx_type: str, out_type: int | None = None) -> Handler:
    def handler(c: Converter, n: TfNode) -> None:
        a, b = n.inputs
        va, vb = c.value(a), c.value(b)
        dtype = _dtype(c, n.inputs)
        if (onnx_type == "Mod" and dtype != _INT) or (onnx_type == "Div" and dtype == _INT):
            # TF's FloorMod of floats and RealDiv of ints have no single ONNX op: refuse
            raise Unsupported(f"{n.op} of {TensorProto.DataType.Name(dtype)} is not supported")
        if n.attr("data_format", "NHWC") != "NHWC":  # BiasAdd may say NCHW
            raise Unsupported(f"data_format {n.attr('data_format')} is not supported")
        if va.const is not None and vb.const is not None:
            folded = np.asarray(_FOLD[onnx_type](va.const, vb.const))
            c.set_const(n, 0, folded if onnx_type == "Equal" else folded.astype(va.const.dtype))
            return
        nchw = va.nchw or vb.nchw
        ins = [c.nchw(a), c.nchw(b)] if nchw else [c.plain(a), c.plain(b)]
        attrs = {"fmod": 0} if onnx_type == "Mod" else {}  # TF FloorMod: the divisor's sign
        c.set(n, 0, c.emit(onnx_type, ins, attrs)[0], out_type or dtype, nchw)

    return handler


def _activation(c: Converter, x: str, kind: str, n: TfNode) -> str:
    """Apply one TF activation to ONNX value ``x``."""
    if kind == "Relu6":
        zero, six = c.init(np.array(0.0, np.float32)), c.init(np.array(6.0, np.float32))
        return c.emit("Clip", [x, zero, six])[0]
    if kind == "Square":
        return c.emit("Mul", [x, x])[0]
    if kind == "LeakyRelu":
        return c.emit("LeakyRelu", [x], {"alpha": float(n.attr("leakyrelu_alpha", n.attr("alpha", 0.2)))})[0]
    simple = {"Relu": "Relu", "Elu": "Elu", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}
    if kind not in simple:
        raise Unsupported(f"activation {kind} is not supported")
    return c.emit(simple[kind], [x])[0]


def _unary(c: Converter, n: TfNode) -> None:
    x, nchw = _either(c, n.inputs[0])
    c.set(n, 0, _activation(c, x, n.op, n), c.value(n.inputs[0]).dtype, nchw)


def _cast(c: Converter, n: TfNode) -> None:
    to = TF_TYPES.get(str(n.attr("DstT")))
    if to is None:
        raise Unsupported(f"cast to {n.attr('DstT')} is not supported")
    v = c.value(n.inputs[0])
    if v.const is not None:
        np_type = {_FLOAT: np.float32, _INT: np.int64}.get(to, np.bool_)
        c.set_const(n, 0, v.const.astype(np_type))
        return
    x, nchw = _either(c, n.inputs[0])
    c.set(n, 0, c.emit("Cast", [x], {"to": to})[0], to, nchw)


# -- convolution, pooling, resizing -------------------------------------------------------


def _padding(n: TfNode, kernel: list[int]) -> dict[str, Any]:
    """ONNX padding attributes for a TF convolution or pooling node with this kernel size."""
    padding, strides = n.attr("padding"), _nhwc_pair(n, "strides")
    dilations = _nhwc_pair(n, "dilations") if "dilations" in n.attrs else [1, 1]
    if padding == "SAME" and strides == [1, 1]:  # the total is (k - 1) * d whatever the size
        totals = [(k - 1) * d for k, d in zip(kernel, dilations, strict=True)]
        return {"pads": [t // 2 for t in totals] + [t - t // 2 for t in totals]}
    if padding == "SAME":
        if dilations != [1, 1]:  # TF and TFJS refuse strides and dilations both above 1
            raise Unsupported("SAME padding with both strides and dilations above 1")
        return {"auto_pad": "SAME_UPPER"}  # computed at run time; the extra cell at the end, as TF
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "EXPLICIT":
        e = [int(v) for v in n.attr("explicit_paddings", [])]
        if len(e) != 8 or any(e[:2] + e[6:]):
            raise Unsupported(f"explicit_paddings {e} pad the batch or channel axis")
        return {"pads": [e[2], e[4], e[3], e[5]]}
    raise Unsupported(f"padding {padding!r} is not supported")


def _nhwc_pair(n: TfNode, key: str) -> list[int]:
    values = [int(v) for v in n.attr(key, [1, 1, 1, 1])]
    if n.attr("data_format", "NHWC") != "NHWC" or len(values) != 4 or values[0] != 1 or values[3] != 1:
        raise Unsupported(f"{key}={values} with data_format {n.attr('data_format')} is not supported")
    return values[1:3]


def _conv(depthwise: bool) -> Handler:
    def handler(c: Converter, n: TfNode) -> None:
        w = c.const(n.inputs[1])
        if w is None or w.ndim != 4 or w.dtype != np.float32:
            raise Unsupported("the filter must be a float32 4-D constant")
        kh, kw, ci, m = w.shape
        weight = (
            w.reshape(kh, kw, ci * m).transpose(2, 0, 1)[:, None] if depthwise else w.transpose(3, 2, 0, 1)
        )
        attrs = {"kernel_shape": [kh, kw], "strides": _nhwc_pair(n, "strides"), "group": ci if depthwise else 1,
                 "dilations": c.dilated.get(n.name) or _nhwc_pair(n, "dilations"), **_padding(n, [kh, kw])}  # fmt: skip
        inputs = [c.nchw(n.inputs[0]), c.init(weight, f"{n.inputs[1]}/oihw")]
        fused = [str(f) for f in n.attr("fused_ops", [])]
        if fused[:1] == ["BiasAdd"]:
            bias = c.const(n.inputs[2])
            if bias is None or bias.ndim != 1 or int(n.attr("num_args", 1)) != 1:
                raise Unsupported("a fused BiasAdd needs one constant 1-D bias")
            inputs.append(c.init(bias, f"{n.inputs[2]}/bias"))
            fused = fused[1:]
        if len(fused) > 1 or (fused and fused[0] == "Prelu"):
            raise Unsupported(f"fused ops {n.attr('fused_ops')} are not supported")
        y = c.emit("Conv", inputs, attrs)[0]
        c.set(n, 0, _activation(c, y, fused[0], n) if fused else y, _FLOAT, True)

    return handler


def _pool(onnx_type: str) -> Handler:
    def handler(c: Converter, n: TfNode) -> None:
        kernel = _nhwc_pair(n, "ksize")
        attrs = {"kernel_shape": kernel, "strides": _nhwc_pair(n, "strides"), **_padding(n, kernel)}
        if onnx_type == "AveragePool":
            attrs["count_include_pad"] = 0
        c.set(n, 0, c.emit(onnx_type, [c.nchw(n.inputs[0])], attrs)[0], _FLOAT, True)

    return handler


def _resize_bilinear(c: Converter, n: TfNode) -> None:
    align, half = bool(n.attr("align_corners", False)), bool(n.attr("half_pixel_centers", False))
    if align and half:
        raise Unsupported("align_corners and half_pixel_centers cannot both be set")
    x = c.nchw(n.inputs[0])
    sizes = c.emit("Concat", [_part(c, c.emit("Shape", [x])[0], 0, 2), c.plain(n.inputs[1])], {"axis": 0})[0]
    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"
    attrs = {"mode": "linear", "coordinate_transformation_mode": mode}
    c.set(n, 0, c.emit("Resize", [x, "", "", sizes], attrs)[0], _FLOAT, True)


def _dilation_pattern(c: Converter, n: TfNode, block: list[int]) -> TfNode | None:
    """The convolution of TF's dilated-convolution pattern that starts at SpaceToBatchND ``n``, if any.

    The pattern: SpaceToBatchND -> (Depthwise)Conv VALID, stride 1, dilation 1 -> BatchToSpaceND
    with the same block, each the only consumer of the one before. The convolution then runs on
    the padded frame with ``dilation = block`` and the crop is applied to its output: the same
    products and sums, without the space/batch shuffles.
    """
    conv = c.sole_consumer(f"{n.name}:0")
    if conv is None or conv.op not in _CONVS or conv.inputs[0] != f"{n.name}:0":
        return None
    if conv.attr("padding") != "VALID" or _nhwc_pair(conv, "strides") != [1, 1]:
        return None
    if "dilations" in conv.attrs and _nhwc_pair(conv, "dilations") != [1, 1]:
        return None
    after = c.sole_consumer(f"{conv.name}:0")
    if after is None or after.op != "BatchToSpaceND" or c.peek_ints(after.inputs[1]) != block:
        return None
    return conv


def _pad_as_tf(c: Converter, x: str, paddings_ref: str) -> str:
    """Pad an NCHW tensor by a TF ``[[top, bottom], [left, right]]`` tensor (run-time values)."""
    pads = c.emit("Reshape", [c.plain(paddings_ref), c.init([-1])])[0]  # top, bottom, left, right
    pads = c.emit("Concat", [pads, c.init([0])], {"axis": 0})[0]
    pads = c.emit("Gather", [pads, c.init([4, 4, 0, 2, 4, 4, 1, 3])], {"axis": 0})[0]
    return c.emit("Pad", [x, pads])[0]


def _space_to_batch(c: Converter, n: TfNode) -> None:
    """[N,C,H,W] -> pad -> [N,C,H/b0,b0,W/b1,b1] -> [b0,b1,N,C,H/b0,W/b1] -> [b0*b1*N,C,H/b0,W/b1]."""
    block = c.ints(n.inputs[1])
    if len(block) != 2:
        raise Unsupported(f"block_shape {block}: only 2 spatial axes are supported")
    padded = _pad_as_tf(c, c.nchw(n.inputs[0]), n.inputs[2])
    conv = _dilation_pattern(c, n, block)
    if conv is not None:  # the convolution dilates instead; BatchToSpaceND only crops
        c.dilated[conv.name] = block
        c.set(n, 0, padded, _FLOAT, True)
        return
    shape = c.emit("Shape", [padded])[0]
    hw = c.emit("Div", [_part(c, shape, 2, 4), c.init(block)])[0]
    parts = [
        _part(c, shape, 0, 2),
        _part(c, hw, 0, 1),
        c.init(block[:1]),
        _part(c, hw, 1, 2),
        c.init(block[1:]),
    ]
    y = c.emit("Reshape", [padded, c.emit("Concat", parts, {"axis": 0})[0]])[0]
    y = c.emit("Transpose", [y], {"perm": [3, 5, 0, 1, 2, 4]})[0]
    target = c.emit("Concat", [c.init([-1]), _part(c, shape, 1, 2), hw], {"axis": 0})[0]
    c.set(n, 0, c.emit("Reshape", [y, target])[0], _FLOAT, True)


def _batch_to_space(c: Converter, n: TfNode) -> None:
    """[b0*b1*N,C,h,w] -> [b0,b1,N,C,h,w] -> [N,C,h,b0,w,b1] -> [N,C,h*b0,w*b1] -> crop."""
    block = c.ints(n.inputs[1])
    if len(block) != 2:
        raise Unsupported(f"block_shape {block}: only 2 spatial axes are supported")
    y = c.nchw(n.inputs[0])
    crops = c.emit("Reshape", [c.plain(n.inputs[2]), c.init([-1])])[0]
    shape = c.emit("Shape", [y])[0]
    producer = _split_node(n.inputs[0])
    if c.dilated.get(producer) == block:  # the output of a dilated convolution: only crop
        hw = _part(c, shape, 2, 4)
    else:
        split = c.emit("Concat", [c.init([*block, -1]), _part(c, shape, 1, 4)], {"axis": 0})[0]
        y = c.emit("Transpose", [c.emit("Reshape", [y, split])[0]], {"perm": [2, 3, 4, 0, 5, 1]})[0]
        hw = c.emit("Mul", [_part(c, shape, 2, 4), c.init(block)])[0]
        target = c.emit("Concat", [c.init([-1]), _part(c, shape, 1, 2), hw], {"axis": 0})[0]
        y = c.emit("Reshape", [y, target])[0]
    starts = c.emit("Gather", [crops, c.init([0, 2])], {"axis": 0})[0]
    ends = c.emit("Sub", [hw, c.emit("Gather", [crops, c.init([1, 3])], {"axis": 0})[0]])[0]
    c.set(n, 0, c.emit("Slice", [y, starts, ends, c.init([2, 3])])[0], _FLOAT, True)


def _split_node(ref: str) -> str:
    return ref.partition(":")[0]


# -- reductions, joins, splits, padding ---------------------------------------------------


def _mean(c: Converter, n: TfNode) -> None:
    axes, keep = c.ints(n.inputs[1]), bool(n.attr("keep_dims", False))
    v = c.value(n.inputs[0])
    if v.nchw and keep:
        x, axes = v.name, sorted(_AXIS[a % 4] for a in axes)
    else:
        x = c.plain(n.inputs[0])
    c.set(n, 0, c.emit("ReduceMean", [x], {"axes": axes, "keepdims": int(keep)})[0], v.dtype, v.nchw and keep)


def _concat(c: Converter, n: TfNode) -> None:
    refs, axis = n.inputs[:-1], c.ints(n.inputs[-1])[0]
    values = [c.value(r) for r in refs]
    if all(v.const is not None for v in values):
        c.set_const(n, 0, np.concatenate([v.const for v in values if v.const is not None], axis=axis))
        return
    nchw = any(v.nchw for v in values)
    names = [c.nchw(r) if nchw else c.plain(r) for r in refs]
    c.set(
        n, 0, c.emit("Concat", names, {"axis": _AXIS[axis % 4] if nchw else axis})[0], _dtype(c, refs), nchw
    )


def _split(c: Converter, n: TfNode) -> None:
    if n.op == "Split":
        axis, ref, sizes = c.ints(n.inputs[0])[0], n.inputs[1], None
        count = int(n.attr("num_split"))
    else:  # SplitV
        ref, sizes, axis = n.inputs[0], c.ints(n.inputs[1]), c.ints(n.inputs[2])[0]
        count = len(sizes)
        if min(sizes) < 0:
            raise Unsupported(f"size_splits {sizes} with -1 is not supported")
    x, nchw = _either(c, ref)
    inputs = [x] + ([c.init(sizes)] if sizes else [])
    outs = c.emit("Split", inputs, {"axis": _AXIS[axis % 4] if nchw else axis}, n_out=count)
    for port, name in enumerate(outs):
        c.set(n, port, name, c.value(ref).dtype, nchw)


def _pad(c: Converter, n: TfNode) -> None:
    rows = np.asarray(c.ints(n.inputs[1]), dtype=np.int64).reshape(-1, 2)
    x, nchw = _either(c, n.inputs[0])
    if nchw:
        rows = rows[TO_NCHW]
    dtype = c.value(n.inputs[0]).dtype
    fill = c.const(n.inputs[2]) if n.op == "PadV2" else 0
    if fill is None:
        raise Unsupported("the pad value must be a constant")
    value = np.asarray(fill, dtype=np.float32 if dtype == _FLOAT else np.int64).reshape(())
    inputs = [x, c.init([*rows[:, 0].tolist(), *rows[:, 1].tolist()]), c.init(value)]
    c.set(n, 0, c.emit("Pad", inputs)[0], dtype, nchw)


# -- shapes and indexing ------------------------------------------------------------------


def _shape(c: Converter, n: TfNode) -> None:
    v = c.value(n.inputs[0])
    if v.const is not None:
        c.set_const(n, 0, np.asarray(v.const.shape, dtype=np.int64))
        return
    shape = c.emit("Shape", [v.name if v.nchw else c.plain(n.inputs[0])])[0]
    if v.nchw:  # back into TF's NHWC order
        shape = c.emit("Gather", [shape, c.init(TO_NHWC)], {"axis": 0})[0]
    c.set(n, 0, shape, _INT)


def _strided_slice(c: Converter, n: TfNode) -> None:
    begin, end, strides = (c.ints(r) for r in n.inputs[1:4])
    masks = {k: int(n.attr(f"{k}_mask", 0)) for k in ("begin", "end", "shrink_axis", "ellipsis", "new_axis")}
    if masks["ellipsis"] or masks["new_axis"]:
        raise Unsupported("ellipsis_mask and new_axis_mask are not supported")
    starts, ends, shrink = [], [], []
    for i, (b, e, s) in enumerate(zip(begin, end, strides, strict=True)):
        if masks["shrink_axis"] >> i & 1:
            starts.append(b)
            ends.append(b + 1 if b != -1 else _END)
            shrink.append(i)
            continue
        starts.append(b if not masks["begin"] >> i & 1 else 0 if s > 0 else _END)
        ends.append(e if not masks["end"] >> i & 1 else _END if s > 0 else -_END - 1)
    steps = [1 if i in shrink else s for i, s in enumerate(strides)]
    axes = list(range(len(begin)))
    y = c.emit("Slice", [c.plain(n.inputs[0]), c.init(starts), c.init(ends), c.init(axes), c.init(steps)])[0]
    if shrink:
        y = c.emit("Squeeze", [y, c.init(shrink)])[0]
    c.set(n, 0, y, c.value(n.inputs[0]).dtype)


def _slice(c: Converter, n: TfNode) -> None:
    x, nchw = _either(c, n.inputs[0])
    begin, size = c.plain(n.inputs[1]), c.plain(n.inputs[2])
    minus_one = c.emit("Equal", [size, c.init([-1])])[0]
    ends = c.emit("Where", [minus_one, c.init([_END]), c.emit("Add", [begin, size])[0]])[0]
    if nchw:
        begin = c.emit("Gather", [begin, c.init(TO_NCHW)], {"axis": 0})[0]
        ends = c.emit("Gather", [ends, c.init(TO_NCHW)], {"axis": 0})[0]
    c.set(n, 0, c.emit("Slice", [x, begin, ends])[0], c.value(n.inputs[0]).dtype, nchw)


def _pack(c: Converter, n: TfNode) -> None:
    axis = int(n.attr("axis", 0))
    values = [c.value(r) for r in n.inputs]
    if all(v.const is not None for v in values):
        c.set_const(n, 0, np.stack([v.const for v in values if v.const is not None], axis=axis))
        return
    parts = [c.emit("Unsqueeze", [c.plain(r), c.init([axis])])[0] for r in n.inputs]
    c.set(n, 0, c.emit("Concat", parts, {"axis": axis})[0], _dtype(c, n.inputs))


def _squeeze(c: Converter, n: TfNode) -> None:
    axes = [int(a) for a in n.attr("squeeze_dims", [])]
    x = c.plain(n.inputs[0])
    y = c.emit("Squeeze", [x, c.init(axes)] if axes else [x])[0]
    c.set(n, 0, y, c.value(n.inputs[0]).dtype)


def _broadcast_to(c: Converter, n: TfNode) -> None:
    y = c.emit("Expand", [c.plain(n.inputs[0]), c.plain(n.inputs[1])])[0]
    c.set(n, 0, y, c.value(n.inputs[0]).dtype)


_CONVS = ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")

HANDLERS: dict[str, Handler] = {
    "Add": _binary("Add"), "AddV2": _binary("Add"), "BiasAdd": _binary("Add"), "Sub": _binary("Sub"),
    "Mul": _binary("Mul"), "RealDiv": _binary("Div"), "Minimum": _binary("Min"), "Maximum": _binary("Max"),
    "FloorMod": _binary("Mod"), "Equal": _binary("Equal", int(TensorProto.BOOL)),
    "Relu": _unary, "Relu6": _unary, "Elu": _unary, "Sigmoid": _unary, "Tanh": _unary, "Square": _unary,
    "LeakyRelu": _unary, "Cast": _cast,
    "Conv2D": _conv(False), "_FusedConv2D": _conv(False),
    "DepthwiseConv2dNative": _conv(True), "FusedDepthwiseConv2dNative": _conv(True),
    "AvgPool": _pool("AveragePool"), "MaxPool": _pool("MaxPool"), "ResizeBilinear": _resize_bilinear,
    "SpaceToBatchND": _space_to_batch, "BatchToSpaceND": _batch_to_space,
    "Mean": _mean, "ConcatV2": _concat, "Split": _split, "SplitV": _split, "Pad": _pad, "PadV2": _pad,
    "Shape": _shape, "StridedSlice": _strided_slice, "Slice": _slice, "Pack": _pack, "Squeeze": _squeeze,
    "BroadcastTo": _broadcast_to,
}  # fmt: skip
