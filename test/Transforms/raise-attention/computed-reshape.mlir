// RUN: magicpig-opt %s --magicpig-raise-attention | FileCheck %s

// A tensor.reshape whose shape is computed at run time, where the static
// sizes allow only one collapse (torch-mlir's form of repeat_kv's view with
// a dynamic batch and length), becomes that collapse_shape; each dynamic
// size it keeps is asserted equal to the computed one.

// CHECK-LABEL: func.func @heads_merged
//  CHECK-SAME: (%[[X:.+]]: tensor<?x2x2x?x16xf32>, %[[B:.+]]: i64, %[[N:.+]]: i64)
//   CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
//   CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
//       CHECK: %[[D0:.+]] = tensor.dim %[[X]], %[[C0]]
//       CHECK: %[[I0:.+]] = arith.index_cast %[[D0]] : index to i64
//       CHECK: %[[E0:.+]] = arith.cmpi eq, %[[B]], %[[I0]] : i64
//       CHECK: cf.assert %[[E0]], "tensor.reshape read as a collapse: a computed size differs from the source dim it keeps"
//       CHECK: %[[D3:.+]] = tensor.dim %[[X]], %[[C3]]
//       CHECK: %[[I3:.+]] = arith.index_cast %[[D3]] : index to i64
//       CHECK: %[[E3:.+]] = arith.cmpi eq, %[[N]], %[[I3]] : i64
//       CHECK: cf.assert %[[E3]]
//       CHECK: %[[R:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2], [3], [4]] : tensor<?x2x2x?x16xf32> into tensor<?x4x?x16xf32>
//       CHECK: return %[[R]]
func.func @heads_merged(%x: tensor<?x2x2x?x16xf32>, %b: i64, %n: i64) -> tensor<?x4x?x16xf32> {
  %c4 = arith.constant 4 : i64
  %c16 = arith.constant 16 : i64
  %shape = tensor.from_elements %b, %c4, %n, %c16 : tensor<4xi64>
  %r = tensor.reshape %x(%shape) : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}

// A unit dim could belong to either neighbour, and two dynamic sizes merged
// into one are not a dim they keep: both stay computed reshapes.
// CHECK-LABEL: func.func @ambiguous
//   CHECK-NOT: tensor.collapse_shape
//       CHECK: tensor.reshape
//       CHECK: tensor.reshape
//   CHECK-NOT: cf.assert
func.func @ambiguous(%x: tensor<?x1x4x?xf32>, %y: tensor<?x?x4xf32>, %b: i64, %n: i64)
    -> (tensor<?x4x?xf32>, tensor<?x4xf32>) {
  %c4 = arith.constant 4 : i64
  %s1 = tensor.from_elements %b, %c4, %n : tensor<3xi64>
  %r1 = tensor.reshape %x(%s1) : (tensor<?x1x4x?xf32>, tensor<3xi64>) -> tensor<?x4x?xf32>
  %s2 = tensor.from_elements %b, %c4 : tensor<2xi64>
  %r2 = tensor.reshape %y(%s2) : (tensor<?x?x4xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %r1, %r2 : tensor<?x4x?xf32>, tensor<?x4xf32>
}
