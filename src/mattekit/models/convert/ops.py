"""The op handlers: one function per supported tflite operator, and the table that maps them.

Each handler takes the `_Converter` and one decoded `_Op`, and emits its ONNX nodes through the
converter; it raises `_Unsupported` for a case it cannot convert exactly.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from math import ceil
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from tflite.ActivationFunctionType import ActivationFunctionType as _Act
from tflite.Padding import Padding

from mattekit.models.convert.schema import (
    _AXIS_TO_NCHW,
    _MP_PADDING_SAME,
    _MP_PADDING_VALID,
    _TO_NCHW,
    _Op,
    _Unsupported,
)

if TYPE_CHECKING:  # graph.py imports this module for _HANDLERS
    from mattekit.models.convert.graph import _Converter


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
