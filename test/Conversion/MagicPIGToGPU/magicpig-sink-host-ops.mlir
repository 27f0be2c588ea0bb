// RUN: magicpig-opt %s --magicpig-sink-host-ops -split-input-file | FileCheck %s

// The decode layer as magicpig-sparsify emits it: the host's retrieve and
// estimate move behind the window attention, which no longer waits for
// them; the order of the device ops is kept.

// CHECK-LABEL: func.func @decode_layer
// CHECK: %[[QC:.+]] = magicpig.simhash
// CHECK: %[[W:.+]]:2 = magicpig.window_attention
// CHECK: %[[C:.+]]:2 = magicpig.retrieve {{.*}} ins(%[[QC]],
// CHECK: %[[S:.+]]:2 = magicpig.estimate {{.*}} %[[C]]#0, %[[C]]#1
// CHECK: magicpig.merge ins(%[[S]]#0, %[[S]]#1, %[[W]]#0, %[[W]]#1
func.func @decode_layer(%q: tensor<1x4x16xf32>, %k: tensor<1x2x128x16xf32>,
                        %v: tensor<1x2x128x16xf32>, %ws: index,
                        %p: tensor<16x64xf32>, %norms: tensor<1x2x128xf32>,
                        %mean: tensor<1x2x16xf32>, %off: tensor<1x2x8x257xi32>,
                        %idx: tensor<1x2x8x128xi32>) -> tensor<1x4x16xf32> {
  %qc0 = tensor.empty() : tensor<1x4x8xi32>
  %qc = magicpig.simhash bits(8) tables(8) ins(%q, %p : tensor<1x4x16xf32>, tensor<16x64xf32>)
          outs(%qc0 : tensor<1x4x8xi32>) -> tensor<1x4x8xi32>
  %c0 = tensor.empty() : tensor<1x4x128xi32>
  %n0 = tensor.empty() : tensor<1x4xi32>
  %cand, %count = magicpig.retrieve bits(8) min_collisions(2)
    ins(%qc, %off, %idx : tensor<1x4x8xi32>, tensor<1x2x8x257xi32>, tensor<1x2x8x128xi32>)
    outs(%c0, %n0 : tensor<1x4x128xi32>, tensor<1x4xi32>) -> tensor<1x4x128xi32>, tensor<1x4xi32>
  %o0 = tensor.empty() : tensor<1x4x16xf32>
  %l0 = tensor.empty() : tensor<1x4xf32>
  %os, %ls = magicpig.estimate bits(8) tables(8) min_collisions(2) scale(0.25)
    ins(%q, %k, %v, %norms, %mean, %cand, %count : tensor<1x4x16xf32>, tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>, tensor<1x2x128xf32>, tensor<1x2x16xf32>, tensor<1x4x128xi32>, tensor<1x4xi32>)
    outs(%o0, %l0 : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  %ow, %lw = magicpig.window_attention sink(4) window_start(%ws) scale(0.25)
    ins(%q, %k, %v : tensor<1x4x16xf32>, tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>)
    outs(%o0, %l0 : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  %o, %l = magicpig.merge ins(%os, %ls, %ow, %lw : tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<1x4x16xf32>, tensor<1x4xf32>)
    outs(%o0, %l0 : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %o : tensor<1x4x16xf32>
}

// -----

// Bufferized ops stay where they are (their order is a memory dependence).

// CHECK-LABEL: func.func @memref_form
// CHECK: magicpig.retrieve
// CHECK: magicpig.merge
func.func @memref_form(%qc: memref<1x4x8xi32>, %off: memref<1x2x8x257xi32>,
                       %idx: memref<1x2x8x128xi32>, %cand: memref<1x4x128xi32>,
                       %count: memref<1x4xi32>, %oa: memref<1x4x8xf32>,
                       %la: memref<1x4xf32>) {
  magicpig.retrieve bits(8) min_collisions(2)
    ins(%qc, %off, %idx : memref<1x4x8xi32>, memref<1x2x8x257xi32>, memref<1x2x8x128xi32>)
    outs(%cand, %count : memref<1x4x128xi32>, memref<1x4xi32>)
  magicpig.merge ins(%oa, %la, %oa, %la : memref<1x4x8xf32>, memref<1x4xf32>, memref<1x4x8xf32>, memref<1x4xf32>)
                 outs(%oa, %la : memref<1x4x8xf32>, memref<1x4xf32>)
  return
}
