"""Tests for mattekit.models.convert: TFLite -> ONNX, checked against LiteRT.

Two kinds of test:
- small hand-built tflite models, one per operator semantic that needs care (SAME padding,
  pooling counts, resize coordinate modes, MediaPipe's transposed convolution), run in LiteRT
  and in ONNX Runtime on random inputs;
- the real models (marked ``models``) on real photos.
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import flatbuffers
import numpy as np
import onnxruntime as ort
import pytest
from ai_edge_litert.interpreter import Interpreter
from tflite.ActivationFunctionType import ActivationFunctionType as Act
from tflite.BuiltinOperator import BuiltinOperator as Op
from tflite.BuiltinOptions import BuiltinOptions
from tflite.Padding import Padding
from tflite.TensorType import TensorType

from evalset import EVAL
from mattekit.errors import ModelError
from mattekit.models.convert import convert_tflite_to_onnx, tflite_to_onnx_model

PHOTOS_PER_MODEL = 6
MAX_ABS_DIFF = 1e-3

# -- a minimal tflite writer -------------------------------------------------------------


@dataclass
class T:
    """A tensor of a hand-built model: a constant when `data` is set."""

    shape: tuple[int, ...]
    data: np.ndarray | None = None


@dataclass
class N:
    """An operator of a hand-built model: a builtin code or a custom op name."""

    code: int | str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)
    options_table: str | None = None
    custom: bytes = b""


_TYPES = {
    np.dtype(np.float32): TensorType.FLOAT32,
    np.dtype(np.float16): TensorType.FLOAT16,
    np.dtype(np.int32): TensorType.INT32,
}


def _schema(name: str) -> Any:
    """The generated flatbuffer module `tflite.<name>` (the package shadows modules with classes)."""
    return importlib.import_module(f"tflite.{name}")


def _table(b: flatbuffers.Builder, name: str, fields: dict[str, Any]) -> int:
    """Build table `name` from already-built scalar or offset fields."""
    mod = _schema(name)
    mod.Start(b)
    for key, value in fields.items():
        getattr(mod, f"Add{key}")(b, value)
    return mod.End(b)


def _vector(b: flatbuffers.Builder, owner: str, what: str, offsets: list[int]) -> int:
    """A vector of tables (`offsets`) for field `what` of table `owner`."""
    getattr(_schema(owner), f"Start{what}Vector")(b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def build_tflite(tensors: list[T], nodes: list[N]) -> bytes:
    """Serialise a one-subgraph float model: input tensor 0, output the last tensor."""
    b = flatbuffers.Builder(1024)
    buffers = [_table(b, "Buffer", {})]
    tensor_offsets = []
    for i, t in enumerate(tensors):
        buffer = 0
        if t.data is not None:
            data = b.CreateNumpyVector(np.frombuffer(t.data.tobytes(), np.uint8))
            buffers.append(_table(b, "Buffer", {"Data": data}))
            buffer = len(buffers) - 1
        dtype = TensorType.FLOAT32 if t.data is None else _TYPES[t.data.dtype]
        shape = b.CreateNumpyVector(np.array(t.shape, np.int32))
        name = b.CreateString(f"t{i}")
        tensor_offsets.append(
            _table(b, "Tensor", {"Shape": shape, "Type": dtype, "Buffer": buffer, "Name": name})
        )
    codes: list[int | str] = list(dict.fromkeys(n.code for n in nodes))
    code_offsets = []
    for code in codes:
        if isinstance(code, str):
            fields = {
                "CustomCode": b.CreateString(code),
                "BuiltinCode": Op.CUSTOM,
                "DeprecatedBuiltinCode": Op.CUSTOM,
            }
        else:
            fields = {"BuiltinCode": code, "DeprecatedBuiltinCode": min(code, 127)}
        code_offsets.append(_table(b, "OperatorCode", {**fields, "Version": 1}))
    op_offsets = []
    for n in nodes:
        fields = {
            "OpcodeIndex": codes.index(n.code),
            "Inputs": b.CreateNumpyVector(np.array(n.inputs, np.int32)),
            "Outputs": b.CreateNumpyVector(np.array(n.outputs, np.int32)),
        }
        if n.options_table:
            fields["BuiltinOptionsType"] = getattr(BuiltinOptions, n.options_table)
            fields["BuiltinOptions"] = _table(b, n.options_table, n.options)
        if n.custom:
            fields["CustomOptions"] = b.CreateNumpyVector(np.frombuffer(n.custom, np.uint8))
        op_offsets.append(_table(b, "Operator", fields))
    subgraph = _table(
        b,
        "SubGraph",
        {
            "Tensors": _vector(b, "SubGraph", "Tensors", tensor_offsets),
            "Inputs": b.CreateNumpyVector(np.array([0], np.int32)),
            "Outputs": b.CreateNumpyVector(np.array([len(tensors) - 1], np.int32)),
            "Operators": _vector(b, "SubGraph", "Operators", op_offsets),
        },
    )
    model = _table(
        b,
        "Model",
        {
            "Version": 3,
            "OperatorCodes": _vector(b, "Model", "OperatorCodes", code_offsets),
            "Subgraphs": _vector(b, "Model", "Subgraphs", [subgraph]),
            "Buffers": _vector(b, "Model", "Buffers", buffers),
        },
    )
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def run_litert(model: bytes | Path, x: np.ndarray) -> np.ndarray:
    """Run a tflite model in LiteRT (XNNPACK, as users of the original would)."""
    if isinstance(model, Path):
        interpreter = Interpreter(model_path=str(model))
    else:
        interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def onnx_session(model: bytes | Path) -> ort.InferenceSession:
    """An ONNX Runtime CPU session."""
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, providers=["CPUExecutionProvider"])


# -- hand-built single-operator models ------------------------------------------------------

RNG = np.random.default_rng(7)


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _conv_case(padding: int, stride: int, dilation: int, act: int) -> tuple[list[T], list[N]]:
    """CONV_2D on 7x8 (odd/even, so SAME pads are asymmetric)."""
    out_h, out_w = (
        ((7 - 1) // stride + 1, (8 - 1) // stride + 1)
        if padding == Padding.SAME
        else ((7 - 2 * dilation - 1) // stride + 1, (8 - 2 * dilation - 1) // stride + 1)
    )
    options = {
        "Padding": padding,
        "StrideH": stride,
        "StrideW": stride,
        "DilationHFactor": dilation,
        "DilationWFactor": dilation,
        "FusedActivationFunction": act,
    }
    return (
        [T((1, 7, 8, 3)), T((5, 3, 3, 3), _w(5, 3, 3, 3)), T((5,), _w(5)), T((1, out_h, out_w, 5))],
        [N(Op.CONV_2D, [0, 1, 2], [3], options, "Conv2DOptions")],
    )


def _depthwise_case() -> tuple[list[T], list[N]]:
    """DEPTHWISE_CONV_2D, depth multiplier 2, SAME, stride 2, fp16 weights via DEQUANTIZE."""
    options = {
        "Padding": Padding.SAME,
        "StrideH": 2,
        "StrideW": 2,
        "DepthMultiplier": 2,
        "DilationHFactor": 1,
        "DilationWFactor": 1,
        "FusedActivationFunction": Act.RELU,
    }
    return (
        [
            T((1, 6, 7, 3)),
            T((1, 3, 3, 6), _w(1, 3, 3, 6).astype(np.float16)),
            T((1, 3, 3, 6)),
            T((6,), _w(6)),
            T((1, 3, 4, 6)),
        ],
        [
            N(Op.DEQUANTIZE, [1], [2]),
            N(Op.DEPTHWISE_CONV_2D, [0, 2, 3], [4], options, "DepthwiseConv2DOptions"),
        ],
    )


def _pool_case(size: int, stride: int, padding: int, out: tuple[int, int]) -> tuple[list[T], list[N]]:
    """AVERAGE_POOL_2D on 7x8."""
    options = {
        "Padding": padding,
        "StrideH": stride,
        "StrideW": stride,
        "FilterHeight": size,
        "FilterWidth": size,
        "FusedActivationFunction": Act.NONE,
    }
    return [T((1, 7, 8, 4)), T((1, *out, 4))], [N(Op.AVERAGE_POOL_2D, [0], [1], options, "Pool2DOptions")]


def _mean_case(axes: list[int], out: tuple[int, ...]) -> tuple[list[T], list[N]]:
    """MEAN with keep_dims."""
    return (
        [T((1, 5, 6, 4)), T((len(axes),), np.array(axes, np.int32)), T(out)],
        [N(Op.MEAN, [0, 1], [2], {"KeepDims": True}, "ReducerOptions")],
    )


def _resize_case(align_corners: bool, half_pixel: bool) -> tuple[list[T], list[N]]:
    """RESIZE_BILINEAR 5x7 -> 12x4 (up in one axis, down in the other)."""
    options = {"AlignCorners": align_corners, "HalfPixelCenters": half_pixel}
    return (
        [T((1, 5, 7, 3)), T((2,), np.array([12, 4], np.int32)), T((1, 12, 4, 3))],
        [N(Op.RESIZE_BILINEAR, [0, 1], [2], options, "ResizeBilinearOptions")],
    )


def _elementwise_case() -> tuple[list[T], list[N]]:
    """ADD of a per-channel constant, MUL by an NHWC constant, CONCATENATION, activations."""
    return (
        [
            T((1, 4, 5, 3)),
            T((3,), _w(3)),
            T((1, 4, 5, 3)),
            T((1, 1, 5, 3), _w(1, 1, 5, 3)),
            T((1, 4, 5, 3)),
            T((1, 4, 5, 3)),
            T((1, 4, 5, 3)),
            T((1, 4, 5, 3)),
            T((1, 4, 5, 3)),
            T((1, 4, 5, 15)),
        ],
        [
            N(Op.ADD, [0, 1], [2], {"FusedActivationFunction": Act.RELU6}, "AddOptions"),
            N(Op.MUL, [2, 3], [4], {"FusedActivationFunction": Act.RELU_N1_TO_1}, "MulOptions"),
            N(Op.HARD_SWISH, [0], [5]),
            N(Op.LOGISTIC, [0], [6]),
            N(Op.TANH, [0], [7]),
            N(Op.RELU6, [0], [8]),
            N(
                Op.CONCATENATION,
                [4, 5, 6, 7, 8],
                [9],
                {"Axis": -1, "FusedActivationFunction": Act.NONE},
                "ConcatenationOptions",
            ),
        ],
    )


def _transpose_conv_case(
    padding: int, kernel: int, size: tuple[int, int], out: tuple[int, int]
) -> tuple[list[T], list[N]]:
    """MediaPipe Convolution2DTransposeBias, stride 2."""
    params = struct.pack("<3i", padding, 2, 2)  # TfLiteTransposeConvParams
    return (
        [
            T((1, *size, 4)),
            T((2, kernel, kernel, 4), _w(2, kernel, kernel, 4)),
            T((2,), _w(2)),
            T((1, *out, 2)),
        ],
        [N("Convolution2DTransposeBias", [0, 1, 2], [3], custom=params)],
    )


SMALL_CASES: dict[str, Callable[[], tuple[list[T], list[N]]]] = {
    "conv-same-stride2-relu6": lambda: _conv_case(Padding.SAME, 2, 1, Act.RELU6),
    "conv-same-dilated-relu": lambda: _conv_case(Padding.SAME, 1, 2, Act.RELU),
    "conv-valid-stride2-relu-n1-to-1": lambda: _conv_case(Padding.VALID, 2, 1, Act.RELU_N1_TO_1),
    "depthwise-multiplier2-fp16": _depthwise_case,
    "avgpool-same-3x3-stride2": lambda: _pool_case(3, 2, Padding.SAME, (4, 4)),
    "avgpool-valid-2x2": lambda: _pool_case(2, 2, Padding.VALID, (3, 4)),
    "avgpool-global": lambda: _pool_case(8, 8, Padding.SAME, (1, 1)),
    "mean-spatial": lambda: _mean_case([1, 2], (1, 1, 1, 4)),
    "mean-channels": lambda: _mean_case([-1], (1, 5, 6, 1)),
    "resize-asymmetric": lambda: _resize_case(False, False),
    "resize-align-corners": lambda: _resize_case(True, False),
    "resize-half-pixel": lambda: _resize_case(False, True),
    "elementwise-concat": _elementwise_case,
    # padding 1 = SAME, 2 = VALID; k2 on even sizes is the selfie models' geometry
    "transpose-conv-same-k2": lambda: _transpose_conv_case(1, 2, (6, 8), (12, 16)),
    "transpose-conv-same-k3": lambda: _transpose_conv_case(1, 3, (6, 8), (12, 16)),
    "transpose-conv-valid-k3": lambda: _transpose_conv_case(2, 3, (5, 6), (11, 13)),
}


@pytest.mark.parametrize("case", SMALL_CASES)
def test_operator_matches_litert(case: str) -> None:
    tensors, nodes = SMALL_CASES[case]()
    data = build_tflite(tensors, nodes)
    x = RNG.uniform(-4, 4, tensors[0].shape).astype(np.float32)
    expected = run_litert(data, x)
    got = onnx_session(tflite_to_onnx_model(data).SerializeToString()).run(None, {"input": x})[0]
    assert got.shape == expected.shape == tensors[-1].shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


# -- errors ---------------------------------------------------------------------------------


def test_unsupported_operator_names_op_and_file(tmp_path: Path) -> None:
    source = tmp_path / "floor.tflite"
    source.write_bytes(build_tflite([T((1, 2, 2, 1)), T((1, 2, 2, 1))], [N(Op.FLOOR, [0], [1])]))
    target = tmp_path / "floor.onnx"
    with pytest.raises(ModelError, match=r"floor\.tflite.*unsupported operator\(s\) FLOOR \(x1\)"):
        convert_tflite_to_onnx(source, target)
    assert list(tmp_path.iterdir()) == [source]


def test_unsupported_custom_operator() -> None:
    data = build_tflite([T((1, 2, 2, 1)), T((1, 2, 2, 1))], [N("MaxUnpooling2D", [0], [1])])
    with pytest.raises(ModelError, match=r"<bytes>.*CUSTOM:MaxUnpooling2D"):
        tflite_to_onnx_model(data)


def test_fused_tanh_is_refused() -> None:
    # TFLite's float conv kernel ignores a fused TANH, so there is no exact translation.
    tensors, nodes = _conv_case(Padding.VALID, 2, 1, Act.TANH)
    with pytest.raises(ModelError, match=r"operator #0 CONV_2D: fused activation function 4"):
        tflite_to_onnx_model(build_tflite(tensors, nodes))


def test_fused_activation_on_concatenation_is_refused() -> None:
    # TFLite's kernel rejects it, XNNPACK ignores it: no exact translation.
    tensors = [T((1, 2, 2, 1)), T((1, 2, 2, 2))]
    options = {"Axis": 3, "FusedActivationFunction": Act.RELU}
    nodes = [N(Op.CONCATENATION, [0, 0], [1], options, "ConcatenationOptions")]
    with pytest.raises(ModelError, match=r"#0 CONCATENATION: a fused activation .* no agreed meaning"):
        tflite_to_onnx_model(build_tflite(tensors, nodes))


def test_transpose_conv_geometry_where_runtimes_disagree_is_refused() -> None:
    # SAME, k2, stride 2 on an odd size: MediaPipe's kernel gives 9, XNNPACK 10.
    tensors, nodes = _transpose_conv_case(1, 2, (5, 6), (10, 12))
    with pytest.raises(ModelError, match=r"Convolution2DTransposeBias: MediaPipe's kernel gives a 9x12"):
        tflite_to_onnx_model(build_tflite(tensors, nodes))


def test_not_a_tflite_file(tmp_path: Path) -> None:
    source = tmp_path / "model.tflite"
    source.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ModelError, match=r"model\.tflite is not a TFLite model: expected .*'TFL3'"):
        convert_tflite_to_onnx(source, tmp_path / "model.onnx")
    with pytest.raises(ModelError, match="is not a TFLite model"):
        tflite_to_onnx_model(b"")


def test_corrupt_tflite_file() -> None:
    tensors, nodes = SMALL_CASES["conv-same-stride2-relu6"]()
    data = build_tflite(tensors, nodes)
    with pytest.raises(ModelError, match=r"^<bytes> is a corrupt TFLite model \(.*\); fetch it again$"):
        tflite_to_onnx_model(data[: len(data) // 2])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"cannot read tflite model .*absent\.tflite"):
        convert_tflite_to_onnx(tmp_path / "absent.tflite", tmp_path / "absent.onnx")


def test_output_replaced_atomically(tmp_path: Path) -> None:
    tensors, nodes = SMALL_CASES["elementwise-concat"]()
    source = tmp_path / "m.tflite"
    source.write_bytes(build_tflite(tensors, nodes))
    target = tmp_path / "out" / "m.onnx"
    target.parent.mkdir()
    target.write_bytes(b"stale")
    convert_tflite_to_onnx(source, target)
    assert [p.name for p in target.parent.iterdir()] == ["m.onnx"]
    assert onnx_session(target).get_inputs()[0].name == "input"


# -- the real models on real photos ---------------------------------------------------------


@dataclass(frozen=True)
class RealModel:
    """A real tflite model, the photos to test it on, and its input normalisation."""

    photos: str
    normalise: Callable[[np.ndarray], np.ndarray]


REAL_MODELS = {
    "selfie": RealModel("people", lambda rgb: rgb / 255.0),
    "selfie-landscape": RealModel("people", lambda rgb: rgb / 255.0),
    "deeplabv3-voc": RealModel("voc", lambda rgb: rgb / 127.5 - 1.0),
}


def _photos(
    folder: str, height: int, width: int, normalise: Callable[[np.ndarray], np.ndarray]
) -> list[np.ndarray]:
    """The first photos of an eval folder, resized with INTER_AREA and normalised, as NHWC batches."""
    paths = sorted((EVAL / folder / "images").glob("*.jpg"))[:PHOTOS_PER_MODEL]
    if not paths:
        pytest.skip(f"no photos in {EVAL / folder / 'images'}")
    batches = []
    for path in paths:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
        batches.append(normalise(rgb)[None].astype(np.float32))
    return batches


@pytest.mark.models
@pytest.mark.parametrize("name", REAL_MODELS)
def test_real_model_matches_litert(name: str, tflite_file: Callable[[str], Path], tmp_path: Path) -> None:
    source = tflite_file(name)
    target = tmp_path / f"{name}.onnx"
    convert_tflite_to_onnx(source, target)
    session = onnx_session(target)
    reference = Interpreter(model_path=str(source))
    reference.allocate_tensors()
    (want_in,), (want_out,) = reference.get_input_details(), reference.get_output_details()
    (got_in,), (got_out,) = session.get_inputs(), session.get_outputs()
    assert (got_in.name, got_in.shape, got_in.type) == ("input", list(want_in["shape"]), "tensor(float)")
    assert (got_out.name, got_out.shape) == ("output", list(want_out["shape"]))

    _, height, width, _ = want_in["shape"]
    spec = REAL_MODELS[name]
    for x in _photos(spec.photos, height, width, spec.normalise):
        reference.set_tensor(want_in["index"], x)
        reference.invoke()
        expected = reference.get_tensor(want_out["index"])
        got = session.run(None, {"input": x})[0]
        assert got.shape == expected.shape
        assert float(np.abs(got - expected).max()) < MAX_ABS_DIFF
