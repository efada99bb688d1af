"""Exact TFJS graph-model -> ONNX conversion (reading, weights, control flow, interface).

A TFJS graph model is a ``model.json`` (a TensorFlow GraphDef as JSON in ``modelTopology``, a
``signature`` and a ``weightsManifest``) plus binary weight shards. This module reads it,
dequantizes the weights exactly as TensorFlow.js does, and builds an opset-17 ONNX graph; the op
handlers live in `mattekit.models.tfjs_ops`. Anything it does not know is refused with a
`ModelError`, never guessed.

How TF semantics are kept:

- Layout: the model's interface stays NHWC (the TFJS signature's names, dtypes and shapes), but
  4-D activations run NCHW inside. Each value remembers its layout; an op that needs the TF
  layout (shape arithmetic, BroadcastTo) gets a Transpose, and ``Shape`` of an NCHW value is
  gathered back into NHWC order, so shape arithmetic sees TF's numbers.
- int32 (shapes, sizes, axes) is carried as int64, the type ONNX's shape operators take; Cast
  from float truncates toward zero in TF, TFJS and ONNX Runtime alike.
- Control flow: TF1 ``cond`` (Switch/Merge) becomes an ONNX ``If``. Every tensor gets the set of
  (predicate, branch) pairs it depends on; nodes inside a branch go into that branch's subgraph,
  and the Merges of one predicate become the outputs of one ``If``. Nested conds and loops are
  refused.
- Interface: the inputs are the placeholders the outputs need, named as in the graph; the outputs
  are the signature's, named by its keys. ONNX needs a rank where TFJS may leave it open: such
  an input is rank 4 when it is broadcast to an activation (a recurrent state; 1x1x1x1 zeros
  still work), else a scalar.
- Weights: ``uint8``/``uint16`` quantization is ``q * scale + min`` computed in float64 and
  rounded to float32 (TFJS's own decoder; ``Math.round`` of it for int32), ``float16`` is widened
  exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from mattekit.errors import ModelError
from mattekit.io.atomic import atomic_writer
from mattekit.models.tfjs_ops import HANDLERS, TF_TYPES, TO_NCHW, TO_NHWC, TfNode, Unsupported, decode_attr

__all__ = ["OPSET", "Value", "convert_tfjs_to_onnx", "dequantize", "read_weights", "tfjs_to_onnx_model"]

OPSET = 17
IR_VERSION = 8  # as models/convert: the IR version onnx wrote with opset 17
_STRUCTURAL = {"Const", "Placeholder", "Identity", "StopGradient", "Snapshot", "Switch", "Merge"}
_RAW = {"float32": "<f4", "int32": "<i4", "bool": "|b1"}
_QUANT = {"uint8": "<u1", "uint16": "<u2", "float16": "<f2"}


@dataclass(frozen=True)
class Value:
    """One TF tensor as it exists in the ONNX graph.

    Attributes:
        name: ONNX value name ("" for a constant not yet made an initializer).
        dtype: ONNX element type.
        nchw: True for a 4-D activation held NCHW (TF has it NHWC).
        const: the value, in TF layout, when it is a constant.
    """

    name: str
    dtype: int
    nchw: bool = False
    const: NDArray[Any] | None = None


# -- weights ------------------------------------------------------------------------------


def dequantize(raw: bytes, spec: Mapping[str, Any]) -> NDArray[Any]:
    """Decode one weight of a TFJS weights manifest, exactly as TensorFlow.js does.

    Args:
        raw: the weight's bytes (little-endian).
        spec: its manifest entry: ``name``, ``shape``, ``dtype`` and optional ``quantization``
            (``{"dtype": "uint8"|"uint16", "scale", "min"}`` or ``{"dtype": "float16"}``).

    Returns:
        The array: float32, int32 or bool, in the manifest's shape.

    Raises:
        ModelError: unknown dtype or quantization, or a byte count that does not fit the shape.

    Example:
        >>> spec = {"name": "w", "shape": [2], "dtype": "float32",
        ...         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}}
        >>> dequantize(bytes([0, 3]), spec).tolist()
        [-1.0, 0.5]
    """
    shape = tuple(int(d) for d in spec.get("shape", []))
    dtype, quant, stored = str(spec.get("dtype")), spec.get("quantization"), _stored(spec)
    if stored is None or dtype not in _RAW or (quant and dtype == "bool"):
        raise ModelError(f"weight {spec.get('name')}: unsupported dtype {dtype} / quantization {quant}")
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != count * np.dtype(stored).itemsize:
        raise ModelError(f"weight {spec.get('name')}: {len(raw)} bytes do not hold {shape} of {stored}")
    data = np.frombuffer(raw, dtype=stored).reshape(shape)
    if not quant or quant["dtype"] == "float16":
        return data.astype(dtype)
    if "scale" not in quant or "min" not in quant:
        raise ModelError(f"weight {spec.get('name')}: {quant['dtype']} quantization without scale and min")
    value = np.asarray(data.astype(np.float64) * float(quant["scale"]) + float(quant["min"]))
    return np.floor(value + 0.5).astype(np.int32) if dtype == "int32" else value.astype(np.float32)


def _stored(spec: Mapping[str, Any]) -> str | None:
    """The numpy type a weight is stored as, or None when unknown."""
    quant = spec.get("quantization")
    return _QUANT.get(str(quant.get("dtype"))) if quant else _RAW.get(str(spec.get("dtype")))


def read_weights(manifest: list[Mapping[str, Any]], load: Callable[[str], bytes]) -> dict[str, NDArray[Any]]:
    """Decode every weight of a manifest; ``load(path)`` returns one shard's bytes.

    Each group's shards are concatenated in order and its weights follow one another in them.

    Raises:
        ModelError: a shard is too short or too long for its weights, or a weight cannot be decoded.
    """
    weights: dict[str, NDArray[Any]] = {}
    for group in manifest:
        data = b"".join(load(str(p)) for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            stored = _stored(spec)
            itemsize = np.dtype(stored).itemsize if stored else 0  # dequantize refuses it
            size = int(np.prod(spec.get("shape", []), dtype=np.int64)) * itemsize
            weights[str(spec["name"])] = dequantize(data[offset : offset + size], spec)
            offset += size
        if offset != len(data):
            raise ModelError(f"weight shards {group['paths']} hold {len(data)} bytes, the manifest {offset}")
    return weights


# -- public API ---------------------------------------------------------------------------


def convert_tfjs_to_onnx(model_json: Path, onnx_path: Path) -> None:
    """Convert a TFJS graph model (``model.json`` + its shards beside it) to an ONNX file, atomically.

    Raises:
        ModelError: the files are missing or damaged, or the graph uses something unsupported.

    Example:
        >>> convert_tfjs_to_onnx(Path("rvm.json"), Path("rvm.onnx"))  # doctest: +SKIP
    """
    model_json, onnx_path = Path(model_json), Path(onnx_path)
    try:
        model = json.loads(model_json.read_text(encoding="utf-8"))
        weights = read_weights(model["weightsManifest"], lambda p: (model_json.parent / p).read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read TFJS model {model_json}: {type(exc).__name__}: {exc}") from exc
    proto = tfjs_to_onnx_model(model, weights, source=str(model_json))
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(onnx_path) as out:
        out.write(proto.SerializeToString())


def tfjs_to_onnx_model(
    model: Mapping[str, Any], weights: Mapping[str, NDArray[Any]], source: str = "<tfjs>"
) -> onnx.ModelProto:
    """Build the checked ONNX model of a parsed ``model.json`` and its decoded weights.

    Inputs are the placeholders the outputs need (named as in the graph, e.g. ``src``); outputs
    are the signature's outputs, named by their signature keys, in key order.

    Raises:
        ModelError: something in the graph is not supported or the result is not valid ONNX.
    """
    try:
        return Converter(model, weights, source).convert()
    except Unsupported as exc:
        raise ModelError(f"cannot convert {source} to ONNX: {exc}") from exc
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"{source} is not a valid TFJS graph model ({type(exc).__name__}: {exc})") from exc


# -- the converter ------------------------------------------------------------------------

_Ctx = frozenset[tuple[str, bool]]  # the (predicate, branch) pairs a tensor depends on


def _split_ref(ref: str) -> tuple[str, int]:
    node, _, port = ref.partition(":")
    return node, int(port or 0)


class Converter:
    """Builds one ONNX graph from one TFJS graph model; the op handlers call its helpers."""

    def __init__(self, model: Mapping[str, Any], weights: Mapping[str, NDArray[Any]], source: str) -> None:
        self.source, self.weights = source, weights
        self.signature: Mapping[str, Any] = model.get("signature") or {}
        self.tf: dict[str, TfNode] = {}
        for raw in model["modelTopology"]["node"]:
            attrs = {k: decode_attr(v) for k, v in raw.get("attr", {}).items()}
            ins = tuple(i if ":" in i else f"{i}:0" for i in raw.get("input", []) if not i.startswith("^"))
            self.tf[raw["name"]] = TfNode(raw["name"], raw["op"], ins, attrs)
        self.values: dict[str, Value] = {}
        self.initializers: dict[str, TensorProto] = {}
        self.main: list[onnx.NodeProto] = []
        self.branches: dict[tuple[str, bool], list[onnx.NodeProto]] = {}
        self.current, self.ctx_key = self.main, ""
        self.ctx: dict[str, _Ctx] = {}
        self.cache: dict[tuple[str, str, str], str] = {}
        self.counter = 0
        self.consumers: dict[str, list[TfNode]] = {}
        self.dilated: dict[str, list[int]] = {}  # convolutions that run dilated (tfjs_ops)

    # -- helpers for the op handlers ---------------------------------------------------

    def fresh(self, tag: str = "v") -> str:
        """A new unique ONNX value name."""
        self.counter += 1
        return f"{tag}_{self.counter}"

    def emit(
        self, op: str, inputs: list[str], attrs: Mapping[str, Any] | None = None, n_out: int = 1
    ) -> list[str]:
        """Append an ONNX node to the graph being built (main or a branch); return its outputs."""
        outs = [self.fresh(op) for _ in range(n_out)]
        self.current.append(helper.make_node(op, inputs, outs, **dict(attrs or {})))
        return outs

    def init(self, array: NDArray[Any] | Iterable[int], tag: str = "") -> str:
        """Name of an initializer: an array (integers stored as int64) or a list of ints (int64).

        Small arrays are shared by value, others by ``tag`` when given. Inside a cond branch a
        small array is a Constant node of that branch instead, so that ONNX shape inference
        sees its value (it does not see the main graph's initializers from a subgraph).
        """
        if isinstance(array, np.ndarray):
            a = array.astype(np.int64) if array.dtype.kind in "iu" else array
        else:
            a = np.asarray(list(array), dtype=np.int64)
        key = f"{a.dtype}{a.shape}{a.tobytes().hex()}" if a.size <= 16 else tag or self.fresh("key")
        if self.ctx_key and a.size <= 16:
            if (key, self.ctx_key, "local") not in self.cache:
                tensor = numpy_helper.from_array(np.array(a, order="C"))
                self.cache[key, self.ctx_key, "local"] = self.emit("Constant", [], {"value": tensor})[0]
            return self.cache[key, self.ctx_key, "local"]
        if key not in self.initializers:
            self.initializers[key] = numpy_helper.from_array(np.array(a, order="C"), self.fresh("w"))
        return self.initializers[key].name

    def value(self, ref: str) -> Value:
        """The Value of TF tensor ``node:port``."""
        if ref not in self.values:
            raise Unsupported(f"tensor {ref} is not computed")
        return self.values[ref]

    def const(self, ref: str) -> NDArray[Any] | None:
        """The constant value of a TF tensor (TF layout), or None."""
        return self.value(ref).const

    def ints(self, ref: str) -> list[int]:
        """A constant integer tensor as a flat list."""
        value = self.const(ref)
        if value is None or value.dtype.kind not in "iu":
            raise Unsupported(f"{ref} must be a constant integer tensor")
        return [int(v) for v in np.ravel(value)]

    def plain(self, ref: str) -> str:
        """ONNX name of a TF tensor in TF's layout (NHWC for 4-D activations)."""
        v = self.value(ref)
        if v.const is not None:
            const = v.const
            return self._cached(ref, "tf", lambda: self.init(const, f"{ref}/tf"))
        if not v.nchw:
            return v.name
        return self._cached(ref, "nhwc", lambda: self.emit("Transpose", [v.name], {"perm": TO_NHWC})[0])

    def nchw(self, ref: str) -> str:
        """ONNX name of a TF tensor laid out to meet NCHW activations.

        An activation is transposed; a constant of rank < 4 first gets leading unit axes (TF's
        broadcasting), then is transposed, so it still broadcasts the same way.
        """
        v = self.value(ref)
        if v.nchw:
            return v.name
        if v.const is not None:
            a = v.const
            if a.ndim > 4:
                raise Unsupported(f"constant {ref} of rank {a.ndim} cannot be laid out NCHW")
            if a.ndim:
                a = a.reshape((1,) * (4 - a.ndim) + a.shape).transpose(TO_NCHW)
            return self._cached(ref, "nchw", lambda: self.init(a, f"{ref}/nchw"))
        return self._cached(ref, "nchw", lambda: self.emit("Transpose", [v.name], {"perm": TO_NCHW})[0])

    def sole_consumer(self, ref: str) -> TfNode | None:
        """The one node that reads tensor ``ref`` (None when several or none do)."""
        users = self.consumers.get(ref, [])
        return users[0] if len(users) == 1 else None

    def peek_ints(self, ref: str) -> list[int] | None:
        """A Const node's integer value, whether or not it has been converted yet."""
        value = self.weights.get(_split_ref(ref)[0])
        if self.tf.get(_split_ref(ref)[0], TfNode("", "", (), {})).op != "Const" or value is None:
            return None
        return [int(v) for v in np.ravel(value)] if value.dtype.kind in "iu" else None

    def set(self, node: TfNode, port: int, name: str, dtype: int, nchw: bool = False) -> None:
        """Record output ``port`` of ``node``."""
        self.values[f"{node.name}:{port}"] = Value(name, dtype, nchw)

    def set_const(self, node: TfNode, port: int, value: NDArray[Any]) -> None:
        """Record a constant output of ``node`` (folded: no ONNX node)."""
        self.values[f"{node.name}:{port}"] = Value("", _onnx_type(value), const=value)

    def _cached(self, ref: str, kind: str, make: Callable[[], str]) -> str:
        """One conversion per tensor, layout and graph (a branch cannot see another's nodes)."""
        key = (ref, kind, self.ctx_key)
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    # -- the graph walk -----------------------------------------------------------------

    def convert(self) -> onnx.ModelProto:
        """Order the needed nodes, find their conds, emit them, and wrap the model."""
        outputs = sorted(self.signature.get("outputs", {}).items())
        if not outputs:
            raise Unsupported("the model.json has no signature outputs")
        refs = [str(s["name"]) if ":" in str(s["name"]) else f"{s['name']}:0" for _, s in outputs]
        roots = [_split_ref(r)[0] for r in refs]
        order = self._topo(roots, {})
        for node in order:
            for ref in node.inputs:
                self.consumers.setdefault(ref, []).append(node)
        missing = sorted({n.op for n in order} - set(HANDLERS) - _STRUCTURAL)
        if missing:
            raise Unsupported(
                f"unsupported TF op(s) {', '.join(missing)}; supported: {', '.join(sorted(HANDLERS))}"
            )
        preds = self._contexts(order)
        groups: dict[str, list[str]] = {}
        for merge, pred in preds.items():
            groups.setdefault(pred, []).append(merge)
        # every Merge of a cond waits for all of that cond's branch outputs: they become one If
        extra = {m: [i for g in groups[p] for i in self.tf[g].inputs] for m, p in preds.items()}
        broadcast = {self._source(n.inputs[0]) for n in order if n.op == "BroadcastTo"}
        inputs = [
            self._placeholder(n, 4 if n.name in broadcast else 0) for n in order if n.op == "Placeholder"
        ]
        for node in self._topo(roots, extra):
            self._emit_node(node, preds, groups)
        self.current, self.ctx_key = self.main, ""
        infos = []
        for (key, spec), ref in zip(outputs, refs, strict=True):
            v = self.value(ref)
            if v.nchw:
                self.main.append(helper.make_node("Transpose", [v.name], [key], perm=TO_NHWC))
            else:
                self.main.append(helper.make_node("Identity", [self.plain(ref)], [key]))
            infos.append(_value_info(key, v.dtype, spec))
        return self._assemble(inputs, infos)

    def _topo(self, roots: list[str], extra: Mapping[str, list[str]]) -> list[TfNode]:
        """The nodes ``roots`` need, each after its inputs (and after ``extra`` dependencies)."""

        def deps(name: str) -> list[str]:
            if name not in self.tf:
                raise Unsupported(f"the graph has no node {name}")
            return [_split_ref(r)[0] for r in (*self.tf[name].inputs, *extra.get(name, []))]

        order: list[TfNode] = []
        seen: set[str] = set()
        for root in roots:
            if root in seen:
                continue
            seen.add(root)
            stack = [(root, iter(deps(root)))]
            while stack:
                name, pending = stack[-1]
                for dep in pending:
                    if dep not in seen:
                        seen.add(dep)
                        stack.append((dep, iter(deps(dep))))
                        break
                else:
                    stack.pop()
                    order.append(self.tf[name])
        return order

    def _ref_ctx(self, ref: str) -> _Ctx:
        name, port = _split_ref(ref)
        node = self.tf[name]
        return self.ctx[name] | {(node.inputs[1], port == 1)} if node.op == "Switch" else self.ctx[name]

    def _contexts(self, order: list[TfNode]) -> dict[str, str]:
        """Fill ``self.ctx`` (the branch of every node); return the predicate of every Merge."""
        preds: dict[str, str] = {}
        for node in order:
            ins = [self._ref_ctx(r) for r in node.inputs]
            if node.op == "Merge":
                diff = ins[0] ^ ins[1] if len(ins) == 2 else frozenset()
                if len(diff) != 2 or len({p for p, _ in diff}) != 1:
                    raise Unsupported(f"Merge {node.name} does not end a two-branch cond")
                preds[node.name] = next(iter(diff))[0]
                self.ctx[node.name] = ins[0] & ins[1]
            else:
                self.ctx[node.name] = frozenset().union(*ins)
            if len(self.ctx[node.name]) > 1:
                raise Unsupported(f"{node.name} is inside nested or contradictory conds")
        return preds

    def _source(self, ref: str) -> str:
        """The node a tensor comes from, looking through Identity and Switch."""
        node = self.tf[_split_ref(ref)[0]]
        while node.op in ("Identity", "StopGradient", "Snapshot", "Switch"):
            node = self.tf[_split_ref(node.inputs[0])[0]]
        return node.name

    def _placeholder(self, node: TfNode, rank: int) -> onnx.ValueInfoProto:
        """Declare one input. ONNX needs a rank where TFJS may leave it open (``unknownRank``):
        ``rank`` then, with every dimension free (4 for a recurrent state broadcast to an
        activation, which also takes TF's usual 1x1x1x1 zeros; 0 for a scalar setting)."""
        dtype = TF_TYPES.get(str(node.attr("dtype")))
        if dtype is None:
            raise Unsupported(f"input {node.name} has unsupported dtype {node.attr('dtype')}")
        shape = node.attr("shape") or {}
        unknown = bool(shape.get("unknownRank"))
        sizes = [-1] * rank if unknown else [int(d.get("size", -1)) for d in shape.get("dim", [])]
        value = Value(node.name, dtype)
        if len(sizes) == 4 and dtype == TensorProto.FLOAT and not unknown:  # an image: NCHW inside
            value = Value(self.emit("Transpose", [node.name], {"perm": TO_NCHW})[0], dtype, True)
        self.values[f"{node.name}:0"] = value
        return helper.make_tensor_value_info(node.name, dtype, [d if d >= 0 else None for d in sizes])

    def _emit_node(self, node: TfNode, preds: Mapping[str, str], groups: Mapping[str, list[str]]) -> None:
        branch = next(iter(self.ctx[node.name]), None)
        self.current = self.branches.setdefault(branch, []) if branch else self.main
        self.ctx_key = str(branch or "")
        if node.op == "Placeholder":
            return
        if node.op == "Const":
            if node.name not in self.weights:
                raise Unsupported(f"constant {node.name} has no value in the weights")
            self.set_const(node, 0, self.weights[node.name])
        elif node.op in ("Identity", "StopGradient", "Snapshot"):
            self.values[f"{node.name}:0"] = self.value(node.inputs[0])
        elif node.op == "Switch":  # both ports carry the data; which one is live is the branch
            self.values[f"{node.name}:0"] = self.values[f"{node.name}:1"] = self.value(node.inputs[0])
        elif node.op == "Merge":
            if f"{node.name}:0" not in self.values:
                self._if(preds[node.name], groups[preds[node.name]])
        else:
            try:
                HANDLERS[node.op](self, node)
            except Unsupported as exc:
                raise Unsupported(f"{node.op} {node.name}: {exc}") from exc

    def _if(self, pred: str, merges: list[str]) -> None:
        """Emit one ONNX If whose outputs are all the Merges of predicate ``pred``."""
        outs: dict[bool, list[onnx.ValueInfoProto]] = {True: [], False: []}
        results: list[tuple[str, bool, int]] = []
        for merge in merges:
            sides = {(pred, True) in self._ref_ctx(r): r for r in self.tf[merge].inputs}
            nchw = all(self.value(r).nchw for r in sides.values())
            results.append((merge, nchw, self.value(sides[True]).dtype))
            for flag, ref in sides.items():
                self.current, self.ctx_key = self.branches.setdefault((pred, flag), []), str((pred, flag))
                out = self.emit("Identity", [self.nchw(ref) if nchw else self.plain(ref)])[0]
                outs[flag].append(helper.make_tensor_value_info(out, self.value(ref).dtype, None))
        self.current, self.ctx_key = self.main, ""
        graphs = {
            f: helper.make_graph(self.branches[(pred, f)], f"{pred}/{f}", [], outs[f]) for f in (True, False)
        }
        attrs = {"then_branch": graphs[True], "else_branch": graphs[False]}
        names = self.emit("If", [self.plain(pred)], attrs, n_out=len(merges))
        for (merge, nchw, dtype), name in zip(results, names, strict=True):
            self.values[f"{merge}:0"] = Value(name, dtype, nchw)

    def _assemble(
        self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto]
    ) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.main, "mattekit_tfjs", inputs, outputs, list(self.initializers.values())
        )
        opsets = [helper.make_opsetid("", OPSET)]
        model = helper.make_model(
            graph, opset_imports=opsets, producer_name="mattekit", ir_version=IR_VERSION
        )
        model.doc_string = f"Converted from {Path(self.source).name} by mattekit.models.tfjs"
        try:
            _complete_outputs(model)
            onnx.checker.check_model(model)
            onnx.shape_inference.infer_shapes(model, strict_mode=True)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
            raise ModelError(f"conversion of {self.source} produced an invalid ONNX model: {exc}") from exc
        return model


