// RUN: magicpig-opt %s --magicpig-strided-kv-arguments --split-input-file | FileCheck %s
// RUN: magicpig-opt %s --magicpig-strided-kv-arguments --split-input-file \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN: | FileCheck %s --check-prefix=BUF

// A stacked cache sliced per layer and read by attention as key and value:
// both arguments accept strided views (innermost stride 1); the query and
// the output do not change. After bufferization the arguments are strided
// memrefs, viewed in place (no copy of the cache).
// CHECK-LABEL: func.func @decode(
// CHECK-SAME:    %{{.+}}: tensor<1x4x16xf32>,
// CHECK-SAME:    %{{.+}}: tensor<2x1x2x?x16xf32> {bufferization.buffer_layout = strided<[?, ?, ?, ?, 1], offset: ?>},
// CHECK-SAME:    %{{.+}}: tensor<2x1x2x?x16xf32> {bufferization.buffer_layout = strided<[?, ?, ?, ?, 1], offset: ?>})
// BUF-LABEL: func.func @decode(
// BUF-SAME:    memref<2x1x2x?x16xf32, strided<[?, ?, ?, ?, 1], offset: ?>>
// BUF-NOT:     memref.copy
// BUF:         magicpig.window_attention
// BUF-SAME:      memref<1x2x?x16xf32, strided<[?, ?, ?, 1], offset: ?>>
func.func @decode(%q: tensor<1x4x16xf32>, %kc: tensor<2x1x2x?x16xf32>,
                  %vc: tensor<2x1x2x?x16xf32>) -> (tensor<1x4x16xf32>, tensor<1x4xf32>) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %kc, %c3 : tensor<2x1x2x?x16xf32>
  %ks = tensor.extract_slice %kc[1, 0, 0, 0, 0] [1, 1, 2, %n, 16] [1, 1, 1, 1, 1] : tensor<2x1x2x?x16xf32> to tensor<1x1x2x?x16xf32>
  %k = tensor.collapse_shape %ks [[0, 1], [2], [3], [4]] : tensor<1x1x2x?x16xf32> into tensor<1x2x?x16xf32>
  %vs = tensor.extract_slice %vc[1, 0, 0, 0, 0] [1, 1, 2, %n, 16] [1, 1, 1, 1, 1] : tensor<2x1x2x?x16xf32> to tensor<1x1x2x?x16xf32>
  %v = tensor.collapse_shape %vs [[0, 1], [2], [3], [4]] : tensor<1x1x2x?x16xf32> into tensor<1x2x?x16xf32>
  %o = tensor.empty() : tensor<1x4x16xf32>
  %l = tensor.empty() : tensor<1x4xf32>
  %r:2 = magicpig.window_attention sink(0) window_start(%c0) scale(0.25) ins(%q, %k, %v : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %r#0, %r#1 : tensor<1x4x16xf32>, tensor<1x4xf32>
}

// -----

// Not marked: a cache also read by a linalg op (not only magicpig inputs),
// a static-shaped key, a dynamic tensor that reaches a magicpig op only as
// something other than a key or value (the key norms), and a private
// function's argument (its callers are in the module, not outside).
// CHECK-LABEL: func.func @not_marked(
// CHECK-NOT:     bufferization.buffer_layout
// CHECK:         return
func.func @not_marked(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x8x16xf32>,
                      %vs: tensor<1x2x8x16xf32>, %ks: tensor<1x2x8x16xf32>, %norms: tensor<1x2x?xf32>,
                      %mean: tensor<1x2x16xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>)
    -> (tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x4x16xf32>) {
  %c0 = arith.constant 0 : index
  %o = tensor.empty() : tensor<1x4x16xf32>
  %l = tensor.empty() : tensor<1x4xf32>
  %r:2 = magicpig.window_attention sink(0) window_start(%c0) scale(0.25) ins(%q, %k, %k : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  %neg = linalg.negf ins(%k : tensor<1x2x?x16xf32>) outs(%k : tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %e:2 = magicpig.estimate bits(4) tables(8) min_collisions(2) scale(0.25) ins(%q, %ks, %vs, %norms, %mean, %cand, %cnt : tensor<1x4x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x?xf32>, tensor<1x2x16xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %r#0, %neg, %e#0 : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x4x16xf32>
}

// CHECK-LABEL: func.func private @private_cache(
// CHECK-NOT:     bufferization.buffer_layout
func.func private @private_cache(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32> {
  %o = tensor.empty() : tensor<1x4x1x16xf32>
  %q4 = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [1, 4, 1, 16] : tensor<1x4x16xf32> into tensor<1x4x1x16xf32>
  %a = magicpig.attention scale(0.25) ins(%q4, %k, %k : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %c = tensor.collapse_shape %a [[0], [1], [2, 3]] : tensor<1x4x1x16xf32> into tensor<1x4x16xf32>
  return %c : tensor<1x4x16xf32>
}
