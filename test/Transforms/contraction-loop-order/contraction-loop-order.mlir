// RUN: magicpig-opt %s -split-input-file --magicpig-contraction-loop-order | FileCheck %s

// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:.+]]: tensor<?x8xf32>, %[[W:.+]]: tensor<8x16xf32>, %[[O:.+]]: tensor<?x16xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<?x8xf32>, tensor<8x16xf32>) outs(%[[O]] : tensor<?x16xf32>)
// CHECK: %[[M:.+]] = arith.mulf
// CHECK: arith.addf %{{.+}}, %[[M]]
// CHECK-NOT: linalg.matmul
func.func @matmul(%x: tensor<?x8xf32>, %w: tensor<8x16xf32>, %o: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<?x8xf32>, tensor<8x16xf32>) outs(%o : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}

// -----

// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK-NOT: linalg.batch_matmul
func.func @batch_matmul(%x: tensor<1x?x8xf32>, %w: tensor<1x8x16xf32>, %o: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %r = linalg.batch_matmul ins(%x, %w : tensor<1x?x8xf32>, tensor<1x8x16xf32>) outs(%o : tensor<1x?x16xf32>) -> tensor<1x?x16xf32>
  return %r : tensor<1x?x16xf32>
}

// -----

// A matmul that reads B transposed keeps its loop order: the innermost
// reduction loop already walks rows of A and B (a dot product), marked
// reassociable so it vectorizes.
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @transposed_rhs
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[W]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.mulf {{.+}} fastmath<reassoc,contract>
// CHECK: arith.addf {{.+}} fastmath<reassoc,contract>
// CHECK-NOT: linalg.matmul
func.func @transposed_rhs(%x: tensor<?x8xf32>, %w: tensor<16x8xf32>, %o: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (j, k)>, affine_map<(i, j, k) -> (i, j)>]
         ins(%x, %w : tensor<?x8xf32>, tensor<16x8xf32>) outs(%o : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}

// -----

// Memref (already bufferized) matmuls are left alone.
// CHECK-LABEL: func.func @buffers
// CHECK: linalg.matmul
func.func @buffers(%x: memref<4x8xf32>, %w: memref<8x16xf32>, %o: memref<4x16xf32>) {
  linalg.matmul ins(%x, %w : memref<4x8xf32>, memref<8x16xf32>) outs(%o : memref<4x16xf32>)
  return
}

// -----

// nn.Linear as torch-mlir exports it: the weight [out, in] is transposed and
// broadcast to a batch of one before the batch_matmul. Both copies fold into
// the contraction, which reads the weight in place as (j, k) and keeps the
// reduction k innermost, marked reassociable.

// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<1x?x64xf32>, %[[WT:.+]]: tensor<32x64xf32>, %[[O:.+]]: tensor<1x?x32xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[A]], #[[W]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[WT]] : tensor<1x?x64xf32>, tensor<32x64xf32>) outs(%[[O]] : tensor<1x?x32xf32>)
// CHECK: ^bb0(%[[IN:.+]]: f32, %[[IW:.+]]: f32, %[[OUT:.+]]: f32):
// CHECK: %[[M:.+]] = arith.mulf %[[IN]], %[[IW]] fastmath<reassoc,contract> : f32
// CHECK: %[[S:.+]] = arith.addf %[[OUT]], %[[M]] fastmath<reassoc,contract> : f32
// CHECK: linalg.yield %[[S]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
#weight = affine_map<(d0, d1, d2) -> (d1, d2)>
#identity = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @linear(%x: tensor<1x?x64xf32>, %w: tensor<32x64xf32>, %o: tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  %e = tensor.empty() : tensor<64x32xf32>
  %t = linalg.transpose ins(%w : tensor<32x64xf32>) outs(%e : tensor<64x32xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<1x64x32xf32>
  %b = linalg.generic {indexing_maps = [#weight, #identity], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t : tensor<64x32xf32>) outs(%e2 : tensor<1x64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x64x32xf32>
  %r = linalg.batch_matmul ins(%x, %b : tensor<1x?x64xf32>, tensor<1x64x32xf32>) outs(%o : tensor<1x?x32xf32>) -> tensor<1x?x32xf32>
  return %r : tensor<1x?x32xf32>
}

// -----

// A transposed copy with a second user stays: folding it would make the
// contraction also yield the copy. The matmul keeps reading it, in (i, k, j).

// CHECK-LABEL: func.func @shared_transpose
// CHECK: %[[T:.+]] = linalg.transpose
// CHECK: %[[R:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME: ins(%{{.+}}, %[[T]] : tensor<?x8xf32>, tensor<8x16xf32>)
// CHECK-NOT: fastmath
// CHECK: return %[[R]], %[[T]]
func.func @shared_transpose(%x: tensor<?x8xf32>, %w: tensor<16x8xf32>, %o: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<8x16xf32>) {
  %e = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %r = linalg.matmul ins(%x, %t : tensor<?x8xf32>, tensor<8x16xf32>) outs(%o : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %r, %t : tensor<?x16xf32>, tensor<8x16xf32>
}

// -----

// A producer that computes (not a pure copy) is not folded.

// CHECK-LABEL: func.func @computed_operand
// CHECK: %[[N:.+]] = linalg.generic
// CHECK: arith.negf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME: ins(%{{.+}}, %[[N]] :
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @computed_operand(%x: tensor<?x8xf32>, %w: tensor<8x16xf32>, %o: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %e = tensor.empty() : tensor<8x16xf32>
  %n = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<8x16xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.negf %in : f32
    linalg.yield %v : f32
  } -> tensor<8x16xf32>
  %r = linalg.matmul ins(%x, %n : tensor<?x8xf32>, tensor<8x16xf32>) outs(%o : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}