def _complete_outputs(model: onnx.ModelProto) -> None:
    """Give outputs the signature left without a shape the rank ONNX shape inference finds."""
    open_outputs = [o for o in model.graph.output if not o.type.tensor_type.HasField("shape")]
    if not open_outputs:
        return
    inferred = {o.name: o for o in onnx.shape_inference.infer_shapes(model).graph.output}
    for output in open_outputs:
        shape = inferred[output.name].type.tensor_type
        if not shape.HasField("shape"):
            raise Unsupported(f"the rank of output {output.name} is unknown")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in shape.shape.dim]
        output.CopyFrom(helper.make_tensor_value_info(output.name, output.type.tensor_type.elem_type, dims))


def _onnx_type(value: NDArray[Any]) -> int:
    if value.dtype == np.float32:
        return int(TensorProto.FLOAT)
    if value.dtype.kind in "iu":
        return int(TensorProto.INT64)
    if value.dtype == np.bool_:
        return int(TensorProto.BOOL)
    raise Unsupported(f"constant of dtype {value.dtype}")


def _value_info(name: str, dtype: int, spec: Mapping[str, Any]) -> onnx.ValueInfoProto:
    shape = spec.get("tensorShape") or {}
    if shape.get("unknownRank") or "dim" not in shape:
        return helper.make_tensor_value_info(name, dtype, None)
    dims = [int(d.get("size", -1)) for d in shape["dim"]]
    return helper.make_tensor_value_info(name, dtype, [d if d >= 0 else None for d in dims])
