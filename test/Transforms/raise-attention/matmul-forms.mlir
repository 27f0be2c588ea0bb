// The two matmuls in other spellings than torch-mlir's: a batch_matmul whose
// indexing maps read K untransposed ([B*H, N, d], so no linalg.transpose),
// and generics that contract [B, H, ...] operands directly (no reshapes to
// [B*H, ...]), as linalg-generalize-named-ops or hand-written IR gives them.

// RUN: magicpig-opt %s -split-input-file --magicpig-raise-attention | FileCheck %s

// CHECK-LABEL: func.func @batch_matmul_transposed_rhs(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(2.500000e-01) ins(%[[Q]], %[[K]], %[[V]] :
//  CHECK-NEXT:   return %[[OUT]]
func.func @batch_matmul_transposed_rhs(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul
      indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                       affine_map<(b, m, n, k) -> (b, n, k)>,
                       affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q3, %k3 : tensor<4x1x8xf32>, tensor<4x16x8xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %quarter = arith.constant 0.25 : f32
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %quarter, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x16xf32>
  %p = linalg.softmax dimension(3) ins(%scaled : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// Contractions over [B, H, S, d] x [B, H, N, d] and [B, H, S, N] x
// [B, H, N, dv] with bf16 operands extended in the body, prefill (S = 4).
#qk_q = affine_map<(b, h, s, n, d) -> (b, h, s, d)>
#qk_k = affine_map<(b, h, s, n, d) -> (b, h, n, d)>
#qk_s = affine_map<(b, h, s, n, d) -> (b, h, s, n)>
#pv_p = affine_map<(b, h, s, e, n) -> (b, h, s, n)>
#pv_v = affine_map<(b, h, s, e, n) -> (b, h, n, e)>
#pv_o = affine_map<(b, h, s, e, n) -> (b, h, s, e)>
// CHECK-LABEL: func.func @rank4_generics(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<2x4x4x8xbf16>, %[[K:[a-z0-9]+]]: tensor<2x4x16x8xbf16>, %[[V:[a-z0-9]+]]: tensor<2x4x16x8xbf16>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<2x4x4x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(1.250000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<2x4x4x8xbf16>, tensor<2x4x16x8xbf16>, tensor<2x4x16x8xbf16>) outs(%[[INIT]] : tensor<2x4x4x8xf32>)
//  CHECK-NEXT:   return %[[OUT]]
func.func @rank4_generics(%q: tensor<2x4x4x8xbf16>, %k: tensor<2x4x16x8xbf16>, %v: tensor<2x4x16x8xbf16>) -> tensor<2x4x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %eighth = arith.constant 8.0 : f32
  %s_init = tensor.empty() : tensor<2x4x4x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x4x8xbf16>, tensor<2x4x16x8xbf16>) outs(%s_zero : tensor<2x4x4x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %prod = arith.mulf %a32, %b32 : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x4x16xf32>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x4x16xf32>) outs(%s_init : tensor<2x4x4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.divf %in, %eighth : f32
    linalg.yield %m : f32
  } -> tensor<2x4x4x16xf32>
  %p = linalg.softmax dimension(3) ins(%scaled : tensor<2x4x4x16xf32>) outs(%s_init : tensor<2x4x4x16xf32>) -> tensor<2x4x4x16xf32>
  %o_init = tensor.empty() : tensor<2x4x4x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2x4x4x8xf32>) -> tensor<2x4x4x8xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x4x4x16xf32>, tensor<2x4x16x8xbf16>) outs(%o_zero : tensor<2x4x4x8xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %b32 = arith.extf %b : bf16 to f32
    %prod = arith.mulf %a, %b32 : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x4x8xf32>
  return %o : tensor<2x4x4x8xf32>
}

// -----

// Attention kept in 3-D from Q.K^T to P.V over kv heads repeated and
// merged with batch ([1, 2, 2, 16, 8] -> [4, 16, 8]), Q.K^T a batch_matmul
// that reads K transposed: the key and value roots are the [1, 2, 16, 8]
// kv heads, with two query heads per group.
// CHECK-LABEL: func.func @bmm_gqa_transposed_rhs(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(2.500000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
//  CHECK-NEXT:   return %[[OUT]]
func.func @bmm_gqa_transposed_rhs(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %k5_init = tensor.empty() : tensor<1x2x2x16x8xf32>
  %k5 = linalg.broadcast ins(%k : tensor<1x2x16x8xf32>) outs(%k5_init : tensor<1x2x2x16x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %k5 [[0, 1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<4x16x8xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = linalg.batch_matmul
      indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                       affine_map<(b, m, n, k) -> (b, n, k)>,
                       affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q3, %k3 : tensor<4x1x8xf32>, tensor<4x16x8xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %quarter = arith.constant 0.25 : f32
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x1x16xf32>) outs(%s_init : tensor<4x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %quarter, %in : f32
    linalg.yield %m : f32
  } -> tensor<4x1x16xf32>
  %p = linalg.softmax dimension(2) ins(%scaled : tensor<4x1x16xf32>) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %v5_init = tensor.empty() : tensor<1x2x2x16x8xf32>
  %v5 = linalg.broadcast ins(%v : tensor<1x2x16x8xf32>) outs(%v5_init : tensor<1x2x2x16x8xf32>) dimensions = [2]
  %v3 = tensor.collapse_shape %v5 [[0, 1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}
