// The bufferization models of the magicpig ops: One-Shot Bufferize turns
// each tensor-form op into the same op on buffers, with no results; `ins`
// are read in place, and every `outs` buffer is written in place and
// stands for the tensor result (function boundaries bufferized, identity
// layouts as in --magicpig-cpu-pipeline).
//
// RUN: magicpig-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN: | FileCheck %s

// The results are the `outs` function arguments themselves: no copy, no
// allocation.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: %[[Q:[a-zA-Z0-9]+]]: memref<1x8x64xf32>, %[[K:[a-zA-Z0-9]+]]: memref<1x2x?x64xbf16>, %[[V:[a-zA-Z0-9]+]]: memref<1x2x?x64xbf16>, %[[O:[a-zA-Z0-9]+]]: memref<1x8x64xf32>
// CHECK-SAME: -> memref<1x8x64xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: magicpig.attention scale(1.250000e-01) causal ins(%[[Q]], %[[K]], %[[V]] : memref<1x8x64xf32>, memref<1x2x?x64xbf16>, memref<1x2x?x64xbf16>) outs(%[[O]] : memref<1x8x64xf32>)
// CHECK-NEXT: return %[[O]] : memref<1x8x64xf32>
func.func @attention(%q: tensor<1x8x64xf32>, %k: tensor<1x2x?x64xbf16>,
                     %v: tensor<1x2x?x64xbf16>, %o: tensor<1x8x64xf32>) -> tensor<1x8x64xf32> {
  %r = magicpig.attention scale(0.125) causal
         ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %r : tensor<1x8x64xf32>
}

// -----

// A tensor.empty init becomes a fresh buffer; the runtime window_start
// operand is kept as it is.
// CHECK-LABEL: func.func @window_attention
// CHECK-SAME: %[[WS:[a-zA-Z0-9]+]]: index
// CHECK: %[[O:.+]] = memref.alloc() {{.*}} : memref<1x4x64xf32>
// CHECK: %[[L:.+]] = memref.alloc() {{.*}} : memref<1x4xf32>
// CHECK: magicpig.window_attention sink(4) window_start(%[[WS]]) scale(1.250000e-01) ins({{.*}}) outs(%[[O]], %[[L]] : memref<1x4x64xf32>, memref<1x4xf32>)
// CHECK: return %[[O]], %[[L]]
func.func @window_attention(%q: tensor<1x4x64xf32>, %k: tensor<1x2x?x64xf16>,
                            %v: tensor<1x2x?x64xf16>, %ws: index)
    -> (tensor<1x4x64xf32>, tensor<1x4xf32>) {
  %o = tensor.empty() : tensor<1x4x64xf32>
  %l = tensor.empty() : tensor<1x4xf32>
  %r:2 = magicpig.window_attention sink(4) window_start(%ws) scale(0.125)
           ins(%q, %k, %v : tensor<1x4x64xf32>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>)
           outs(%o, %l : tensor<1x4x64xf32>, tensor<1x4xf32>)
           -> tensor<1x4x64xf32>, tensor<1x4xf32>
  return %r#0, %r#1 : tensor<1x4x64xf32>, tensor<1x4xf32>
}

// -----

