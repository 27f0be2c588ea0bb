// RUN: magicpig-opt %s --magicpig-parallel-token-loops --split-input-file | FileCheck %s
// RUN: magicpig-opt %s --magicpig-parallel-token-loops="chunks=4" --split-input-file | FileCheck %s --check-prefix=FOUR
// RUN: not magicpig-opt %s --magicpig-parallel-token-loops="chunks=0" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

#id = affine_map<(b, i, j) -> (b, i, j)>
#row = affine_map<(b, i, j) -> (b, i)>

// An element-wise op and a row reduction over a dynamic token dimension:
// each becomes an scf.forall of 16 tiles of ceil(N / 16) rows (at least 1),
// the same op on subviews. The reduction loop stays inside the tile.
// CHECK-LABEL: func.func @prefill_rows(
// CHECK-SAME:    %[[X:.+]]: memref<1x?x64xf32>, %[[Y:.+]]: memref<1x?x64xf32>, %[[S:.+]]: memref<1x?xf32>)
// CHECK:         %[[N:.+]] = memref.dim %[[X]], %c1
// CHECK:         %[[CHUNK:.+]] = affine.apply #{{.+}}()[%[[N]]]
// CHECK:         %[[TILE:.+]] = arith.maxui %[[CHUNK]], %c1
// CHECK:         scf.forall (%[[I:.+]]) = (0) to (%{{.+}}) step (%[[TILE]])
// CHECK:           memref.subview %[[X]][0, %[[I]], 0]
// CHECK:           linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK:           math.exp
// CHECK:         scf.forall
// CHECK:           linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]
// FOUR-LABEL: func.func @prefill_rows(
// FOUR:         affine.apply #[[MAP:.+]]()
// FOUR-COUNT-2: scf.forall
// BAD: error: magicpig-parallel-token-loops: chunks must be at least 1
func.func @prefill_rows(%x: memref<1x?x64xf32>, %y: memref<1x?x64xf32>, %s: memref<1x?xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<1x?x64xf32>) outs(%y : memref<1x?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<1x?x64xf32>) outs(%s : memref<1x?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  }
  return
}

// -----

#id = affine_map<(b, i, j) -> (b, i, j)>

// Left alone: a decode step's static one-row op, an op already inside a
// parallel loop, and tensors (before bufferization).
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.generic
// CHECK:         scf.parallel
// CHECK:           linalg.generic
// CHECK:         linalg.generic
// CHECK-NOT:     scf.forall
func.func @left_alone(%x: memref<1x1x64xf32>, %y: memref<1x1x64xf32>, %d: memref<1x?x64xf32>,
                      %t: tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<1x1x64xf32>) outs(%y : memref<1x1x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%d : memref<1x?x64xf32>) outs(%d : memref<1x?x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %e = math.exp %in : f32
      linalg.yield %e : f32
    }
    scf.reduce
  }
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t : tensor<1x?x64xf32>) outs(%t : tensor<1x?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<1x?x64xf32>
  return %r : tensor<1x?x64xf32>
}

// -----

// A static empty batch leaves nothing to tile: the ops stay as they are
// (tiling them crashed in the upstream tile-size computation).
// CHECK-LABEL: func.func @empty_batch
// CHECK-NOT: scf.forall
// CHECK: linalg.generic
// CHECK: linalg.generic
#id0 = affine_map<(b, i, j) -> (b, i, j)>
#row0 = affine_map<(b, i, j) -> (b, i)>
func.func @empty_batch(%x: memref<0x?x64xf32>, %y: memref<0x?x64xf32>, %s: memref<0x?xf32>) {
  linalg.generic {indexing_maps = [#id0, #id0], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<0x?x64xf32>) outs(%y : memref<0x?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id0, #row0], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<0x?x64xf32>) outs(%s : memref<0x?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  }
  return
}
