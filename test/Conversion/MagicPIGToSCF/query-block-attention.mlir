// Loop structure of the query-block lowering of attention over many query
// positions (QueryBlockAttentionLowering.cpp), and the shapes it leaves to
// the per-position loops. The numbers are checked by
// test/Integration/CPU/attention_query_length.mlir.
//
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file \
// RUN: | FileCheck %s

// A prefill's causal self-attention with SmolLM2's heads: Hq 9, Hkv 3
// (G = 3), d = dv = 64, S and N dynamic. One task per (batch, kv head,
// block of 16 positions): R = 3 * 16 = 48 query rows.
// CHECK-LABEL: func.func @prefill_causal
// CHECK-SAME: %[[Q:[a-zA-Z0-9]+]]: memref<1x9x?x64xf32>
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x3x?x64xf32>
// CHECK-SAME: %[[V:[a-zA-Z0-9]+]]: memref<1x3x?x64xf32>
// CHECK-SAME: %[[O:[a-zA-Z0-9]+]]: memref<1x9x?x64xf32>
// The dynamic sizes that must agree are checked first.
// CHECK: cf.assert %{{.+}}, "magicpig.attention: sequence length mismatch between 'key' and 'value'"
// CHECK: cf.assert %{{.+}}, "magicpig.attention: query length mismatch between 'query' and 'output'"
// CHECK: cf.assert %{{.+}}, "magicpig.attention: causal attention needs at least as many keys as queries"
// CHECK: %[[S:.+]] = memref.dim %[[Q]], %{{.+}} : memref<1x9x?x64xf32>
// CHECK: %[[C16:.+]] = arith.constant 16 : index
// CHECK: %[[BLOCKS:.+]] = arith.ceildivui %[[S]], %[[C16]] : index
// CHECK: scf.parallel (%{{.+}}, %[[G:.+]], %[[T:.+]]) = ({{.*}}) to (%{{.+}}, %{{.+}}, %[[BLOCKS]])
// CHECK-NEXT: memref.alloca_scope
// Causal blocks are taken in the order 0, n-1, 1, n-2, ...
// CHECK: %[[HALF:.+]] = arith.divui %[[T]], %{{.+}} : index
// CHECK: %[[ODD:.+]] = arith.remui %[[T]], %{{.+}} : index
// CHECK: arith.select %{{.+}}, %{{.+}}, %[[HALF]] : index
// The transposed queries [d, R], the scores of a key block [64, R], the
// outputs [R, dv] and the per-row max, sum and rescale.
// CHECK: %[[QT:.+]] = memref.alloca() : memref<64x48xf32>
// CHECK: %[[ST:.+]] = memref.alloca() : memref<64x48xf32>
// CHECK: %[[ACC:.+]] = memref.alloca() : memref<48x64xf32>
// CHECK-COUNT-3: memref.alloca() : memref<48xf32>
// CHECK: memref.load %[[Q]]
// CHECK: memref.store %{{.+}}, %[[QT]]
// Each lane's causal limit: N - S + first position + 1 + lane.
// CHECK: arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]> : vector<16xi32>
// Scores of 4 keys x 3 row vectors: 12 accumulators, one K element
// broadcast against 3 query vectors.
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-3: vector.load %[[QT]]
// CHECK: memref.load %[[K]]
// CHECK: vector.broadcast
// CHECK-COUNT-3: vector.fma
// CHECK: vector.store %{{.+}}, %[[ST]]
// Online softmax along the rows, masked at the causal limit.
// CHECK: arith.cmpi slt, %{{.+}} : vector<16xi32>
// CHECK: math.exp %{{.+}} : vector<16xf32>
// Outputs of 4 rows x 4 value chunks: 16 accumulators.
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-4: vector.transfer_read %[[V]]
// CHECK: memref.load %[[ST]]
// Only the rows of positions < S are written.
// CHECK: arith.cmpi ult, %{{.+}}, %[[S]] : index
// CHECK: scf.if
// CHECK: vector.transfer_write %{{.+}}, %[[O]]
func.func @prefill_causal(%q: memref<1x9x?x64xf32>, %k: memref<1x3x?x64xf32>,
                          %v: memref<1x3x?x64xf32>, %o: memref<1x9x?x64xf32>) {
  magicpig.attention scale(0.125) causal
      ins(%q, %k, %v : memref<1x9x?x64xf32>, memref<1x3x?x64xf32>,
                       memref<1x3x?x64xf32>)
      outs(%o : memref<1x9x?x64xf32>)
  return
}

// -----

// Without `causal` the blocks keep their order and no key is masked.
// CHECK-LABEL: func.func @prefill_full
// CHECK: scf.parallel
// CHECK-NOT: arith.remui %{{.+}}, %c2
// CHECK-NOT: vector<16xi32>
// CHECK: return
func.func @prefill_full(%q: memref<2x4x40x32xf32>, %k: memref<2x4x40x32xbf16>,
                        %v: memref<2x4x40x32xbf16>, %o: memref<2x4x40x32xf32>) {
  magicpig.attention scale(0.125)
      ins(%q, %k, %v : memref<2x4x40x32xf32>, memref<2x4x40x32xbf16>,
                       memref<2x4x40x32xbf16>)
      outs(%o : memref<2x4x40x32xf32>)
  return
}

// -----

// Fewer positions than a vector (S = 8), a value dim that is not whole
// vectors (dv = 20), and a group so large that a task's scratch would
// exceed 1 MiB of stack (G = 64, d = dv = 256: 1024 rows x (256 + 64 + 256)
// f32) keep the per-position loops: their parallel loop runs over (batch,
// kv head, position, task).
// CHECK-LABEL: func.func @short
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) =
// CHECK-LABEL: func.func @odd_value_dim
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) =
// CHECK-LABEL: func.func @huge_group
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) =
func.func @short(%q: memref<1x4x8x64xf32>, %k: memref<1x2x?x64xf32>,
                 %v: memref<1x2x?x64xf32>, %o: memref<1x4x8x64xf32>) {
  magicpig.attention scale(0.125) causal
      ins(%q, %k, %v : memref<1x4x8x64xf32>, memref<1x2x?x64xf32>,
                       memref<1x2x?x64xf32>)
      outs(%o : memref<1x4x8x64xf32>)
  return
}
func.func @odd_value_dim(%q: memref<1x4x?x64xf32>, %k: memref<1x2x?x64xf32>,
                         %v: memref<1x2x?x20xf32>, %o: memref<1x4x?x20xf32>) {
  magicpig.attention scale(0.125) causal
      ins(%q, %k, %v : memref<1x4x?x64xf32>, memref<1x2x?x64xf32>,
                       memref<1x2x?x20xf32>)
      outs(%o : memref<1x4x?x20xf32>)
  return
}
func.func @huge_group(%q: memref<1x64x?x256xf32>, %k: memref<1x1x?x256xf32>,
                      %v: memref<1x1x?x256xf32>, %o: memref<1x64x?x256xf32>) {
  magicpig.attention scale(0.0625) causal
      ins(%q, %k, %v : memref<1x64x?x256xf32>, memref<1x1x?x256xf32>,
                       memref<1x1x?x256xf32>)
      outs(%o : memref<1x64x?x256xf32>)
  return
}
