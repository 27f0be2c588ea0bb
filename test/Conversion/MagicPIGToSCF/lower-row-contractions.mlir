// RUN: magicpig-opt %s --magicpig-lower-row-contractions --split-input-file | FileCheck %s
// RUN: magicpig-opt %s --magicpig-lower-row-contractions="vector-width=8" --split-input-file | FileCheck %s --check-prefix=AVX2
// RUN: not magicpig-opt %s --magicpig-lower-row-contractions="vector-width=6" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

#a = affine_map<(b, i, j, k) -> (b, i, k)>
#w = affine_map<(b, i, j, k) -> (j, k)>
#c = affine_map<(b, i, j, k) -> (b, i, j)>

// A prefill projection (dynamic rows, W [64, 32]), twice: both become calls
// of one private function of the shape, its operands cast to dynamic sizes
// and strides. In it: an scf.parallel over 64-row tasks; in each, 64-row
// blocks of W, then 4 x 4 register blocks (16 FMAs per step of 16 lanes
// along k, 4 loads of W and 4 of A) and a 1 x 4 tail for the last rows;
// sums added to 4 elements of C at a time.
// CHECK-LABEL: func.func @prefill_projection(
// CHECK-SAME:    %[[A0:[a-z0-9]+]]: memref<1x?x32xf32>, %[[W0:[a-z0-9]+]]: memref<64x32xf32>, %[[C0:[a-z0-9]+]]: memref<1x?x64xf32>
// CHECK-NOT:     linalg.generic
// CHECK:         %[[CA:.+]] = memref.cast %[[A0]] : memref<1x?x32xf32> to memref<?x?x32xf32, strided<[?, ?, 1], offset: ?>>
// CHECK:         %[[CW:.+]] = memref.cast %[[W0]] : memref<64x32xf32> to memref<64x32xf32, strided<[?, 1], offset: ?>>
// CHECK:         %[[CC:.+]] = memref.cast %[[C0]] : memref<1x?x64xf32> to memref<?x?x64xf32, strided<[?, ?, 1], offset: ?>>
// CHECK:         call @__magicpig_row_contraction_b1_n64_k32(%[[CA]], %[[CW]], %[[CC]])
// CHECK:         call @__magicpig_row_contraction_b1_n64_k32(
// CHECK-NOT:     linalg.generic
// CHECK:         return
// CHECK-LABEL: func.func private @__magicpig_row_contraction_b1_n64_k32(
// CHECK-SAME:    %[[A:[a-z0-9]+]]: memref<?x?x32xf32, strided<[?, ?, 1], offset: ?>>, %[[W:[a-z0-9]+]]: memref<64x32xf32, strided<[?, 1], offset: ?>>, %[[C:[a-z0-9]+]]: memref<?x?x64xf32, strided<[?, ?, 1], offset: ?>>)
// CHECK:         scf.for %[[B:.+]] =
// CHECK:           memref.dim %[[C]], %c1
// CHECK:           scf.parallel
// CHECK:             scf.for {{.+}} = %{{.+}} to %c64{{.*}} step %c64
// CHECK:               scf.for {{.+}} step %c4
// CHECK:                 scf.for {{.+}} step %c4
// CHECK:                   scf.for %[[K:.+]] = %{{.+}} to %c32 step %c16 iter_args(
// CHECK-COUNT-4:             vector.load %[[W]][{{.+}}, %[[K]]] : memref<64x32xf32, strided<[?, 1], offset: ?>>, vector<16xf32>
// CHECK:                     vector.load %[[A]][%[[B]], {{.+}}, %[[K]]] : memref<?x?x32xf32, strided<[?, ?, 1], offset: ?>>, vector<16xf32>
// CHECK-COUNT-4:             vector.fma
// CHECK:                     vector.load %[[A]]
// CHECK-COUNT-4:             vector.fma
// CHECK:                     vector.load %[[A]]
// CHECK-COUNT-4:             vector.fma
// CHECK:                     vector.load %[[A]]
// CHECK-COUNT-4:             vector.fma
// CHECK:                     scf.yield
// CHECK-COUNT-4:           vector.load %[[C]]{{.*}} vector<4xf32>
// CHECK:               scf.for {{.+}} step %c1
// CHECK:                 scf.for {{.+}} step %c4
// CHECK:                   scf.for {{.+}} iter_args(
// CHECK-COUNT-4:             vector.fma
// CHECK-NOT:                 vector.fma
// CHECK:                     scf.yield
// CHECK-NOT:   func.func private @__magicpig_row_contraction
// AVX2-LABEL: func.func private @__magicpig_row_contraction_b1_n64_k32(
// AVX2:         scf.for {{.+}} step %c2
// AVX2:           scf.for {{.+}} step %c4
// AVX2:             scf.for {{.+}} to %c32 step %c8 iter_args(
// AVX2-COUNT-8:       vector.fma {{.+}} : vector<8xf32>
// AVX2-NOT:           vector.fma
// AVX2:               scf.yield
// BAD: error: magicpig-lower-row-contractions: vector-width must be a power of two in [4, 64]
func.func @prefill_projection(%a: memref<1x?x32xf32>, %w: memref<64x32xf32>, %c: memref<1x?x64xf32>,
                              %a2: memref<1x?x32xf32, strided<[?, 64, 1]>>, %c2: memref<1x?x64xf32>) {
  linalg.generic {indexing_maps = [#a, #w, #c],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<1x?x32xf32>, memref<64x32xf32>) outs(%c : memref<1x?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#a, #w, #c],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a2, %w : memref<1x?x32xf32, strided<[?, 64, 1]>>, memref<64x32xf32>) outs(%c2 : memref<1x?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %y, %x fastmath<reassoc,contract> : f32
    %s = arith.addf %p, %acc fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#a = affine_map<(b, i, j, k) -> (b, i, k)>
#w = affine_map<(b, i, j, k) -> (j, k)>
#c = affine_map<(b, i, j, k) -> (b, i, j)>

// Left alone: a decode step's single row (static, below min-rows), a sum
// without reassoc (its order is fixed), k not a multiple of the vector
// width, a W row count not a multiple of 4, and a non-contiguous row of A.
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT:     vector.fma
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT:     vector.fma
func.func @left_alone(%a1: memref<1x1x32xf32>, %a: memref<1x?x32xf32>, %w: memref<64x32xf32>,
                      %c1: memref<1x1x64xf32>, %c: memref<1x?x64xf32>,
                      %a24: memref<1x?x24xf32>, %w24: memref<64x24xf32>,
                      %w62: memref<62x32xf32>, %c62: memref<1x?x62xf32>,
                      %as: memref<1x?x32xf32, strided<[?, ?, 2]>>) {
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a1, %w : memref<1x1x32xf32>, memref<64x32xf32>) outs(%c1 : memref<1x1x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<1x?x32xf32>, memref<64x32xf32>) outs(%c : memref<1x?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a24, %w24 : memref<1x?x24xf32>, memref<64x24xf32>) outs(%c : memref<1x?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w62 : memref<1x?x32xf32>, memref<62x32xf32>) outs(%c62 : memref<1x?x62xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%as, %w : memref<1x?x32xf32, strided<[?, ?, 2]>>, memref<64x32xf32>) outs(%c : memref<1x?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Without a batch dim, inside an scf.forall tile (magicpig-parallel-
// contractions): a function of its own whose row tasks are an scf.for, no
// nested parallel loop.
// CHECK-LABEL: func.func @in_forall(
// CHECK:         scf.forall
// CHECK:           call @__magicpig_row_contraction_b0_n64_k32_serial(
// CHECK-LABEL: func.func private @__magicpig_row_contraction_b0_n64_k32_serial(
// CHECK-SAME:    memref<?x32xf32, strided<[?, 1], offset: ?>>
// CHECK-NOT:     scf.parallel
// CHECK:         vector.fma
#a2 = affine_map<(i, j, k) -> (i, k)>
#w2 = affine_map<(i, j, k) -> (j, k)>
#c2 = affine_map<(i, j, k) -> (i, j)>
func.func @in_forall(%a: memref<?x32xf32>, %w: memref<64x32xf32>, %c: memref<?x64xf32>) {
  scf.forall (%t) in (2) {
    linalg.generic {indexing_maps = [#a2, #w2, #c2], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %w : memref<?x32xf32>, memref<64x32xf32>) outs(%c : memref<?x64xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
      %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
      linalg.yield %s : f32
    }
  }
  return
}
