// linalg.softmax, and the chain upstream's decomposition of it produces
// (max from a NaN start under maxnumf, a fused exp(x - max), sum, divide), in
// f32, f16 and bf16. torch-mlir never emits linalg.softmax, so these inputs
// are written by hand in the layout of its export; the decomposed form is
// produced from them by upstream's transform.structured.decompose_interface.

// RUN: magicpig-opt %s -split-input-file --magicpig-raise-attention | FileCheck %s
// RUN: magicpig-opt %s -split-input-file --transform-preload-library=transform-library-paths=%S/Inputs/decompose-softmax.mlir --transform-interpreter --magicpig-raise-attention | FileCheck %s

// CHECK-LABEL: func.func @softmax_f32(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(1.250000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) outs(%[[INIT]] : tensor<1x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   return %[[OUT]]
func.func @softmax_f32(%q: tensor<1x4x1x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.125 : f32
  %kt_init = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf32>) outs(%kt_init : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf32> into tensor<4x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %s_init = tensor.empty() : tensor<4x1x16xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf32>, tensor<4x8x16xf32>) outs(%s_zero : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %p_init = tensor.empty() : tensor<1x4x1x16xf32>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x1x16xf32>) outs(%p_init : tensor<1x4x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
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

// CHECK-LABEL: func.func @softmax_f16(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xf16>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xf16>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xf16>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xf16>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(1.250000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xf16>, tensor<1x4x16x8xf16>, tensor<1x4x16x8xf16>) outs(%[[INIT]] : tensor<1x4x1x8xf16>)
//   CHECK-NOT:   linalg.
//       CHECK:   return %[[OUT]]
func.func @softmax_f16(%q: tensor<1x4x1x8xf16>, %k: tensor<1x4x16x8xf16>, %v: tensor<1x4x16x8xf16>) -> tensor<1x4x1x8xf16> {
  %zero = arith.constant 0.0 : f16
  %scale = arith.constant 0.125 : f16
  %kt_init = tensor.empty() : tensor<1x4x8x16xf16>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xf16>) outs(%kt_init : tensor<1x4x8x16xf16>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xf16> into tensor<4x1x8xf16>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xf16> into tensor<4x8x16xf16>
  %s_init = tensor.empty() : tensor<4x1x16xf16>
  %s_zero = linalg.fill ins(%zero : f16) outs(%s_init : tensor<4x1x16xf16>) -> tensor<4x1x16xf16>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xf16>, tensor<4x8x16xf16>) outs(%s_zero : tensor<4x1x16xf16>) -> tensor<4x1x16xf16>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf16> into tensor<1x4x1x16xf16>
  %p_init = tensor.empty() : tensor<1x4x1x16xf16>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x1x16xf16>) outs(%p_init : tensor<1x4x1x16xf16>) {
  ^bb0(%in: f16, %out: f16):
    %m = arith.mulf %in, %scale : f16
    linalg.yield %m : f16
  } -> tensor<1x4x1x16xf16>
  %p = linalg.softmax dimension(3) ins(%scaled : tensor<1x4x1x16xf16>) outs(%p_init : tensor<1x4x1x16xf16>) -> tensor<1x4x1x16xf16>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xf16> into tensor<4x1x16xf16>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xf16> into tensor<4x16x8xf16>
  %o_init = tensor.empty() : tensor<4x1x8xf16>
  %o_zero = linalg.fill ins(%zero : f16) outs(%o_init : tensor<4x1x8xf16>) -> tensor<4x1x8xf16>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xf16>, tensor<4x16x8xf16>) outs(%o_zero : tensor<4x1x8xf16>) -> tensor<4x1x8xf16>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xf16> into tensor<1x4x1x8xf16>
  return %o : tensor<1x4x1x8xf16>
}

// -----

