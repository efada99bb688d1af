"""Rewrite an IS-Net ONNX graph so that one graph runs any input size (sides multiples of 32).

The published IS-Net files were traced at 1024x1024: every Resize (the decoder's
``_upsample_like``) has a constant target size (``[32, 32]``, ..., ``[1024, 1024]``: the
traced input size divided by 32, ..., 1), built into a Concat with the source's batch and
channel dims (isnet-medium) or folded into one initializer (isnet-small). The rewrite gives
every Resize a target that follows the input:

- where the Resize doubles (or multiplies by another integer) a feature map whose size is
  an exact fraction of the input for every input side that is a multiple of 32 (1/32 of
  it or more), it gets that constant scale instead of a size: the same sizes and the same
  sampling, and ONNX Runtime can keep running it in its blocked (NCHWc) layout;
- the others upsample the deepest maps (1/64 of the input, rounded up by the ceil-mode
  poolings when a side is an odd multiple of 32) to 1/32 of the input: their target is
  computed from the input's shape, ``Shape(x)[0:2] ++ Shape(input)[2:4] // 32``.

The copy keeps only the first output (the full-resolution mask); the five side outputs
are dropped with the nodes that only they use. At 1024x1024 its output equals the
published graph's under ONNX Runtime's basic and extended optimisations. Under "all" (the
NCHWc layout) each graph's output moves by up to 4e-4 from its own unoptimised output,
differently for each graph structure (the fp16 activations are rounded after differently
ordered float sums), so the two differ by that much (tests/models/test_resize.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from onnx import ModelProto, NodeProto, checker, helper, load, numpy_helper, save, shape_inference

from mattekit.errors import ModelError

__all__ = ["MULTIPLE", "any_size_model"]

MULTIPLE = 32
"""Input sides must be multiples of this: feature maps are exact fractions of the input
down to 1/32 of it."""

_PREFIX = "/anysize"


def any_size_model(source: Path, target: Path) -> None:
    """Write a copy of the square-input IS-Net model `source` that takes any input size.

    The input and output get symbolic height and width; input sides must be multiples of
    `MULTIPLE`.

    Args:
        source: the published graph, traced at a fixed square size.
        target: where to write the rewritten graph.

    Raises:
        ModelError: the graph does not have the expected shape (a Resize whose size is not
            a constant fraction of the traced size).
    """
    model = load(str(source))
    traced = _input_size(model)
    graph = model.graph
    sources = _traced_resize_sources(model)
    targets = _traced_resize_targets(model, source.name)
    nodes = _NewNodes(graph.input[0].name)
    for node in graph.node:
        if node.op_type != "Resize":
            continue
        size, to = sources.get(node.output[0], 0), targets[node.output[0]]
        if _follows_input(size, traced) and to % size == 0:
            node.input[:] = [node.input[0], "", nodes.scales(to // size)]
        elif _follows_input(to, traced):
            node.input[3] = nodes.sizes(node.input[0], traced // to)
        else:
            raise ModelError(f"{source.name}: Resize {node.name} to {to} px cannot follow the input")
    ordered = [*nodes.added, *graph.node]
    del graph.node[:]
    graph.node.extend(ordered)
    _keep_first_output(model)
    for value in (graph.input[0], graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
    del graph.value_info[:]
    checker.check_model(model)
    save(model, str(target))


class _NewNodes:
    """The nodes the rewrite adds (inputs: the graph input and constants), each built once."""

    def __init__(self, input_name: str) -> None:
        self.added: list[NodeProto] = []
        self._made: set[str] = set()
        self._input = input_name

    def scales(self, factor: int) -> str:
        """A constant Resize scale ``[1, 1, factor, factor]``."""
        return self._constant(f"scales{factor}", np.asarray([1, 1, factor, factor], np.float32))

    def sizes(self, data: str, divisor: int) -> str:
        """A Resize size: ``data``'s batch and channel dims, then the input's sides // divisor."""
        hw = self._node("Slice", "hw", [self._shape(self._input), self._int(2), self._int(4)])
        if divisor > 1:
            hw = self._node("Div", f"hw_div{divisor}", [hw, self._int(divisor)])
        leading = self._node("Slice", f"{data}/nc", [self._shape(data), self._int(0), self._int(2)])
        return self._node("Concat", f"{data}/sizes_div{divisor}", [leading, hw], axis=0)

    def _shape(self, tensor: str) -> str:
        return self._node("Shape", f"{tensor}/shape", [tensor])

    def _int(self, value: int) -> str:
        return self._constant(f"int{value}", np.asarray([value], np.int64))

    def _constant(self, tag: str, value: NDArray[np.generic]) -> str:
        name = f"{_PREFIX}/{tag}"
        if name not in self._made:
            tensor = numpy_helper.from_array(value, name)
            self.added.append(helper.make_node("Constant", [], [name], name=name, value=tensor))
            self._made.add(name)
        return name

    def _node(self, op: str, tag: str, inputs: list[str], axis: int | None = None) -> str:
        name = f"{_PREFIX}/{tag.lstrip('/')}"
        if name not in self._made:
            node = helper.make_node(op, inputs, [name], name=name)
            if axis is not None:
                node.attribute.append(helper.make_attribute("axis", axis))
            self.added.append(node)
            self._made.add(name)
        return name


