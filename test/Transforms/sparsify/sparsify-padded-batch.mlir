// RUN: magicpig-opt %s -split-input-file --magicpig-sparsify="lsh-bits=2 lsh-tables=3 min-collisions=2 sink-tokens=1 window-tokens=2 seed=7" -verify-diagnostics | FileCheck %s

// A decode step of a padded batch (`lengths`): each sequence's prefill had
// its own length and the index buffers are padded to the longest, so the
// window of sequence b starts at sink + the count of tokens its prefill
// hashed (the last offset of its first table), and its cache keys end at
// its length. The estimate reads only indexed rows; the appended row is
// every sequence's own, attended without lengths.

// CHECK-LABEL: func.func @decode
//  CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[KC:[a-z0-9]+]]: tensor<?x2x?x8xf32>, %[[KN:[a-z0-9]+]]: tensor<?x2x1x8xf32>,
//  CHECK-SAME:  %[[VC:[a-z0-9]+]]: tensor<?x2x?x8xf32>, %[[VN:[a-z0-9]+]]: tensor<?x2x1x8xf32>, %[[LEN:[a-z0-9]+]]: tensor<?xi64>,
//  CHECK-SAME:  %[[OFF:[a-z0-9]+]]: tensor<?x2x3x5xi32> {magicpig.layer = 0 : i64}
//       CHECK:   magicpig.estimate {{.*}} ins(%[[Q]], %[[KC]], %[[VC]],
//       CHECK:   %[[COUNT:.+]] = tensor.extract_slice %[[OFF]][0, 0, 0, 4] [%{{.+}}, 1, 1, 1] [1, 1, 1, 1] : tensor<?x2x3x5xi32> to tensor<?xi32>
//       CHECK:   %[[STARTS:.+]] = linalg.generic {{.*}} ins(%[[COUNT]] : tensor<?xi32>)
//       CHECK:     arith.extsi
//       CHECK:     arith.addi
//       CHECK:   magicpig.window_attention sink(1) window_start(%{{.+}}) lengths(%[[LEN]] : tensor<?xi64>) starts(%[[STARTS]] : tensor<?xi64>) scale(3.500000e-01) ins(%[[Q]], %[[KC]], %[[VC]] :
//       CHECK:   magicpig.window_attention sink(0) window_start(%{{.+}}) scale(3.500000e-01) ins(%[[Q]], %[[KN]], %[[VN]] :
func.func @decode(%q: tensor<?x4x8xf32>, %kc: tensor<?x2x?x8xf32>, %kn: tensor<?x2x1x8xf32>,
                  %vc: tensor<?x2x?x8xf32>, %vn: tensor<?x2x1x8xf32>, %len: tensor<?xi64>) -> tensor<?x4x8xf32> {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<?x2x?x8xf32>, tensor<?x2x1x8xf32>) -> tensor<?x2x?x8xf32>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<?x2x?x8xf32>, tensor<?x2x1x8xf32>) -> tensor<?x2x?x8xf32>
  %c0 = arith.constant 0 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x8xf32>
  %o = tensor.empty(%b) : tensor<?x4x8xf32>
  %r = magicpig.attention scale(0.35) lengths(%len : tensor<?xi64>) ins(%q, %k, %v : tensor<?x4x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) outs(%o : tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %r : tensor<?x4x8xf32>
}

// -----

// Without the split into cache and appended rows the padding cannot be
// told from the step's own key.
func.func @whole_cache(%q: tensor<2x4x8xf32>, %k: tensor<2x2x9x8xf32>, %len: tensor<2xi64>) -> tensor<2x4x8xf32> {
  %o = tensor.empty() : tensor<2x4x8xf32>
  // expected-error @+1 {{magicpig-sparsify: a decode attention with 'lengths' must read its keys and values as tensor.concat(cache, appended rows)}}
  %r = magicpig.attention scale(0.35) lengths(%len : tensor<2xi64>) ins(%q, %k, %k : tensor<2x4x8xf32>, tensor<2x2x9x8xf32>, tensor<2x2x9x8xf32>) outs(%o : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %r : tensor<2x4x8xf32>
}
