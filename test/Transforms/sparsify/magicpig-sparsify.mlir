// RUN: magicpig-opt %s -split-input-file --magicpig-sparsify="lsh-bits=2 lsh-tables=3 min-collisions=2 sink-tokens=1 window-tokens=2 seed=7" | FileCheck %s

// A decode attention becomes hash -> retrieve -> estimate, window attention
// and a merge; the index arrives as four new arguments.

// CHECK-LABEL: func.func @decode
//  CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x?x8xbf16>, %[[V:[a-z0-9]+]]: tensor<1x2x?x8xbf16>,
//  CHECK-SAME:  %[[OFF:[a-z0-9]+]]: tensor<1x2x3x5xi32> {magicpig.layer = {{[0-9]+}} : i64}, %[[IDX:[a-z0-9]+]]: tensor<1x2x3x?xi32> {magicpig.layer = {{[0-9]+}} : i64}, %[[NORM:[a-z0-9]+]]: tensor<1x2x?xf32> {magicpig.layer = {{[0-9]+}} : i64}, %[[MEAN:[a-z0-9]+]]: tensor<1x2x8xf32> {magicpig.layer = {{[0-9]+}} : i64})
//  CHECK-SAME: -> tensor<1x4x8xf32>
//   CHECK-DAG:   %[[P:.+]] = arith.constant dense<{{.+}}> : tensor<8x6xf32>
//       CHECK:   %[[CODES:.+]] = magicpig.simhash bits(2) tables(3) ins(%[[Q]], %[[P]] :
//       CHECK:   %[[NP:.+]] = tensor.dim %[[IDX]], %{{.+}} : tensor<1x2x3x?xi32>
//       CHECK:   %[[CAND_INIT:.+]] = tensor.empty(%[[NP]]) : tensor<1x4x?xi32>
//       CHECK:   %[[RET:.+]]:2 = magicpig.retrieve bits(2) min_collisions(2) ins(%[[CODES]], %[[OFF]], %[[IDX]] :
//  CHECK-SAME:     outs(%[[CAND_INIT]], %{{.+}} :
//       CHECK:   %[[EST:.+]]:2 = magicpig.estimate bits(2) tables(3) min_collisions(2) scale(3.500000e-01) ins(%[[Q]], %[[K]], %[[V]], %[[NORM]], %[[MEAN]], %[[RET]]#0, %[[RET]]#1 :
//       CHECK:   %[[SHIFTED:.+]] = arith.subi %[[NP]], %[[C2:.+]] : index
//       CHECK:   %[[WS:.+]] = arith.maxsi %[[SHIFTED]], %[[C1:.+]] : index
//       CHECK:   %[[WIN:.+]]:2 = magicpig.window_attention sink(1) window_start(%[[WS]]) scale(3.500000e-01) ins(%[[Q]], %[[K]], %[[V]] :
//       CHECK:   %[[MERGED:.+]]:2 = magicpig.merge ins(%[[EST]]#0, %[[EST]]#1, %[[WIN]]#0, %[[WIN]]#1 :
//       CHECK:   return %[[MERGED]]#0 : tensor<1x4x8xf32>
//   CHECK-NOT:   magicpig.attention
func.func @decode(%q: tensor<1x4x8xf32>, %k: tensor<1x2x?x8xbf16>, %v: tensor<1x2x?x8xbf16>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r = magicpig.attention scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x?x8xbf16>, tensor<1x2x?x8xbf16>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}

// -----

// Prefill attention stays exact; the index of its keys is built after it and
// returned as four more results.

