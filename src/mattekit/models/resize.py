"""Rewrite an ISNet ONNX graph for another square input size.

The published ISNet files were traced at 1024x1024: every Resize takes its target size from a
Concat of the batch/channel dims and a constant spatial size (``[32, 32]``, ``[1024, 1024]``,
...). Running the same weights at a smaller size needs those constants scaled, not just a
smaller array (which ONNX Runtime rejects).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import ModelProto, NodeProto, load, numpy_helper, save

from mattekit.errors import ModelError

__all__ = ["resize_square_model"]


def resize_square_model(source: Path, target: Path, size: int) -> None:
    """Write a copy of the square-input model `source` that takes `size` x `size` input.

    Raises:
        ModelError: `size` does not divide evenly into the graph's resolutions, or the graph
            does not have the expected shape.
    """
    model = load(str(source))
    traced = _input_size(model)
    if size == traced:
        save(model, str(target))
        return
    producers = {out: node for node in model.graph.node for out in node.output}
    rewritten = 0
    for node in model.graph.node:
        if node.op_type != "Resize":
            continue
        if len(node.input) < 4 or node.input[3] not in producers:
            raise ModelError(f"{source.name}: Resize {node.name} has no target size to rewrite")
        for constant in _spatial_constants(producers[node.input[3]], producers):
            _scale_constant(constant, size, traced, source)
            rewritten += 1
    if rewritten == 0:
        raise ModelError(f"{source.name}: found no fixed Resize sizes to rewrite")
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        for axis in (2, 3):
            if dims[axis].dim_value:
                dims[axis].dim_value = dims[axis].dim_value * size // traced
    del model.graph.value_info[:]
    save(model, str(target))


def _input_size(model: ModelProto) -> int:
    dims = [int(d.dim_value) for d in model.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[2] != dims[3] or dims[2] == 0:
        raise ModelError(f"expected a square NCHW input with fixed size, got dims {dims}")
    return dims[2]


def _spatial_constants(concat: NodeProto, producers: dict[str, NodeProto]) -> list[NodeProto]:
    """The Constant inputs of a size-building Concat (the traced spatial sizes)."""
    if concat.op_type != "Concat":
        return []
    return [
        producers[name]
        for name in concat.input
        if name in producers and producers[name].op_type == "Constant"
    ]


def _scale_constant(node: NodeProto, size: int, traced: int, source: Path) -> None:
    tensor = node.attribute[0].t
    value = numpy_helper.to_array(tensor)
    scaled = value.astype(np.int64) * size
    if np.any(scaled % traced):
        raise ModelError(
            f"{source.name}: input size {size} does not scale its internal size {value.tolist()} "
            f"evenly; use a multiple of {traced // int(np.gcd.reduce(value.astype(np.int64)))}"
        )
    tensor.CopyFrom(numpy_helper.from_array((scaled // traced).astype(value.dtype), tensor.name))
