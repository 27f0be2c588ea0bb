// RUN: magicpig-opt %s --magicpig-sparsify="lsh-bits=2 lsh-tables=3 min-collisions=2 sink-tokens=1 window-tokens=2 seed=7" | FileCheck %s

// A decode step that appends its new key/value row to the cache (the form
// torch.cat exports): the estimate and the window attention read the cache
// in place, the appended row is attended apart, and two merges combine the
// three parts; the concatenations, which would copy the cache, are erased.

// CHECK-LABEL: func.func @decode
//  CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x4x8xf32>, %[[KC:[a-z0-9]+]]: tensor<1x2x?x8xbf16>, %[[KN:[a-z0-9]+]]: tensor<1x2x1x8xbf16>,
//  CHECK-SAME:  %[[VC:[a-z0-9]+]]: tensor<1x2x?x8xbf16>, %[[VN:[a-z0-9]+]]: tensor<1x2x1x8xbf16>,
//   CHECK-NOT:   tensor.concat
//       CHECK:   %[[RET:.+]]:2 = magicpig.retrieve
//       CHECK:   %[[EST:.+]]:2 = magicpig.estimate {{.*}} ins(%[[Q]], %[[KC]], %[[VC]], %{{.+}}, %{{.+}}, %[[RET]]#0, %[[RET]]#1 :
//       CHECK:   %[[WIN:.+]]:2 = magicpig.window_attention sink(1) window_start(%{{.+}}) scale(3.500000e-01) ins(%[[Q]], %[[KC]], %[[VC]] :
//       CHECK:   %[[CACHE:.+]]:2 = magicpig.merge ins(%[[EST]]#0, %[[EST]]#1, %[[WIN]]#0, %[[WIN]]#1 : {{.*}}) -> tensor<1x4x8xf32>, tensor<1x4xf32>
//       CHECK:   %[[NEW:.+]]:2 = magicpig.window_attention sink(0) window_start(%{{.+}}) scale(3.500000e-01) ins(%[[Q]], %[[KN]], %[[VN]] :
//       CHECK:   %[[ALL:.+]]:2 = magicpig.merge ins(%[[CACHE]]#0, %[[CACHE]]#1, %[[NEW]]#0, %[[NEW]]#1 : {{.*}}) -> tensor<1x4x8xf32>, tensor<1x4xf32>
//       CHECK:   return %[[ALL]]#0 :
//   CHECK-NOT:   tensor.concat
func.func @decode(%q: tensor<1x4x8xf32>, %kc: tensor<1x2x?x8xbf16>, %kn: tensor<1x2x1x8xbf16>,
                  %vc: tensor<1x2x?x8xbf16>, %vn: tensor<1x2x1x8xbf16>) -> tensor<1x4x8xf32> {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<1x2x?x8xbf16>, tensor<1x2x1x8xbf16>) -> tensor<1x2x?x8xbf16>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<1x2x?x8xbf16>, tensor<1x2x1x8xbf16>) -> tensor<1x2x?x8xbf16>
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r = magicpig.attention scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x?x8xbf16>, tensor<1x2x?x8xbf16>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}
