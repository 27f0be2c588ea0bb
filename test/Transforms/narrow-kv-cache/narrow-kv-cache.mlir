// RUN: magicpig-opt %s --magicpig-narrow-kv-cache --split-input-file | FileCheck %s
// RUN: magicpig-opt %s --magicpig-narrow-kv-cache=kv-type=f16 --split-input-file | FileCheck %s --check-prefix=F16
// RUN: magicpig-opt %s --magicpig-narrow-kv-cache=kv-type=f32 --split-input-file | FileCheck %s --check-prefix=F32
// RUN: not magicpig-opt %s --magicpig-narrow-kv-cache=kv-type=i8 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: magicpig-narrow-kv-cache: kv-type must be f32, bf16 or f16, got 'i8'

// A stacked cache sliced per layer and read as the key and value of a
// window attention and an estimate: the arguments, the slices and the
// collapsed views take the narrow type; the query, the key norms and mean,
// the outputs and the function's results do not change.
// CHECK-LABEL: func.func @decode(
// CHECK-SAME:    %{{.+}}: tensor<1x4x16xf32>,
// CHECK-SAME:    %[[KC:[a-z0-9_]+]]: tensor<2x1x2x?x16xbf16>,
// CHECK-SAME:    %[[VC:[a-z0-9_]+]]: tensor<2x1x2x?x16xbf16>,
// CHECK-SAME:    %{{.+}}: tensor<1x2x?xf32>, %{{.+}}: tensor<1x2x16xf32>
// CHECK-SAME:    -> (tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<1x4x16xf32>)
// CHECK:         tensor.dim %[[KC]], %{{.+}} : tensor<2x1x2x?x16xbf16>
// CHECK:         tensor.extract_slice %[[KC]]{{.*}} : tensor<2x1x2x?x16xbf16> to tensor<1x1x2x?x16xbf16>
// CHECK:         tensor.collapse_shape {{.*}} : tensor<1x1x2x?x16xbf16> into tensor<1x2x?x16xbf16>
// CHECK:         tensor.extract_slice %[[VC]]{{.*}} : tensor<2x1x2x?x16xbf16> to tensor<1x1x2x?x16xbf16>
// CHECK:         magicpig.window_attention {{.*}} : tensor<1x4x16xf32>, tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>)
// CHECK-SAME:      outs({{.*}} : tensor<1x4x16xf32>, tensor<1x4xf32>)
// CHECK:         magicpig.estimate {{.*}} : tensor<1x4x16xf32>, tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>, tensor<1x2x?xf32>, tensor<1x2x16xf32>
// F16-LABEL: func.func @decode(
// F16-SAME:    tensor<2x1x2x?x16xf16>, %{{.+}}: tensor<2x1x2x?x16xf16>,
// F16:         magicpig.estimate {{.*}} tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16>
// F32-LABEL: func.func @decode(
// F32-NOT:     bf16
// F32-NOT:     f16
// F32:         return
func.func @decode(%q: tensor<1x4x16xf32>, %kc: tensor<2x1x2x?x16xf32>,
                  %vc: tensor<2x1x2x?x16xf32>, %norms: tensor<1x2x?xf32>,
                  %mean: tensor<1x2x16xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>)
    -> (tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<1x4x16xf32>) {
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
  %e:2 = magicpig.estimate bits(4) tables(8) min_collisions(2) scale(0.25) ins(%q, %k, %v, %norms, %mean, %cand, %cnt : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?xf32>, tensor<1x2x16xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %r#0, %r#1, %e#0 : tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<1x4x16xf32>
}

// -----

// Kept in f32: a cache also read by a linalg op, a dynamic tensor read by an
// estimate as its key norms (not a key or value), one read both as a key
// and as something else, a static-shaped value, and a private function's
// argument (its callers are in the module).
// CHECK-LABEL: func.func @kept(
// CHECK-NOT:     bf16
// CHECK:         return
func.func @kept(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x8x16xf32>,
                %ks: tensor<1x2x8x16xf32>, %norms: tensor<1x2x?xf32>,
                %mean: tensor<1x2x16xf32>, %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>)
    -> (tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x4x16xf32>) {
  %c0 = arith.constant 0 : index
  %o = tensor.empty() : tensor<1x4x16xf32>
  %l = tensor.empty() : tensor<1x4xf32>
  %r:2 = magicpig.window_attention sink(0) window_start(%c0) scale(0.25) ins(%q, %k, %k : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  %neg = linalg.negf ins(%k : tensor<1x2x?x16xf32>) outs(%k : tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %e:2 = magicpig.estimate bits(4) tables(8) min_collisions(2) scale(0.25) ins(%q, %ks, %v, %norms, %mean, %cand, %cnt : tensor<1x4x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x?xf32>, tensor<1x2x16xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %r#0, %neg, %e#0 : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x4x16xf32>
}

// CHECK-LABEL: func.func private @private_cache(
// CHECK-NOT:     bf16
func.func private @private_cache(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32> {
  %o = tensor.empty() : tensor<1x4x1x16xf32>
  %q4 = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [1, 4, 1, 16] : tensor<1x4x16xf32> into tensor<1x4x1x16xf32>
  %a = magicpig.attention scale(0.25) ins(%q4, %k, %k : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %c = tensor.collapse_shape %a [[0], [1], [2, 3]] : tensor<1x4x1x16xf32> into tensor<1x4x16xf32>
  return %c : tensor<1x4x16xf32>
}

// -----

// A dynamic tensor read as a key and also as the norms of an estimate: the
// norms must stay f32, so the tensor is kept.
// CHECK-LABEL: func.func @key_and_norms(
// CHECK-NOT:     bf16
// CHECK:         return
func.func @key_and_norms(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>, %vs: tensor<1x2x8x16xf32>,
                         %ks: tensor<1x2x8x16xf32>, %mean: tensor<1x2x16xf32>,
                         %cand: tensor<1x4x8xi32>, %cnt: tensor<1x4xi32>) -> tensor<1x4x16xf32> {
  %c0 = arith.constant 0 : index
  %o = tensor.empty() : tensor<1x4x16xf32>
  %l = tensor.empty() : tensor<1x4xf32>
  %r:2 = magicpig.window_attention sink(0) window_start(%c0) scale(0.25) ins(%q, %k, %k : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  %norms = tensor.collapse_shape %k [[0], [1], [2, 3]] : tensor<1x2x?x16xf32> into tensor<1x2x?xf32>
  %e:2 = magicpig.estimate bits(4) tables(8) min_collisions(2) scale(0.25) ins(%q, %ks, %vs, %norms, %mean, %cand, %cnt : tensor<1x4x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x?xf32>, tensor<1x2x16xf32>, tensor<1x4x8xi32>, tensor<1x4xi32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %e#0 : tensor<1x4x16xf32>
}
