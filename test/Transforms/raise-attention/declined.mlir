// Attention-like chains that differ from softmax attention in one place
// stay untouched, with a remark that names the difference; one exact case
// (a constant causal mask) raises. Inputs written by hand in the layout of
// torch-mlir's export.

// RUN: magicpig-opt %s -split-input-file -verify-diagnostics --magicpig-raise-attention | FileCheck %s

// A constant mask that is exactly causal for the last 4 of 16 positions
// raises to the causal form.
// CHECK-LABEL: func.func @dense_causal_mask(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x4x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(1.000000e+00) causal ins(%[[Q]], %[[K]], %[[V]] :
//  CHECK-SAME:     outs(%[[INIT]] : tensor<1x4x4x8xf32>)
//  CHECK-NEXT:   return %[[OUT]]

func.func @dense_causal_mask(%q: tensor<1x4x4x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x4x8xf32> into tensor<4x4x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x4x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x4x16xf32>) -> tensor<4x4x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x4x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x4x16xf32>) -> tensor<4x4x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 16] : tensor<4x4x16xf32> into tensor<1x4x4x16xf32>
  %p_init = tensor.empty() : tensor<1x4x4x16xf32>
  %mask = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x16xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x4x16xf32>, tensor<4x16xf32>) outs(%p_init : tensor<1x4x4x16xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x4x16xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<1x4x4x16xf32>) outs(%p_init : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x4x16xf32> into tensor<4x4x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x4x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x4x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 8] : tensor<4x4x8xf32> into tensor<1x4x4x8xf32>
  return %o : tensor<1x4x4x8xf32>
}

// -----

// Off by one: query s also sees key N - S + s + 1.
// CHECK-LABEL: func.func @dense_mask_off_by_one(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @dense_mask_off_by_one(%q: tensor<1x4x4x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x4x8xf32> into tensor<4x4x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x4x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x4x16xf32>) -> tensor<4x4x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x4x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x4x16xf32>) -> tensor<4x4x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 16] : tensor<4x4x16xf32> into tensor<1x4x4x16xf32>
  %p_init = tensor.empty() : tensor<1x4x4x16xf32>
  %mask = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x16xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x4x4x16xf32>, tensor<4x16xf32>) outs(%p_init : tensor<1x4x4x16xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x4x4x16xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<1x4x4x16xf32>) outs(%p_init : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x4x16xf32> into tensor<4x4x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x4x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
  // expected-remark @+1 {{declined: the additive mask is not the causal mask}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x4x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 8] : tensor<4x4x8xf32> into tensor<1x4x4x8xf32>
  return %o : tensor<1x4x4x8xf32>
}

// -----

// K is given as [B, H, d, N]: nothing transposes it.
// CHECK-LABEL: func.func @keys_not_transposed(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @keys_not_transposed(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt = tensor.cast %k : tensor<1x4x8x16xf32> to tensor<1x4x8x16xf32>
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the score matmul contracts over the key dimension: the keys are not transposed from [B, Hkv, N, d]}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// CHECK-LABEL: func.func @values_scaled(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @values_scaled(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %two = arith.constant 2.0 : f32
  %v_init = tensor.empty() : tensor<1x4x16x8xf32>
  %v2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x4x16x8xf32>) outs(%v_init : tensor<1x4x16x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.mulf %x, %two : f32
    linalg.yield %y : f32
  } -> tensor<1x4x16x8xf32>
  %v3 = tensor.collapse_shape %v2 [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the values are scaled}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// CHECK-LABEL: func.func @softmax_over_queries(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @softmax_over_queries(%q: tensor<1x4x4x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x4x8xf32> into tensor<4x4x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x4x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x4x16xf32>) -> tensor<4x4x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x4x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x4x16xf32>) -> tensor<4x4x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 16] : tensor<4x4x16xf32> into tensor<1x4x4x16xf32>
  %p_init = tensor.empty() : tensor<1x4x4x16xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<1x4x4x16xf32>) outs(%p_init : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x4x16xf32> into tensor<4x4x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x4x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
  // expected-remark @+1 {{declined: the softmax normalizes along dimension 2 of the scores, not along the key dimension 3}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x4x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 8] : tensor<4x4x8xf32> into tensor<1x4x4x8xf32>
  return %o : tensor<1x4x4x8xf32>
}

