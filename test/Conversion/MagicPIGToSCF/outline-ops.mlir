// RUN: magicpig-opt %s --magicpig-outline-ops --split-input-file | FileCheck %s
// RUN: magicpig-opt %s --magicpig-outline-ops --one-shot-bufferize="bufferize-function-boundaries" --convert-magicpig-to-scf --split-input-file | FileCheck %s --check-prefix=LOWERED

// Two merges and two window attentions with the same attributes and operand
// types become calls of one function each; the window attention with
// another scale and the single estimate stay in place, as does the op in
// tensor form.
// CHECK-LABEL: func.func @layers(
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: memref<1x4x16xf32>, %[[K:[a-z0-9]+]]: memref<1x2x?x16xf32>,
// CHECK:         call @__magicpig_outlined_magicpig_window_attention_0(%[[Q]], %[[K]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<1x4x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>, index, memref<1x4x16xf32>, memref<1x4xf32>) -> ()
// CHECK:         call @__magicpig_outlined_magicpig_merge_0(
// CHECK:         call @__magicpig_outlined_magicpig_window_attention_0(
// CHECK:         call @__magicpig_outlined_magicpig_merge_0(
// CHECK:         magicpig.window_attention sink(4) window_start(%{{.+}}) scale(5.000000e-01)
// CHECK:         magicpig.attention
// CHECK-SAME:      tensor<1x4x1x16xf32>
// CHECK-LABEL: func.func private @__magicpig_outlined_magicpig_window_attention_0(
// CHECK-SAME:    %[[A0:[a-z0-9]+]]: memref<1x4x16xf32>, %[[A1:[a-z0-9]+]]: memref<1x2x?x16xf32>, %[[A2:[a-z0-9]+]]: memref<1x2x?x16xf32>, %[[A3:[a-z0-9]+]]: index, %[[A4:[a-z0-9]+]]: memref<1x4x16xf32>, %[[A5:[a-z0-9]+]]: memref<1x4xf32>)
// CHECK-NEXT:    magicpig.window_attention sink(4) window_start(%[[A3]]) scale(2.500000e-01) ins(%[[A0]], %[[A1]], %[[A2]] : {{.+}}) outs(%[[A4]], %[[A5]] : {{.+}})
// CHECK-NEXT:    return
// CHECK-LABEL: func.func private @__magicpig_outlined_magicpig_merge_0(
// CHECK-NEXT:    magicpig.merge
// CHECK-NEXT:    return
// CHECK-NOT:   func.func private @__magicpig_outlined_magicpig

// The functions' bodies are lowered like any op.
// LOWERED-LABEL: func.func private @__magicpig_outlined_magicpig_window_attention_0(
// LOWERED-NOT:     magicpig.window_attention {{.*}}ins
// LOWERED:         scf.parallel
func.func @layers(%q: memref<1x4x16xf32>, %k: memref<1x2x?x16xf32>, %v: memref<1x2x?x16xf32>,
                  %start: index, %o1: memref<1x4x16xf32>, %l1: memref<1x4xf32>,
                  %o2: memref<1x4x16xf32>, %l2: memref<1x4xf32>,
                  %o3: memref<1x4x16xf32>, %l3: memref<1x4xf32>,
                  %tq: tensor<1x4x1x16xf32>, %tk: tensor<1x2x8x16xf32>) -> tensor<1x4x1x16xf32> {
  magicpig.window_attention sink(4) window_start(%start) scale(0.25) ins(%q, %k, %v : memref<1x4x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>) outs(%o1, %l1 : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.merge ins(%o1, %l1, %o2, %l2 : memref<1x4x16xf32>, memref<1x4xf32>, memref<1x4x16xf32>, memref<1x4xf32>) outs(%o3, %l3 : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.window_attention sink(4) window_start(%start) scale(0.25) ins(%q, %k, %v : memref<1x4x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>) outs(%o2, %l2 : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.merge ins(%o2, %l2, %o1, %l1 : memref<1x4x16xf32>, memref<1x4xf32>, memref<1x4x16xf32>, memref<1x4xf32>) outs(%o3, %l3 : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.window_attention sink(4) window_start(%start) scale(0.5) ins(%q, %k, %v : memref<1x4x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>) outs(%o1, %l1 : memref<1x4x16xf32>, memref<1x4xf32>)
  %init = tensor.empty() : tensor<1x4x1x16xf32>
  %a = magicpig.attention scale(0.25) ins(%tq, %tk, %tk : tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %b = magicpig.attention scale(0.25) ins(%tq, %tk, %tk : tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%a : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %b : tensor<1x4x1x16xf32>
}

// -----

#id = affine_map<(i, j) -> (i, j)>

// linalg ops on buffers: two generics with the same body (reading the same
// constant from above) share a function that clones the constant; a
// generic whose constant differs gets its own group (here of one: left in
// place); the fills' scalar constant operand is cloned, not passed; a
// generic reading a non-constant value from above stays in place.
// CHECK-LABEL: func.func @glue(
// CHECK-SAME:    %[[A:[a-z0-9]+]]: memref<4x?xf32>, %[[B:[a-z0-9]+]]: memref<4x?xf32>, %[[C:[a-z0-9]+]]: memref<4x?xf32>, %[[D:[a-z0-9]+]]: memref<4x?xf32>, %[[S:[a-z0-9]+]]: f32)
// CHECK:         call @__magicpig_outlined_linalg_generic_0(%[[A]], %[[B]]) : (memref<4x?xf32>, memref<4x?xf32>) -> ()
// CHECK:         call @__magicpig_outlined_linalg_generic_0(%[[C]], %[[D]])
// CHECK:         linalg.generic
// CHECK:           arith.constant 3.0
// CHECK:         call @__magicpig_outlined_linalg_fill_0(%[[A]]) : (memref<4x?xf32>) -> ()
// CHECK:         call @__magicpig_outlined_linalg_fill_0(%[[B]])
// CHECK:         linalg.generic
// CHECK:           arith.mulf %{{.+}}, %[[S]]
// CHECK:         linalg.generic
// CHECK:           arith.mulf %{{.+}}, %[[S]]
// CHECK-LABEL: func.func private @__magicpig_outlined_linalg_generic_0(
// CHECK-NEXT:    %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:    linalg.generic
// CHECK:           arith.mulf %{{.+}}, %[[TWO]]
// CHECK-LABEL: func.func private @__magicpig_outlined_linalg_fill_0(
// CHECK-NEXT:    %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    linalg.fill ins(%[[ZERO]] : f32)
func.func @glue(%a: memref<4x?xf32>, %b: memref<4x?xf32>, %c: memref<4x?xf32>, %d: memref<4x?xf32>, %s: f32) {
  %two = arith.constant 2.0 : f32
  %two_again = arith.constant 2.0 : f32
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x?xf32>) outs(%b : memref<4x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = arith.mulf %in, %two : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x?xf32>) outs(%d : memref<4x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = arith.mulf %in, %two_again : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x?xf32>) outs(%d : memref<4x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %three = arith.constant 3.0 : f32
    %e = arith.mulf %in, %three : f32
    linalg.yield %e : f32
  }
  linalg.fill ins(%zero : f32) outs(%a : memref<4x?xf32>)
  linalg.fill ins(%zero : f32) outs(%b : memref<4x?xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x?xf32>) outs(%b : memref<4x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = arith.mulf %in, %s : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x?xf32>) outs(%d : memref<4x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = arith.mulf %in, %s : f32
    linalg.yield %e : f32
  }
  return
}