def _input_size(model: ModelProto) -> int:
    dims = [int(d.dim_value) for d in model.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[2] != dims[3] or dims[2] == 0:
        raise ModelError(f"expected a square NCHW input with fixed size, got dims {dims}")
    return dims[2]


def _follows_input(size: int, traced: int) -> bool:
    """Whether a map of this size in the traced graph is an exact fraction of every input
    whose sides are multiples of `MULTIPLE` (1/1, 1/2, ..., 1/32 of it)."""
    return size > 0 and traced % size == 0 and MULTIPLE % (traced // size) == 0


def _traced_resize_sources(model: ModelProto) -> dict[str, int]:
    """Each Resize's output name -> the height of its input in the traced graph (when known)."""
    inferred = shape_inference.infer_shapes(model)
    heights = {
        v.name: int(v.type.tensor_type.shape.dim[2].dim_value)
        for v in inferred.graph.value_info
        if len(v.type.tensor_type.shape.dim) == 4
    }
    return {n.output[0]: heights.get(n.input[0], 0) for n in inferred.graph.node if n.op_type == "Resize"}


def _traced_resize_targets(model: ModelProto, source: str) -> dict[str, int]:
    """Each Resize's output name -> its constant target height (a square size)."""
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    targets = {}
    for node in model.graph.node:
        if node.op_type != "Resize":
            continue
        sizes = node.input[3] if len(node.input) > 3 else ""
        if sizes in producers and producers[sizes].op_type == "Concat":  # (N, C) ++ [h, w]
            found = [constants[i] for i in producers[sizes].input if i in constants]
            value = found[0] if len(found) == 1 else np.zeros(0)
        else:  # folded: [N, C, h, w]
            value = constants.get(sizes, np.zeros(0)).ravel()[2:]
        value = value.astype(np.int64).ravel()
        if value.shape != (2,) or value[0] != value[1] or value[0] <= 0:
            raise ModelError(f"{source}: Resize {node.name} has no constant square size to rewrite")
        targets[node.output[0]] = int(value[0])
    if not targets:
        raise ModelError(f"{source}: found no fixed Resize sizes to rewrite")
    return targets


def _keep_first_output(model: ModelProto) -> None:
    """Drop every output but the first and the nodes and initializers only the others used;
    the kept nodes are written in dependency order (the fp16 files are not)."""
    graph = model.graph
    del graph.output[1:]
    producers = {out: node for node in graph.node for out in node.output}
    needed: set[str] = set()
    ordered: list[NodeProto] = []
    stack: list[tuple[str, bool]] = [(graph.output[0].name, False)]
    while stack:  # depth-first, a node after its inputs' producers
        name, inputs_done = stack.pop()
        node = producers.get(name)
        if inputs_done and node is not None:
            ordered.append(node)
            continue
        if name in needed:
            continue
        needed.add(name)
        if node is not None:
            needed.update(node.output)
            stack.append((name, True))
            stack.extend((i, False) for i in node.input if i and i not in needed)
    del graph.node[:]
    graph.node.extend(ordered)
    initializers = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
