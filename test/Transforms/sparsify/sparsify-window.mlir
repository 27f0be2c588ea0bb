// RUN: magicpig-opt %s -verify-diagnostics --magicpig-sparsify="dense-layers=-1" | FileCheck %s

// A model mixing sliding-window layers and global ones (Gemma 3): the
// windowed layers stay exact attention (a remark says so), only the global
// layer is sampled, and its index is the only one threaded (layer 1's).

// CHECK-LABEL: func.func @decode_mixed
//  CHECK-SAME: {magicpig.layer = 1 : i64}
//   CHECK-NOT: {magicpig.layer = 0 : i64}
//   CHECK-NOT: {magicpig.layer = 2 : i64}
//       CHECK: magicpig.attention scale(2.500000e-01) window(4) ins(
//       CHECK: magicpig.estimate
//       CHECK: magicpig.merge
//       CHECK: magicpig.attention scale(2.500000e-01) window(4) ins(
//   CHECK-NOT: magicpig.estimate
func.func @decode_mixed(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  // expected-remark @+1 {{magicpig-sparsify: layer 0 keeps exact attention: it attends to a sliding window of 4 keys}}
  %r0 = magicpig.attention scale(0.25) window(4) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %r1 = magicpig.attention scale(0.25) ins(%r0, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  // expected-remark @+1 {{magicpig-sparsify: layer 2 keeps exact attention: it attends to a sliding window of 4 keys}}
  %r2 = magicpig.attention scale(0.25) window(4) ins(%r1, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r2 : tensor<1x4x8xf32>
}

// The prefill of the same model builds the index of the global layer only.
// CHECK-LABEL: func.func @prefill_mixed
//  CHECK-SAME: -> (tensor<1x4x16x8xf32>, tensor<1x2x150x1025xi32> {magicpig.layer = 1 : i64}
//       CHECK: magicpig.attention scale(2.500000e-01) causal window(4) ins(
//       CHECK: magicpig.attention scale(2.500000e-01) causal ins(
//       CHECK: magicpig.build_tables
//       CHECK: magicpig.attention scale(2.500000e-01) causal window(4) ins(
//   CHECK-NOT: magicpig.build_tables
func.func @prefill_mixed(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = tensor.empty() : tensor<1x4x16x8xf32>
  // expected-remark @+1 {{magicpig-sparsify: layer 0 keeps exact attention}}
  %r0 = magicpig.attention scale(0.25) causal window(4) ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  %r1 = magicpig.attention scale(0.25) causal ins(%r0, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  // expected-remark @+1 {{magicpig-sparsify: layer 2 keeps exact attention}}
  %r2 = magicpig.attention scale(0.25) causal window(4) ins(%r1, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %r2 : tensor<1x4x16x8xf32>
}