// CHECK-LABEL: func.func @softmax_bf16(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x8xbf16>, %[[K:[a-z0-9]+]]: tensor<1x4x16x8xbf16>, %[[V:[a-z0-9]+]]: tensor<1x4x16x8xbf16>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x1x8xbf16>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(1.250000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x8xbf16>, tensor<1x4x16x8xbf16>, tensor<1x4x16x8xbf16>) outs(%[[INIT]] : tensor<1x4x1x8xbf16>)
//   CHECK-NOT:   linalg.
//       CHECK:   return %[[OUT]]
func.func @softmax_bf16(%q: tensor<1x4x1x8xbf16>, %k: tensor<1x4x16x8xbf16>, %v: tensor<1x4x16x8xbf16>) -> tensor<1x4x1x8xbf16> {
  %zero = arith.constant 0.0 : bf16
  %scale = arith.constant 0.125 : bf16
  %kt_init = tensor.empty() : tensor<1x4x8x16xbf16>
  %kt = linalg.transpose ins(%k : tensor<1x4x16x8xbf16>) outs(%kt_init : tensor<1x4x8x16xbf16>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x8xbf16> into tensor<4x1x8xbf16>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x8x16xbf16> into tensor<4x8x16xbf16>
  %s_init = tensor.empty() : tensor<4x1x16xbf16>
  %s_zero = linalg.fill ins(%zero : bf16) outs(%s_init : tensor<4x1x16xbf16>) -> tensor<4x1x16xbf16>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x8xbf16>, tensor<4x8x16xbf16>) outs(%s_zero : tensor<4x1x16xbf16>) -> tensor<4x1x16xbf16>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xbf16> into tensor<1x4x1x16xbf16>
  %p_init = tensor.empty() : tensor<1x4x1x16xbf16>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x1x16xbf16>) outs(%p_init : tensor<1x4x1x16xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %m = arith.mulf %in, %scale : bf16
    linalg.yield %m : bf16
  } -> tensor<1x4x1x16xbf16>
  %p = linalg.softmax dimension(3) ins(%scaled : tensor<1x4x1x16xbf16>) outs(%p_init : tensor<1x4x1x16xbf16>) -> tensor<1x4x1x16xbf16>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x16xbf16> into tensor<4x1x16xbf16>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x16x8xbf16> into tensor<4x16x8xbf16>
  %o_init = tensor.empty() : tensor<4x1x8xbf16>
  %o_zero = linalg.fill ins(%zero : bf16) outs(%o_init : tensor<4x1x8xbf16>) -> tensor<4x1x8xbf16>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x16xbf16>, tensor<4x16x8xbf16>) outs(%o_zero : tensor<4x1x8xbf16>) -> tensor<4x1x8xbf16>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 8] : tensor<4x1x8xbf16> into tensor<1x4x1x8xbf16>
  return %o : tensor<1x4x1x8xbf16>
}

// -----

// A dynamic context length N (the KV cache grows) and a dynamic batch.
// CHECK-LABEL: func.func @softmax_dynamic(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<?x4x1x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x?x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x?x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   %[[B:.+]] = tensor.dim %[[Q]], %{{.+}} : tensor<?x4x1x8xf32>
//       CHECK:   %[[INIT:.+]] = tensor.empty(%[[B]]) : tensor<?x4x1x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(1.250000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<?x4x1x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) outs(%[[INIT]] : tensor<?x4x1x8xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   return %[[OUT]]
func.func @softmax_dynamic(%q: tensor<?x4x1x8xf32>, %k: tensor<?x4x?x8xf32>, %v: tensor<?x4x?x8xf32>) -> tensor<?x4x1x8xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.125 : f32
  %b = tensor.dim %q, %c0 : tensor<?x4x1x8xf32>
  %n = tensor.dim %k, %c2 : tensor<?x4x?x8xf32>
  %kt_init = tensor.empty(%b, %n) : tensor<?x4x8x?xf32>
  %kt = linalg.transpose ins(%k : tensor<?x4x?x8xf32>) outs(%kt_init : tensor<?x4x8x?xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<?x4x1x8xf32> into tensor<?x1x8xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<?x4x8x?xf32> into tensor<?x8x?xf32>
  %bh = tensor.dim %q3, %c0 : tensor<?x1x8xf32>
  %s_init = tensor.empty(%bh, %n) : tensor<?x1x?xf32>
  %s_zero = linalg.fill ins(%zero : f32) outs(%s_init : tensor<?x1x?xf32>) -> tensor<?x1x?xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<?x1x8xf32>, tensor<?x8x?xf32>) outs(%s_zero : tensor<?x1x?xf32>) -> tensor<?x1x?xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [%b, 4, 1, %n] : tensor<?x1x?xf32> into tensor<?x4x1x?xf32>
  %p_init = tensor.empty(%b, %n) : tensor<?x4x1x?xf32>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<?x4x1x?xf32>) outs(%p_init : tensor<?x4x1x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
    linalg.yield %m : f32
  } -> tensor<?x4x1x?xf32>
  %p = linalg.softmax dimension(3) ins(%scaled : tensor<?x4x1x?xf32>) outs(%p_init : tensor<?x4x1x?xf32>) -> tensor<?x4x1x?xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<?x4x1x?xf32> into tensor<?x1x?xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<?x4x?x8xf32> into tensor<?x?x8xf32>
  %o_init = tensor.empty(%bh) : tensor<?x1x8xf32>
  %o_zero = linalg.fill ins(%zero : f32) outs(%o_init : tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<?x1x?xf32>, tensor<?x?x8xf32>) outs(%o_zero : tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [%b, 4, 1, 8] : tensor<?x1x8xf32> into tensor<?x4x1x8xf32>
  return %o : tensor<?x4x1x8xf32>
}