// -----

// The row max starts from 0: rows of negative scores shift by 0, not by
// their max (harmless in exact math, but not what was matched).
// CHECK-LABEL: func.func @max_from_zero(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @max_from_zero(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %row_init = tensor.empty() : tensor<1x4x1xf32>
  %start = arith.constant 0.0 : f32
  %max_init = linalg.fill ins(%start : f32) outs(%row_init : tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %max = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s : tensor<1x4x1x16xf32>) outs(%max_init : tensor<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.maximumf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%row_init : tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s : tensor<1x4x1x16xf32>) outs(%sum_init : tensor<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %max : tensor<1x4x1x16xf32>, tensor<1x4x1xf32>) outs(%p_init : tensor<1x4x1x16xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1x16xf32>
  %den = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<1x4x1x16xf32>) outs(%sum_init : tensor<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %den : tensor<1x4x1x16xf32>, tensor<1x4x1xf32>) outs(%p_init : tensor<1x4x1x16xf32>) {
  ^bb0(%x: f32, %t: f32, %out: f32):
    %y = arith.divf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the row max of the softmax starts from 0, not -inf}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// CHECK-LABEL: func.func @shift_by_sum(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @shift_by_sum(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %row_init = tensor.empty() : tensor<1x4x1xf32>
  %start = arith.constant 0xFF800000 : f32
  %max_init = linalg.fill ins(%start : f32) outs(%row_init : tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %max = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s : tensor<1x4x1x16xf32>) outs(%max_init : tensor<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.maximumf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1xf32>
  %sum_init = linalg.fill ins(%zero : f32) outs(%row_init : tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s : tensor<1x4x1x16xf32>) outs(%sum_init : tensor<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %sum : tensor<1x4x1x16xf32>, tensor<1x4x1xf32>) outs(%p_init : tensor<1x4x1x16xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1x16xf32>
  %den = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<1x4x1x16xf32>) outs(%sum_init : tensor<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %y = arith.addf %x, %acc : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %den : tensor<1x4x1x16xf32>, tensor<1x4x1xf32>) outs(%p_init : tensor<1x4x1x16xf32>) {
  ^bb0(%x: f32, %t: f32, %out: f32):
    %y = arith.divf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the softmax exponent subtracts 'linalg.generic' (a row sum), not the row max of the scores}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// The score matmul accumulates into ones.
// CHECK-LABEL: func.func @scores_accumulate(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @scores_accumulate(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%one : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the scores are 'linalg.batch_matmul', not a zero-initialized batched matmul}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// K repeats 2 kv heads twice, V has 4 heads of its own.
// CHECK-LABEL: func.func @groups_disagree(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @groups_disagree(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %k5_init = tensor.empty() : tensor<1x2x2x16x8xf32>
  %k5 = linalg.broadcast ins(%k : tensor<1x2x16x8xf32>) outs(%k5_init : tensor<1x2x2x16x8xf32>) dimensions = [2]
  %k4 = tensor.collapse_shape %k5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<1x4x16x8xf32>
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k4 : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: keys and values repeat their heads differently (2 vs 1)}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// The mask is compared with the causal mask position by position: scores of
// 2^31 - 1 heads are declined, not compared for minutes (a fuzzer mutant).
// CHECK-LABEL: func.func @huge_head_count_mask(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @huge_head_count_mask(%q: tensor<1x2147483647x4x8xf32>, %k: tensor<1x2147483647x16x8xf32>, %v: tensor<1x2147483647x16x8xf32>) -> tensor<1x2147483647x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_init = tensor.empty() : tensor<1x2147483647x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2147483647x16x8xf32>) outs(%kt_init : tensor<1x2147483647x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2147483647x4x8xf32> into tensor<2147483647x4x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x2147483647x8x16xf32> into tensor<2147483647x8x16xf32>
  %s_init = tensor.empty() : tensor<2147483647x4x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<2147483647x4x16xf32>) -> tensor<2147483647x4x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<2147483647x4x8xf32>, tensor<2147483647x8x16xf32>) outs(%s_zero : tensor<2147483647x4x16xf32>) -> tensor<2147483647x4x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 2147483647, 4, 16] : tensor<2147483647x4x16xf32> into tensor<1x2147483647x4x16xf32>
  %p_init = tensor.empty() : tensor<1x2147483647x4x16xf32>
  %mask = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x16xf32>
  %masked = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2147483647x4x16xf32>, tensor<4x16xf32>) outs(%p_init : tensor<1x2147483647x4x16xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<1x2147483647x4x16xf32>
  %p = linalg.softmax dimension(3) ins(%masked : tensor<1x2147483647x4x16xf32>) outs(%p_init : tensor<1x2147483647x4x16xf32>) -> tensor<1x2147483647x4x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x2147483647x4x16xf32> into tensor<2147483647x4x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2147483647x16x8xf32> into tensor<2147483647x16x8xf32>
  %o_init = tensor.empty() : tensor<2147483647x4x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<2147483647x4x8xf32>) -> tensor<2147483647x4x8xf32>
  // expected-remark @+1 {{declined: the masked scores have more than 4194304 positions to compare with the causal mask}}
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<2147483647x4x16xf32>, tensor<2147483647x16x8xf32>) outs(%o_zero : tensor<2147483647x4x8xf32>) -> tensor<2147483647x4x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 2147483647, 4, 8] : tensor<2147483647x4x8xf32> into tensor<1x2147483647x4x8xf32>
  return %o : tensor<1x2147483647x4x8xf32>
}


