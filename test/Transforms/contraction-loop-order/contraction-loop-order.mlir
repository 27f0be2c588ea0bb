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

// A matmul that reads B transposed keeps its loop order: its innermost loop
// would not walk a row of B.
// CHECK-LABEL: func.func @transposed_rhs
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
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
