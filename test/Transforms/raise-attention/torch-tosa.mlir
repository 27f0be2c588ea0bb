// Attention exported by torch-mlir as TOSA (tosa.matmul, reduce_max, sub,
// exp, reduce_sum, reciprocal, mul; reshape + tile for repeat_kv) is raised to
// one magicpig.attention. Inputs/torch-tosa.mlir is real exporter output,
// regenerated with python/tools/export_attention_inputs.py.

// RUN: magicpig-opt %S/Inputs/torch-tosa.mlir -split-input-file --magicpig-raise-attention 2>/dev/null | FileCheck %s
// RUN: magicpig-opt %S/Inputs/torch-tosa.mlir -split-input-file --magicpig-raise-attention -mlir-print-op-on-diagnostic=false -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK --implicit-check-not=remark:

// SDPA's split sqrt-scale on q and k^T, and its select guard of all -inf rows.
// CHECK-LABEL: func.func @sdpa_decode(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553355) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// CHECK-LABEL: func.func @scores_scale(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// q [B, H, d]: reshaped in, and the product reshaped straight to [B, H, dv].
// CHECK-LABEL: func.func @query_scale_decode(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x8xf32>

// CHECK-LABEL: func.func @llama_gqa_f32(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// TOSA stores 1/sqrt(8) as an f16 / bf16 constant (0.3535).
// CHECK-LABEL: func.func @llama_gqa_f16(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf16>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xf16>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf16>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353515625) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) outs(%[[INIT]] : tensor<1x4x1x8xf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf16>

// CHECK-LABEL: func.func @llama_gqa_bf16(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xbf16>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xbf16>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xbf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xbf16>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353515625) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>) outs(%[[INIT]] : tensor<1x4x1x8xbf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xbf16>

// CHECK-LABEL: func.func @neg_softmax_wrong_dim(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   tosa.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// CHECK-LABEL: func.func @neg_scores_plus_constant(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   tosa.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// CHECK-LABEL: func.func @neg_additive_mask(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   tosa.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// REMARK: torch-tosa.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: the softmax normalizes along dimension 2 of the scores, not along the key dimension 3
// REMARK: torch-tosa.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: a constant (1) is added to the scores; only a causal mask is recognized between the score matmul and the softmax
// REMARK: torch-tosa.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: an additive mask that is not a constant is applied to the scores; only a causal or sliding-window mask is recognized