// -----

// 3-D (torch.bmm) attention whose merges only agree on B * H = 4: the query
// is 1 sequence of 4 heads, the keys 2 sequences of 2 heads. Batch row 1 of
// the keys is not the kv head of query head 1 of a group.
// CHECK-LABEL: func.func @bmm_batch_heads_disagree(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @bmm_batch_heads_disagree(%q: tensor<1x4x1x8xf32>, %k: tensor<2x2x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<2x2x16x8xf32> into tensor<4x16x8xf32>
  %kt_init = tensor.empty() : tensor<4x8x16xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x16x8xf32>) outs(%kt_init : tensor<4x8x16xf32>) permutation = [0, 2, 1]
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x1x16xf32>) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the kv heads do not group the query heads statically}}
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// -----

// 3-D attention whose result is split into [2, 2, S, dv], not the query's
// [1, 4, S, dv].
// CHECK-LABEL: func.func @bmm_result_split_differs(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @bmm_result_split_differs(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<2x2x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %kt_init = tensor.empty() : tensor<4x8x16xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x16x8xf32>) outs(%kt_init : tensor<4x8x16xf32>) permutation = [0, 2, 1]
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x1x16xf32>) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the attention output is not [B, Hq, (S,) dv] of the query and value}}
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [2, 2, 1, 8] : tensor<4x1x8xf32> into tensor<2x2x1x8xf32>
  return %o : tensor<2x2x1x8xf32>
}

// -----

// 3-D attention whose key repetition merges [B, Hkv, G] in another order
// ([B, G, Hkv]: query head h would read kv head h mod Hkv, not h / G).
// CHECK-LABEL: func.func @bmm_groups_before_heads(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return

func.func @bmm_groups_before_heads(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %k5_init = tensor.empty() : tensor<1x2x2x16x8xf32>
  %k5 = linalg.broadcast ins(%k : tensor<1x2x16x8xf32>) outs(%k5_init : tensor<1x2x2x16x8xf32>) dimensions = [1]
  %k3 = tensor.collapse_shape %k5 [[0, 1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<4x16x8xf32>
  %kt_init = tensor.empty() : tensor<4x8x16xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x16x8xf32>) outs(%kt_init : tensor<4x8x16xf32>) permutation = [0, 2, 1]
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x1x16xf32>) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %v5_init = tensor.empty() : tensor<1x2x2x16x8xf32>
  %v5 = linalg.broadcast ins(%v : tensor<1x2x16x8xf32>) outs(%v5_init : tensor<1x2x2x16x8xf32>) dimensions = [2]
  %v3 = tensor.collapse_shape %v5 [[0, 1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<4x16x8xf32>
  %o_init = tensor.empty() : tensor<4x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  // expected-remark @+1 {{declined: the key heads are merged from 'linalg.broadcast', not from a repetition of the kv heads}}
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<4x1x16xf32>, tensor<4x16x8xf32>) outs(%o_zero : tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf32> into tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}
