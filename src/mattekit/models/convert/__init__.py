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

`schema` holds the fixed facts of both formats (opset, interface names, layout
permutations, tflite's enum and dtype tables) and opens the flatbuffer; `graph`
holds the entry points and `_Converter`, which decodes each tflite operator and
builds the ONNX graph; `ops` holds one handler per tflite operator and the table
`_Converter` dispatches through.
"""

from __future__ import annotations

from mattekit.models.convert.graph import convert_tflite_to_onnx, tflite_to_onnx_model
from mattekit.models.convert.schema import INPUT_NAME, OPSET, OUTPUT_NAME
from mattekit.models.convert.schema import IR_VERSION as IR_VERSION  # not in __all__, as before

__all__ = ["INPUT_NAME", "OPSET", "OUTPUT_NAME", "convert_tflite_to_onnx", "tflite_to_onnx_model"]