// An `outs` tensor still read afterwards is copied first, so the op writes
// a buffer of its own.
// CHECK-LABEL: func.func @outs_still_used
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x2x16x8xf32>, %[[N:[a-zA-Z0-9]+]]: memref<1x2x16xf32>
// CHECK: %[[NEW:.+]] = memref.alloc() {{.*}} : memref<1x2x16xf32>
// CHECK: memref.copy %[[N]], %[[NEW]]
// CHECK: magicpig.key_norms ins(%[[K]] : memref<1x2x16x8xf32>) outs(%[[NEW]] : memref<1x2x16xf32>)
// CHECK: return %[[NEW]], %[[N]]
func.func @outs_still_used(%k: tensor<1x2x16x8xf32>, %n: tensor<1x2x16xf32>)
    -> (tensor<1x2x16xf32>, tensor<1x2x16xf32>) {
  %r = magicpig.key_norms ins(%k : tensor<1x2x16x8xf32>)
         outs(%n : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  return %r, %n : tensor<1x2x16xf32>, tensor<1x2x16xf32>
}

// -----

// The remaining ops: each becomes its memref form in place.
// CHECK-LABEL: func.func @all_other_ops
// CHECK-NOT: tensor<
// CHECK: magicpig.center_keys sink(4) window(8) ins(%{{.+}} : memref<1x2x?x64xbf16>) outs(%{{.+}}, %{{.+}} : memref<1x2x?x64xbf16>, memref<1x2x64xf32>)
// CHECK: magicpig.simhash bits(10) tables(150) ins({{.*}} : memref<1x2x?x64xbf16>, memref<64x1500xf32>) outs(%{{.+}} : memref<1x2x?x150xi16>)
// CHECK: magicpig.build_tables bits(10) sink(4) window(8) ins(%{{.+}} : memref<1x2x?x150xi16>) outs({{.*}} : memref<1x2x150x1025xi32>, memref<1x2x150x?xi32>)
// CHECK: magicpig.retrieve bits(10) min_collisions(2) ins({{.*}}) outs({{.*}} : memref<1x4x256xi32>, memref<1x4xi32>)
// CHECK: magicpig.estimate bits(10) tables(150) min_collisions(2) scale(1.250000e-01) ins({{.*}}) outs({{.*}} : memref<1x4x64xf32>, memref<1x4xf32>)
// CHECK: magicpig.merge ins({{.*}}) outs({{.*}} : memref<1x4x64xf32>, memref<1x4xf32>)
// CHECK-NOT: tensor<
func.func @all_other_ops(%k: tensor<1x2x?x64xbf16>, %kc: tensor<1x2x?x64xbf16>,
                         %m: tensor<1x2x64xf32>, %p: tensor<64x1500xf32>,
                         %codes: tensor<1x2x?x150xi16>, %off: tensor<1x2x150x1025xi32>,
                         %idx: tensor<1x2x150x?xi32>, %qc: tensor<1x4x150xi16>,
                         %cand: tensor<1x4x256xi32>, %cnt: tensor<1x4xi32>,
                         %q: tensor<1x4x64xf32>, %v: tensor<1x2x?x64xbf16>,
                         %n: tensor<1x2x?xf32>, %o: tensor<1x4x64xf32>,
                         %l: tensor<1x4xf32>, %o2: tensor<1x4x64xf32>,
                         %l2: tensor<1x4xf32>, %o3: tensor<1x4x64xf32>,
                         %l3: tensor<1x4xf32>)
    -> (tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x150x1025xi32>,
        tensor<1x2x150x?xi32>, tensor<1x4x64xf32>, tensor<1x4xf32>) {
  %c:2 = magicpig.center_keys sink(4) window(8)
           ins(%k : tensor<1x2x?x64xbf16>)
           outs(%kc, %m : tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>)
           -> tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>
  %h = magicpig.simhash bits(10) tables(150)
         ins(%c#0, %p : tensor<1x2x?x64xbf16>, tensor<64x1500xf32>)
         outs(%codes : tensor<1x2x?x150xi16>) -> tensor<1x2x?x150xi16>
  %t:2 = magicpig.build_tables bits(10) sink(4) window(8)
           ins(%h : tensor<1x2x?x150xi16>)
           outs(%off, %idx : tensor<1x2x150x1025xi32>, tensor<1x2x150x?xi32>)
           -> tensor<1x2x150x1025xi32>, tensor<1x2x150x?xi32>
  %r:2 = magicpig.retrieve bits(10) min_collisions(2)
           ins(%qc, %t#0, %t#1 : tensor<1x4x150xi16>, tensor<1x2x150x1025xi32>, tensor<1x2x150x?xi32>)
           outs(%cand, %cnt : tensor<1x4x256xi32>, tensor<1x4xi32>)
           -> tensor<1x4x256xi32>, tensor<1x4xi32>
  %e:2 = magicpig.estimate bits(10) tables(150) min_collisions(2) scale(0.125)
           ins(%q, %c#0, %v, %n, %c#1, %r#0, %r#1 : tensor<1x4x64xf32>, tensor<1x2x?x64xbf16>,
               tensor<1x2x?x64xbf16>, tensor<1x2x?xf32>, tensor<1x2x64xf32>, tensor<1x4x256xi32>, tensor<1x4xi32>)
           outs(%o, %l : tensor<1x4x64xf32>, tensor<1x4xf32>)
           -> tensor<1x4x64xf32>, tensor<1x4xf32>
  %g:2 = magicpig.merge
           ins(%e#0, %e#1, %o2, %l2 : tensor<1x4x64xf32>, tensor<1x4xf32>, tensor<1x4x64xf32>, tensor<1x4xf32>)
           outs(%o3, %l3 : tensor<1x4x64xf32>, tensor<1x4xf32>)
           -> tensor<1x4x64xf32>, tensor<1x4xf32>
  return %c#0, %c#1, %t#0, %t#1, %g#0, %g#1
      : tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>, tensor<1x2x150x1025xi32>,
        tensor<1x2x150x?xi32>, tensor<1x4x64xf32>, tensor<1x4xf32>
}
