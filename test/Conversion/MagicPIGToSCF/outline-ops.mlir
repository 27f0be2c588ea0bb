// RUN: magicpig-opt %s --magicpig-outline-ops | FileCheck %s
// RUN: magicpig-opt %s --magicpig-outline-ops --one-shot-bufferize="bufferize-function-boundaries" --convert-magicpig-to-scf | FileCheck %s --check-prefix=LOWERED

// Two merges and two window attentions with the same attributes and operand
// types become calls of one function each; the window attention with
// another scale and the single estimate stay in place, as does the op in
// tensor form.
// CHECK-LABEL: func.func @layers(
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: memref<1x4x16xf32>, %[[K:[a-z0-9]+]]: memref<1x2x?x16xf32>,
// CHECK:         call @__magicpig_window_attention_0(%[[Q]], %[[K]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<1x4x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>, index, memref<1x4x16xf32>, memref<1x4xf32>) -> ()
// CHECK:         call @__magicpig_merge_0(
// CHECK:         call @__magicpig_window_attention_0(
// CHECK:         call @__magicpig_merge_0(
// CHECK:         magicpig.window_attention sink(4) window_start(%{{.+}}) scale(5.000000e-01)
// CHECK:         magicpig.attention
// CHECK-SAME:      tensor<1x4x1x16xf32>
// CHECK-LABEL: func.func private @__magicpig_window_attention_0(
// CHECK-SAME:    %[[A0:[a-z0-9]+]]: memref<1x4x16xf32>, %[[A1:[a-z0-9]+]]: memref<1x2x?x16xf32>, %[[A2:[a-z0-9]+]]: memref<1x2x?x16xf32>, %[[A3:[a-z0-9]+]]: index, %[[A4:[a-z0-9]+]]: memref<1x4x16xf32>, %[[A5:[a-z0-9]+]]: memref<1x4xf32>)
// CHECK-NEXT:    magicpig.window_attention sink(4) window_start(%[[A3]]) scale(2.500000e-01) ins(%[[A0]], %[[A1]], %[[A2]] : {{.+}}) outs(%[[A4]], %[[A5]] : {{.+}})
// CHECK-NEXT:    return
// CHECK-LABEL: func.func private @__magicpig_merge_0(
// CHECK-NEXT:    magicpig.merge
// CHECK-NEXT:    return
// CHECK-NOT:   func.func private

// The functions' bodies are lowered like any op.
// LOWERED-LABEL: func.func private @__magicpig_window_attention_0(
// LOWERED-NOT:     magicpig.window_attention
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