// CHECK-LABEL: func.func @prefill
//  CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x4x?x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x?x8xbf16>,
//  CHECK-SAME: -> (tensor<1x4x?x8xf32>, tensor<1x2x3x5xi32> {magicpig.layer = {{[0-9]+}} : i64}, tensor<1x2x3x?xi32> {magicpig.layer = {{[0-9]+}} : i64}, tensor<1x2x?xf32> {magicpig.layer = {{[0-9]+}} : i64}, tensor<1x2x8xf32> {magicpig.layer = {{[0-9]+}} : i64})
//       CHECK:   %[[ATT:.+]] = magicpig.attention scale(3.500000e-01) causal
//       CHECK:   %[[CENTER:.+]]:2 = magicpig.center_keys sink(1) window(2) ins(%[[K]] : tensor<1x2x?x8xbf16>) outs({{.+}} : tensor<1x2x?x8xf32>, tensor<1x2x8xf32>)
//       CHECK:   %[[NORMS:.+]] = magicpig.key_norms ins(%[[CENTER]]#0 : tensor<1x2x?x8xf32>)
//       CHECK:   %[[CODES:.+]] = magicpig.simhash bits(2) tables(3) ins(%[[CENTER]]#0, %{{.+}} : tensor<1x2x?x8xf32>, tensor<8x6xf32>) outs(%{{.+}} : tensor<1x2x?x3xi32>)
//       CHECK:   %[[TABLES:.+]]:2 = magicpig.build_tables bits(2) sink(1) window(2) ins(%[[CODES]] : tensor<1x2x?x3xi32>) outs(%{{.+}}, %{{.+}} : tensor<1x2x3x5xi32>, tensor<1x2x3x?xi32>)
//       CHECK:   return %[[ATT]], %[[TABLES]]#0, %[[TABLES]]#1, %[[NORMS]], %[[CENTER]]#1 :
func.func @prefill(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xbf16>, %v: tensor<1x2x?x8xbf16>, %o: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %r = magicpig.attention scale(0.35) causal ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x2x?x8xbf16>, tensor<1x2x?x8xbf16>) outs(%o : tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
  return %r : tensor<1x4x?x8xf32>
}

// -----

// A query with a static length of 1 is decode: collapsed to [B, Hq, d] and
// the result expanded back.

// CHECK-LABEL: func.func @decode_with_query_length
//       CHECK:   %[[Q3:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<1x4x1x8xf32> into tensor<1x4x8xf32>
//       CHECK:   magicpig.simhash bits(2) tables(3) ins(%[[Q3]],
//       CHECK:   %[[M:.+]]:2 = magicpig.merge
//       CHECK:   %[[OUT:.+]] = tensor.expand_shape %[[M]]#0 {{\[}}[0], [1], [2, 3]] output_shape [1, 4, 1, 8] : tensor<1x4x8xf16> into tensor<1x4x1x8xf16>
//       CHECK:   return %[[OUT]]
func.func @decode_with_query_length(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x?x8xf16>, %v: tensor<1x2x?x8xf16>, %o: tensor<1x4x1x8xf16>) -> tensor<1x4x1x8xf16> {
  %r = magicpig.attention scale(0.35) ins(%q, %k, %v : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf16>, tensor<1x2x?x8xf16>) outs(%o : tensor<1x4x1x8xf16>) -> tensor<1x4x1x8xf16>
  return %r : tensor<1x4x1x8xf16>
}

// -----

// With three or more layers the first and the middle one stay dense by
// default: of layers 0, 1, 2 only layer 2 is sampled, and only its index is
// threaded.

// CHECK-LABEL: func.func @three_layers
//  CHECK-SAME: %{{[a-z0-9]+}}: tensor<1x2x3x5xi32> {magicpig.layer = {{[0-9]+}} : i64}, %{{[a-z0-9]+}}: tensor<1x2x3x?xi32> {magicpig.layer = {{[0-9]+}} : i64}, %{{[a-z0-9]+}}: tensor<1x2x?xf32> {magicpig.layer = {{[0-9]+}} : i64}, %{{[a-z0-9]+}}: tensor<1x2x8xf32> {magicpig.layer = {{[0-9]+}} : i64}) -> tensor<1x4x8xf32>
//       CHECK:   magicpig.attention
//       CHECK:   magicpig.attention
//   CHECK-NOT:   magicpig.attention
//       CHECK:   magicpig.retrieve
//   CHECK-NOT:   magicpig.retrieve
func.func @three_layers(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r0 = magicpig.attention scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %r1 = magicpig.attention scale(0.35) ins(%r0, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %r2 = magicpig.attention scale(0.35) ins(%r1, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r2 : tensor<1x4x8xf32>
}
