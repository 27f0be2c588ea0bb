// RUN: magicpig-opt %s --magicpig-split-appended-kv --split-input-file | FileCheck %s

// Decode attention over concat(cache, new row): exact attention with lse
// over the cache and over the new row, merged; the concats are gone.
// CHECK-LABEL: func.func @decode(
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<1x4x1x16xf32>, %[[KC:[a-z0-9]+]]: tensor<1x2x?x16xf32>, %[[KN:[a-z0-9]+]]: tensor<1x2x1x16xf32>,
// CHECK-SAME:    %[[VC:[a-z0-9]+]]: tensor<1x2x?x16xf32>, %[[VN:[a-z0-9]+]]: tensor<1x2x1x16xf32>)
// CHECK-NOT:     tensor.concat
// CHECK:         %[[QC:.+]] = tensor.collapse_shape %[[Q]] {{\[}}[0], [1], [2, 3]]
// CHECK:         %[[C0:.+]] = arith.constant 0 : index
// CHECK:         %[[CACHE:.+]]:2 = magicpig.window_attention sink(0) window_start(%[[C0]]) scale(2.500000e-01) ins(%[[QC]], %[[KC]], %[[VC]] :
// CHECK:         %[[NEW:.+]]:2 = magicpig.window_attention sink(0) window_start(%{{.+}}) scale(2.500000e-01) ins(%[[QC]], %[[KN]], %[[VN]] :
// CHECK:         %[[M:.+]]:2 = magicpig.merge ins(%[[CACHE]]#0, %[[CACHE]]#1, %[[NEW]]#0, %[[NEW]]#1 : {{.*}}) outs({{.*}}) -> tensor<1x4x16xf32>, tensor<1x4xf32>
// CHECK:         %[[OUT:.+]] = tensor.expand_shape %[[M]]#0 {{\[}}[0], [1], [2, 3]] output_shape [1, 4, 1, 16]
// CHECK-NOT:     magicpig.attention
// CHECK:         return %[[OUT]]
func.func @decode(%q: tensor<1x4x1x16xf32>, %kc: tensor<1x2x?x16xf32>, %kn: tensor<1x2x1x16xf32>,
                  %vc: tensor<1x2x?x16xf32>, %vn: tensor<1x2x1x16xf32>) -> tensor<1x4x1x16xf32> {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %init = tensor.empty() : tensor<1x4x1x16xf32>
  %o = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Without a query-length dim, a bf16 output: the merge writes bf16. A
// concat still used elsewhere stays (only its use by attention goes).
// CHECK-LABEL: func.func @rank3_bf16(
// CHECK:         %[[K:.+]] = tensor.concat dim(2)
// CHECK-NOT:     tensor.concat
// CHECK:         magicpig.window_attention sink(0)
// CHECK:         magicpig.window_attention sink(0)
// CHECK:         magicpig.merge {{.*}} -> tensor<1x4x16xbf16>, tensor<1x4xf32>
// CHECK:         return %{{.+}}, %[[K]]
func.func @rank3_bf16(%q: tensor<1x4x16xbf16>, %kc: tensor<1x2x?x16xbf16>, %kn: tensor<1x2x1x16xbf16>,
                      %vc: tensor<1x2x?x16xbf16>, %vn: tensor<1x2x1x16xbf16>)
    -> (tensor<1x4x16xbf16>, tensor<1x2x?x16xbf16>) {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<1x2x?x16xbf16>, tensor<1x2x1x16xbf16>) -> tensor<1x2x?x16xbf16>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<1x2x?x16xbf16>, tensor<1x2x1x16xbf16>) -> tensor<1x2x?x16xbf16>
  %init = tensor.empty() : tensor<1x4x16xbf16>
  %o = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x16xbf16>, tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>) outs(%init : tensor<1x4x16xbf16>) -> tensor<1x4x16xbf16>
  return %o, %k : tensor<1x4x16xbf16>, tensor<1x2x?x16xbf16>
}

// -----

// Left alone: a prefill (query length 2), a concat along another dim, a
// three-way concat, and a value that is not a concat.
// CHECK-LABEL: func.func @declined(
// CHECK-COUNT-4: magicpig.attention
// CHECK-NOT:     magicpig.window_attention
func.func @declined(%q2: tensor<1x4x2x16xf32>, %q: tensor<1x4x16xf32>, %kc: tensor<1x2x?x16xf32>,
                    %kn: tensor<1x2x1x16xf32>, %vc: tensor<1x2x?x16xf32>, %vn: tensor<1x2x1x16xf32>,
                    %h: tensor<1x1x8x16xf32>) {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %init2 = tensor.empty() : tensor<1x4x2x16xf32>
  %a = magicpig.attention scale(0.25) causal ins(%q2, %k, %v : tensor<1x4x2x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init2 : tensor<1x4x2x16xf32>) -> tensor<1x4x2x16xf32>
  %init = tensor.empty() : tensor<1x4x16xf32>
  %kh = tensor.concat dim(1) %h, %h : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x2x8x16xf32>
  %b = magicpig.attention scale(0.25) ins(%q, %kh, %kh : tensor<1x4x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  %k3 = tensor.concat dim(2) %kc, %kn, %kn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %v3 = tensor.concat dim(2) %vc, %vn, %vn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %c = magicpig.attention scale(0.25) ins(%q, %k3, %v3 : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init : tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  %d = magicpig.attention scale(0.25) ins(%q, %k, %vc : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init : tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

// A sliding window of 8: the query (key M of M + 1) sees the cache from
// max(0, M + 1 - 8) and its own new row (from max(0, 1 - 8) = 0).
// CHECK-LABEL: func.func @decode_window(
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<1x4x1x16xf32>, %[[KC:[a-z0-9]+]]: tensor<1x2x?x16xf32>, %[[KN:[a-z0-9]+]]: tensor<1x2x1x16xf32>,
// CHECK-NOT:     tensor.concat
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[W:.+]] = arith.constant 8 : index
// CHECK-DAG:     %[[M:.+]] = tensor.dim %[[KC]], %{{.+}}
// CHECK-DAG:     %[[A:.+]] = tensor.dim %[[KN]], %{{.+}}
// CHECK:         %[[BACK:.+]] = arith.subi %[[A]], %[[W]]
// CHECK:         %[[END:.+]] = arith.addi %[[M]], %[[BACK]]
// CHECK:         %[[FIRST:.+]] = arith.maxsi %[[END]], %[[C0]]
// CHECK:         %[[FIRSTNEW:.+]] = arith.maxsi %[[BACK]], %[[C0]]
// CHECK:         magicpig.window_attention sink(0) window_start(%[[FIRST]]) scale(2.500000e-01) ins(%{{.+}}, %[[KC]],
// CHECK:         magicpig.window_attention sink(0) window_start(%[[FIRSTNEW]]) scale(2.500000e-01) ins(%{{.+}}, %[[KN]],
// CHECK:         magicpig.merge
// CHECK-NOT:     magicpig.attention
func.func @decode_window(%q: tensor<1x4x1x16xf32>, %kc: tensor<1x2x?x16xf32>, %kn: tensor<1x2x1x16xf32>,
                         %vc: tensor<1x2x?x16xf32>, %vn: tensor<1x2x1x16xf32>) -> tensor<1x4x1x16xf32> {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x?x16xf32>
  %init = tensor.empty() : tensor<1x4x1x16xf32>
  %o = magicpig.attention scale(0.25) causal window(8) ins(%q, %k, %v : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}
