// Attention exported by torch-mlir (linalg-on-tensors) is raised to one
// magicpig.attention whose operands are the function's q, k and v. The inputs
// are real exporter output: Inputs/torch-linalg.mlir, regenerated with
// python/tools/export_attention_inputs.py (its comments name each case).
// The second RUN line first turns every named op into a linalg.generic
// (batch_matmul, transpose, fill) and must raise the same attention.

// RUN: magicpig-opt %S/Inputs/torch-linalg.mlir -split-input-file --magicpig-raise-attention 2>/dev/null | FileCheck %s
// RUN: magicpig-opt %S/Inputs/torch-linalg.mlir -split-input-file --linalg-generalize-named-ops --magicpig-raise-attention 2>/dev/null | FileCheck %s
// RUN: magicpig-opt %S/Inputs/torch-linalg.mlir -split-input-file --magicpig-raise-attention -mlir-print-op-on-diagnostic=false -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK --implicit-check-not=remark:

// SDPA multiplies q and k^T each by sqrt(1/sqrt(8)) (f64 0.5946 rounded to
// f32); the scale is their product. Its all -inf row guard is dropped.
// CHECK-LABEL: func.func @sdpa_decode(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553355) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// is_causal with S = N: torch's top-left mask equals the op's causal mask.
// CHECK-LABEL: func.func @sdpa_causal_prefill(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x16x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553355) causal ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x16x8xf32>

// enable_gqa: K and V keep their 2 kv heads.
// CHECK-LABEL: func.func @sdpa_gqa(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553355) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// The scale on the scores (f32 1/sqrt(8)).
// CHECK-LABEL: func.func @scores_scale(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// q [B, H, d] unsqueezed and the result squeezed: the rank-3 form.
// CHECK-LABEL: func.func @query_scale_decode(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x8xf32>

// Llama's repeat_kv (broadcast generic + collapse) and scores / sqrt(d).
// CHECK-LABEL: func.func @llama_gqa_f32(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf32>

// f16: the export rounds sqrt(8) to f16 (2.828125) before dividing; the casts
// around the f32 softmax and the f32 matmul accumulators are dropped.
// CHECK-LABEL: func.func @llama_gqa_f16(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf16>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xf16>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf16>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353591174) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) outs(%[[INIT]] : tensor<1x4x1x8xf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xf16>

// CHECK-LABEL: func.func @llama_gqa_bf16(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xbf16>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xbf16>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xbf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xbf16>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353591174) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>) outs(%[[INIT]] : tensor<1x4x1x8xbf16>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x1x8xbf16>

// A mask built from index generics is evaluated: it is the causal mask of
// the last 4 of 16 positions.
// CHECK-LABEL: func.func @causal_mask_prefill(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x4x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(0.353553385) causal ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x4x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x4x8xf32>)
//   CHECK-NOT:   linalg.
//   CHECK-NOT:   tosa.
//  CHECK-NEXT:   return %[[OUT]] : tensor<1x4x4x8xf32>

// Declined cases keep their chain (remarks below, in file order).
// CHECK-LABEL: func.func @neg_softmax_wrong_dim(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   math.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// CHECK-LABEL: func.func @neg_scores_plus_constant(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   math.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// CHECK-LABEL: func.func @neg_additive_mask(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   math.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// CHECK-LABEL: func.func @neg_epsilon_denominator(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   math.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// is_causal with S = 4 < N = 16: torch aligns the mask top-left, the op
// bottom-right.
// CHECK-LABEL: func.func @neg_sdpa_causal_top_left(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   math.exp
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

// REMARK: torch-linalg.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: the softmax normalizes along dimension 2 of the scores, not along the key dimension 3
// REMARK: torch-linalg.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: a constant (1) is added to the scores; only a causal mask is recognized between the score matmul and the softmax
// REMARK: torch-linalg.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: an additive mask that is not a constant is applied to the scores; only a causal or sliding-window mask is recognized
// REMARK: torch-linalg.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: the softmax denominator is 'linalg.generic' (an add of a constant), not the row sum of the exponentials
// REMARK: torch-linalg.mlir:{{[0-9]+}}:{{[0-9]+}}: remark: magicpig-raise-attention: declined: the additive mask is not the causal mask (query s of the last S positions sees keys j <= N - S + s)
