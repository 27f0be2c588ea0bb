// RUN: magicpig-opt %s | magicpig-opt | FileCheck %s
// RUN: magicpig-opt %s --mlir-print-op-generic | magicpig-opt | FileCheck %s

// CHECK-LABEL: func @attention_decode
//  CHECK-SAME: (%[[Q:.+]]: tensor<1x8x64xf32>, %[[K:.+]]: tensor<1x2x512x64xbf16>, %[[V:.+]]: tensor<1x2x512x64xbf16>, %[[O:.+]]: tensor<1x8x64xf32>)
//       CHECK:   %[[R:.+]] = magicpig.attention scale(1.250000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x8x64xf32>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>) outs(%[[O]] : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
//       CHECK:   return %[[R]]
func.func @attention_decode(%q: tensor<1x8x64xf32>, %k: tensor<1x2x512x64xbf16>,
                            %v: tensor<1x2x512x64xbf16>, %o: tensor<1x8x64xf32>)
    -> tensor<1x8x64xf32> {
  %r = magicpig.attention scale(0.125)
         ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>)
         outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %r : tensor<1x8x64xf32>
}

// CHECK-LABEL: func @attention_prefill_causal_dynamic
//       CHECK:   magicpig.attention scale(1.250000e-01) causal ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x32xf16>) outs(%{{.+}} : tensor<?x4x?x32xf16>) -> tensor<?x4x?x32xf16>
func.func @attention_prefill_causal_dynamic(
    %q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x32xf16>,
    %o: tensor<?x4x?x32xf16>) -> tensor<?x4x?x32xf16> {
  %r = magicpig.attention scale(0.125) causal
         ins(%q, %k, %v : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x32xf16>)
         outs(%o : tensor<?x4x?x32xf16>) -> tensor<?x4x?x32xf16>
  return %r : tensor<?x4x?x32xf16>
}

// CHECK-LABEL: func @attention_sliding_window
//       CHECK:   magicpig.attention scale(1.250000e-01) causal window(512) ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x4x?x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>) outs(%{{.+}} : tensor<1x4x?x64xf32>) -> tensor<1x4x?x64xf32>
//       CHECK:   magicpig.attention scale(1.250000e-01) window(512) ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x4x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>) outs(%{{.+}} : tensor<1x4x64xf32>) -> tensor<1x4x64xf32>
func.func @attention_sliding_window(
    %q: tensor<1x4x?x64xf32>, %k: tensor<1x1x?x64xf32>, %v: tensor<1x1x?x64xf32>,
    %o: tensor<1x4x?x64xf32>, %qd: tensor<1x4x64xf32>, %od: tensor<1x4x64xf32>)
    -> (tensor<1x4x?x64xf32>, tensor<1x4x64xf32>) {
  %r = magicpig.attention scale(0.125) causal window(512)
         ins(%q, %k, %v : tensor<1x4x?x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>)
         outs(%o : tensor<1x4x?x64xf32>) -> tensor<1x4x?x64xf32>
  %d = magicpig.attention scale(0.125) window(512)
         ins(%qd, %k, %v : tensor<1x4x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>)
         outs(%od : tensor<1x4x64xf32>) -> tensor<1x4x64xf32>
  return %r, %d : tensor<1x4x?x64xf32>, tensor<1x4x64xf32>
}

// CHECK-LABEL: func @attention_memref
//       CHECK:   magicpig.attention scale(2.500000e-01) ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<2x4x16xf32>, memref<2x4x?x16xf32>, memref<2x4x?x16xf32>) outs(%{{.+}} : memref<2x4x16xf32>)
//   CHECK-NOT:   ->
func.func @attention_memref(%q: memref<2x4x16xf32>, %k: memref<2x4x?x16xf32>,
                            %v: memref<2x4x?x16xf32>, %o: memref<2x4x16xf32>) {
  magicpig.attention scale(0.25)
    ins(%q, %k, %v : memref<2x4x16xf32>, memref<2x4x?x16xf32>, memref<2x4x?x16xf32>)
    outs(%o : memref<2x4x16xf32>)
  return
}

// CHECK-LABEL: func @center_keys
//       CHECK:   %{{.+}}:2 = magicpig.center_keys sink(4) window(64) ins(%{{.+}} : tensor<1x2x?x64xbf16>) outs(%{{.+}}, %{{.+}} : tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>) -> tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>
func.func @center_keys(%k: tensor<1x2x?x64xbf16>, %c: tensor<1x2x?x64xbf16>,
                       %m: tensor<1x2x64xf32>) -> (tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>) {
  %r:2 = magicpig.center_keys sink(4) window(64)
           ins(%k : tensor<1x2x?x64xbf16>)
           outs(%c, %m : tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>)
           -> tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>
  return %r#0, %r#1 : tensor<1x2x?x64xbf16>, tensor<1x2x64xf32>
}

