// RUN: magicpig-opt %s --magicpig-expand-strided-copies | FileCheck %s
//
// Through the CPU pipeline no copy is left to the runtime's element-wise
// memrefCopy: the strided ones become loops, the contiguous one llvm.memcpy.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline | FileCheck %s --check-prefix=LLVM
//
// The copies of a bufferized tensor.concat (a decode step appending a key
// row to the cache) run and give the concatenation.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s --check-prefix=OUT

// CHECK-LABEL: func.func @into_subview(
// CHECK-SAME:    %[[SRC:.+]]: memref<1x3x?x4xf32>, %[[DST:.+]]: memref<1x3x?x4xf32, strided<[?, ?, 4, 1]>>)
// CHECK-NEXT:    linalg.copy ins(%[[SRC]] : memref<1x3x?x4xf32>) outs(%[[DST]] : memref<1x3x?x4xf32, strided<[?, ?, 4, 1]>>)
// CHECK-NOT:     memref.copy
func.func @into_subview(%src: memref<1x3x?x4xf32>,
                        %dst: memref<1x3x?x4xf32, strided<[?, ?, 4, 1]>>) {
  memref.copy %src, %dst : memref<1x3x?x4xf32> to memref<1x3x?x4xf32, strided<[?, ?, 4, 1]>>
  return
}

// CHECK-LABEL: func.func @from_offset_view(
// CHECK:         linalg.copy
func.func @from_offset_view(%src: memref<3x4xf32, strided<[4, 1], offset: ?>>,
                            %dst: memref<3x4xf32>) {
  memref.copy %src, %dst : memref<3x4xf32, strided<[4, 1], offset: ?>> to memref<3x4xf32>
  return
}

// CHECK-LABEL: func.func @contiguous(
// CHECK-NEXT:    memref.copy
// CHECK-NOT:     linalg.copy
func.func @contiguous(%src: memref<?x4xf32>, %dst: memref<?x4xf32>) {
  memref.copy %src, %dst : memref<?x4xf32> to memref<?x4xf32>
  return
}

// LLVM-NOT: memrefCopy
// LLVM:     "llvm.intr.memcpy"
// LLVM-NOT: memrefCopy

// OUT:      sizes = [1, 3, 3, 4]
// OUT-NEXT: {{\[\[\[\[}}0, 1, 2, 3],
// OUT-NEXT:    [4, 5, 6, 7],
// OUT-NEXT:    [100, 101, 102, 103]],
// OUT-NEXT:   {{\[\[}}8, 9, 10, 11],
// OUT-NEXT:    [12, 13, 14, 15],
// OUT-NEXT:    [200, 201, 202, 203]],
// OUT-NEXT:   {{\[\[}}16, 17, 18, 19],
// OUT-NEXT:    [20, 21, 22, 23],
// OUT-NEXT:    [300, 301, 302, 303]]]]
func.func @append(%cache: tensor<1x3x?x4xf32>, %row: tensor<1x3x1x4xf32>) -> tensor<1x3x?x4xf32> {
  %c = tensor.concat dim(2) %cache, %row
      : (tensor<1x3x?x4xf32>, tensor<1x3x1x4xf32>) -> tensor<1x3x?x4xf32>
  return %c : tensor<1x3x?x4xf32>
}

func.func @main() {
  %cache = arith.constant dense<[[[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]],
                                  [[8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0]],
                                  [[16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0]]]]> : tensor<1x3x2x4xf32>
  %row = arith.constant dense<[[[[100.0, 101.0, 102.0, 103.0]], [[200.0, 201.0, 202.0, 203.0]],
                                [[300.0, 301.0, 302.0, 303.0]]]]> : tensor<1x3x1x4xf32>
  %dynamic = tensor.cast %cache : tensor<1x3x2x4xf32> to tensor<1x3x?x4xf32>
  %c = call @append(%dynamic, %row) : (tensor<1x3x?x4xf32>, tensor<1x3x1x4xf32>) -> tensor<1x3x?x4xf32>
  %u = tensor.cast %c : tensor<1x3x?x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}
