// RUN: magicpig-opt %s --magicpig-contraction-loop-order | FileCheck %s

// nn.Linear on one token per sequence of a dynamic batch, as torch-mlir
// exports it ([B, 1, K] against the weight transposed and broadcast to
// [B, K, N]): read as B rows of one batch, so the contraction walks each
// weight row once for all sequences; the result is reshaped back.

// CHECK-LABEL: func.func @decode_batch
//  CHECK-SAME: (%[[X:.+]]: tensor<?x1x8xf32>, %[[W:.+]]: tensor<16x8xf32>)
//       CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x1x8xf32> into tensor<?x8xf32>
//       CHECK: %[[ROWS:.+]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1], [2]] output_shape [1, %{{.+}}, 8] : tensor<?x8xf32> into tensor<1x?x8xf32>
//       CHECK: %[[P:.+]] = linalg.generic
//  CHECK-SAME: ins(%[[ROWS]], %[[W]] : tensor<1x?x8xf32>, tensor<16x8xf32>)
//       CHECK: %[[OUT:.+]] = tensor.collapse_shape %[[P]] {{\[}}[0, 1], [2]] : tensor<1x?x16xf32> into tensor<?x16xf32>
//       CHECK: tensor.expand_shape %[[OUT]] {{\[}}[0, 1], [2]] output_shape [%{{.+}}, 1, 16] : tensor<?x16xf32> into tensor<?x1x16xf32>
//   CHECK-NOT: linalg.batch_matmul
#map0 = affine_map<(b, k, n) -> (k, n)>
#map1 = affine_map<(b, k, n) -> (b, k, n)>
func.func @decode_batch(%x: tensor<?x1x8xf32>, %w: tensor<16x8xf32>) -> tensor<?x1x16xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x1x8xf32>
  %t0 = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%t0 : tensor<8x16xf32>) permutation = [1, 0]
  %e = tensor.empty(%b) : tensor<?x8x16xf32>
  %wb = linalg.generic {indexing_maps = [#map0, #map1], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t : tensor<8x16xf32>) outs(%e : tensor<?x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x8x16xf32>
  %o0 = tensor.empty(%b) : tensor<?x1x16xf32>
  %o = linalg.fill ins(%zero : f32) outs(%o0 : tensor<?x1x16xf32>) -> tensor<?x1x16xf32>
  %r = linalg.batch_matmul ins(%x, %wb : tensor<?x1x8xf32>, tensor<?x8x16xf32>) outs(%o : tensor<?x1x16xf32>) -> tensor<?x1x16xf32>
  return %r : tensor<?x1x16xf32>
}