// CHECK-LABEL: func @key_norms
//       CHECK:   magicpig.key_norms ins(%{{.+}} : tensor<1x2x128x64xf16>) outs(%{{.+}} : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
func.func @key_norms(%k: tensor<1x2x128x64xf16>, %n: tensor<1x2x128xf32>) -> tensor<1x2x128xf32> {
  %r = magicpig.key_norms ins(%k : tensor<1x2x128x64xf16>) outs(%n : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
  return %r : tensor<1x2x128xf32>
}

// CHECK-LABEL: func @simhash
//       CHECK:   magicpig.simhash bits(10) tables(150) ins(%{{.+}}, %{{.+}} : tensor<1x2x128x64xbf16>, tensor<64x1500xf32>) outs(%{{.+}} : tensor<1x2x128x150xi16>) -> tensor<1x2x128x150xi16>
//       CHECK:   magicpig.simhash bits(16) tables(2) ins(%{{.+}}, %{{.+}} : memref<3x8xf32>, memref<8x32xf32>) outs(%{{.+}} : memref<3x2xi32>)
func.func @simhash(%k: tensor<1x2x128x64xbf16>, %p: tensor<64x1500xf32>,
                   %c: tensor<1x2x128x150xi16>, %x: memref<3x8xf32>,
                   %p2: memref<8x32xf32>, %c2: memref<3x2xi32>) -> tensor<1x2x128x150xi16> {
  %r = magicpig.simhash bits(10) tables(150)
         ins(%k, %p : tensor<1x2x128x64xbf16>, tensor<64x1500xf32>)
         outs(%c : tensor<1x2x128x150xi16>) -> tensor<1x2x128x150xi16>
  magicpig.simhash bits(16) tables(2) ins(%x, %p2 : memref<3x8xf32>, memref<8x32xf32>)
    outs(%c2 : memref<3x2xi32>)
  return %r : tensor<1x2x128x150xi16>
}

// CHECK-LABEL: func @build_tables
//       CHECK:   %{{.+}}:2 = magicpig.build_tables bits(4) sink(4) window(8) ins(%{{.+}} : tensor<1x2x?x3xi32>) outs(%{{.+}}, %{{.+}} : tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>) -> tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>
func.func @build_tables(%c: tensor<1x2x?x3xi32>, %o: tensor<1x2x3x17xi32>,
                        %i: tensor<1x2x3x?xi32>) -> (tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>) {
  %r:2 = magicpig.build_tables bits(4) sink(4) window(8)
           ins(%c : tensor<1x2x?x3xi32>)
           outs(%o, %i : tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>)
           -> tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>
  return %r#0, %r#1 : tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>
}

// CHECK-LABEL: func @retrieve
//       CHECK:   %{{.+}}:2 = magicpig.retrieve bits(4) min_collisions(2) ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>) outs(%{{.+}}, %{{.+}} : tensor<1x4x32xi32>, tensor<1x4xi32>) -> tensor<1x4x32xi32>, tensor<1x4xi32>
func.func @retrieve(%qc: tensor<1x4x3xi32>, %o: tensor<1x2x3x17xi32>, %i: tensor<1x2x3x?xi32>,
                    %cand: tensor<1x4x32xi32>, %cnt: tensor<1x4xi32>) -> (tensor<1x4x32xi32>, tensor<1x4xi32>) {
  %r:2 = magicpig.retrieve bits(4) min_collisions(2)
           ins(%qc, %o, %i : tensor<1x4x3xi32>, tensor<1x2x3x17xi32>, tensor<1x2x3x?xi32>)
           outs(%cand, %cnt : tensor<1x4x32xi32>, tensor<1x4xi32>)
           -> tensor<1x4x32xi32>, tensor<1x4xi32>
  return %r#0, %r#1 : tensor<1x4x32xi32>, tensor<1x4xi32>
}

// CHECK-LABEL: func @estimate
//       CHECK:   %{{.+}}:2 = magicpig.estimate bits(10) tables(150) min_collisions(2) scale(1.250000e-01) ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[MEAN:.+]], %{{.+}}, %{{.+}} : tensor<1x4x64xf32>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?xf32>, tensor<1x2x64xf32>, tensor<1x4x256xi64>, tensor<1x4xi64>) outs(%{{.+}}, %{{.+}} : tensor<1x4x64xf32>, tensor<1x4xf32>) -> tensor<1x4x64xf32>, tensor<1x4xf32>
func.func @estimate(%q: tensor<1x4x64xf32>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>,
                    %n: tensor<1x2x?xf32>, %m: tensor<1x2x64xf32>, %cand: tensor<1x4x256xi64>, %cnt: tensor<1x4xi64>,
                    %o: tensor<1x4x64xf32>, %l: tensor<1x4xf32>) -> (tensor<1x4x64xf32>, tensor<1x4xf32>) {
  %r:2 = magicpig.estimate bits(10) tables(150) min_collisions(2) scale(0.125)
           ins(%q, %k, %v, %n, %m, %cand, %cnt : tensor<1x4x64xf32>, tensor<1x2x?x64xbf16>,
               tensor<1x2x?x64xbf16>, tensor<1x2x?xf32>, tensor<1x2x64xf32>, tensor<1x4x256xi64>, tensor<1x4xi64>)
           outs(%o, %l : tensor<1x4x64xf32>, tensor<1x4xf32>)
           -> tensor<1x4x64xf32>, tensor<1x4xf32>
  return %r#0, %r#1 : tensor<1x4x64xf32>, tensor<1x4xf32>
}

// CHECK-LABEL: func @window_attention
//  CHECK-SAME: %[[WS:[a-zA-Z0-9]+]]: index
//       CHECK:   magicpig.window_attention sink(4) window_start(%[[WS]]) scale(1.250000e-01) ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<1x4x64xf32>, memref<1x2x?x64xf16>, memref<1x2x?x64xf16>) outs(%{{.+}}, %{{.+}} : memref<1x4x64xf32>, memref<1x4xf32>)
func.func @window_attention(%ws: index, %q: memref<1x4x64xf32>, %k: memref<1x2x?x64xf16>,
                            %v: memref<1x2x?x64xf16>, %o: memref<1x4x64xf32>, %l: memref<1x4xf32>) {
  magicpig.window_attention sink(4) window_start(%ws) scale(0.125)
    ins(%q, %k, %v : memref<1x4x64xf32>, memref<1x2x?x64xf16>, memref<1x2x?x64xf16>)
    outs(%o, %l : memref<1x4x64xf32>, memref<1x4xf32>)
  return
}

// CHECK-LABEL: func @merge
//       CHECK:   %{{.+}}:2 = magicpig.merge ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x4x64xf32>, tensor<2x4xf32>, tensor<2x4x64xf32>, tensor<2x4xf32>) outs(%{{.+}}, %{{.+}} : tensor<2x4x64xbf16>, tensor<2x4xf32>) -> tensor<2x4x64xbf16>, tensor<2x4xf32>
func.func @merge(%a: tensor<2x4x64xf32>, %la: tensor<2x4xf32>, %b: tensor<2x4x64xf32>,
                 %lb: tensor<2x4xf32>, %o: tensor<2x4x64xbf16>, %l: tensor<2x4xf32>)
    -> (tensor<2x4x64xbf16>, tensor<2x4xf32>) {
  %r:2 = magicpig.merge ins(%a, %la, %b, %lb : tensor<2x4x64xf32>, tensor<2x4xf32>, tensor<2x4x64xf32>, tensor<2x4xf32>)
           outs(%o, %l : tensor<2x4x64xbf16>, tensor<2x4xf32>)
           -> tensor<2x4x64xbf16>, tensor<2x4xf32>
  return %r#0, %r#1 : tensor<2x4x64xbf16>, tensor<2x4xf32>
}

// A padded decode batch: per-sequence lengths and window starts.
// CHECK-LABEL: func @padded_batch
//  CHECK-SAME: (%[[LEN:[a-zA-Z0-9]+]]: tensor<?xi64>, %[[ST:[a-zA-Z0-9]+]]: tensor<?xi32>
//       CHECK:   magicpig.attention scale(1.250000e-01) lengths(%[[LEN]] : tensor<?xi64>) ins(
//       CHECK:   magicpig.attention scale(1.250000e-01) window(512) lengths(%[[LEN]] : tensor<?xi64>) ins(
//       CHECK:   magicpig.window_attention sink(4) window_start(%{{.+}}) lengths(%[[LEN]] : tensor<?xi64>) starts(%[[ST]] : tensor<?xi32>) scale(1.250000e-01) ins(
func.func @padded_batch(%len: tensor<?xi64>, %starts: tensor<?xi32>, %ws: index,
                        %q: tensor<?x4x64xf32>, %k: tensor<?x2x?x64xbf16>,
                        %o: tensor<?x4x64xf32>, %l: tensor<?x4xf32>)
    -> (tensor<?x4x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>) {
  %a = magicpig.attention scale(0.125) lengths(%len : tensor<?xi64>)
    ins(%q, %k, %k : tensor<?x4x64xf32>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>)
    outs(%o : tensor<?x4x64xf32>) -> tensor<?x4x64xf32>
  %s = magicpig.attention scale(0.125) window(512) lengths(%len : tensor<?xi64>)
    ins(%q, %k, %k : tensor<?x4x64xf32>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>)
    outs(%a : tensor<?x4x64xf32>) -> tensor<?x4x64xf32>
  %w:2 = magicpig.window_attention sink(4) window_start(%ws) lengths(%len : tensor<?xi64>)
    starts(%starts : tensor<?xi32>) scale(0.125)
    ins(%q, %k, %k : tensor<?x4x64xf32>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>)
    outs(%o, %l : tensor<?x4x64xf32>, tensor<?x4xf32>) -> tensor<?x4x64xf32>, tensor<?x4xf32>
  return %s, %w#0, %w#1 : tensor<?x4x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>
}
