// RUN: magicpig-opt %s --convert-magicpig-to-gpu -split-input-file | FileCheck %s
// RUN: magicpig-opt %s --convert-magicpig-to-gpu="chip=sm_80 threads-per-block=256" -split-input-file \
// RUN: | FileCheck %s --check-prefix=T256

// merge: grid (Hq, B), threads stride over the value dim; every input is
// copied to the device, every output back, all on one stream that a
// blocking gpu.wait closes.

// CHECK-LABEL: func.func @merge
// CHECK-SAME: (%[[OA:[^:]+]]: memref<2x4x8xf32>, %[[LA:[^:]+]]: memref<2x4xf32>, %[[OB:[^:]+]]: memref<2x4x8xf32>, %[[LB:[^:]+]]: memref<2x4xf32>, %[[O:[^:]+]]: memref<2x4x8xf32>, %[[L:[^:]+]]: memref<2x4xf32>)
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: %[[T0:.+]] = gpu.wait async
// CHECK: %[[DOA:.+]], %[[T1:.+]] = gpu.alloc async [%[[T0]]] () : memref<2x4x8xf32>
// CHECK: %[[T2:.+]] = gpu.memcpy async [%[[T1]]] %[[DOA]], %[[OA]]
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[LA]]
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[OB]]
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[LB]]
// CHECK: %[[DO:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4x8xf32>
// CHECK: %[[DL:.+]], %[[TA:.+]] = gpu.alloc async [%{{.+}}] () : memref<2x4xf32>
// CHECK: %[[C128:.+]] = arith.constant 128 : index
// CHECK: %[[TL:.+]] = gpu.launch async [%[[TA]]] blocks(%[[BX:.+]], %[[BY:.+]], %{{.+}}) in (%{{.+}} = %[[C4]], %{{.+}} = %[[C2]], %{{.+}} = %{{.+}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%[[NT:.+]] = %[[C128]],
// CHECK:   math.exp
// CHECK:   scf.for %[[E:.+]] = %[[TX]] to %{{.+}} step %[[NT]] {
// CHECK:     memref.store %{{.+}}, %[[DO]][%[[BY]], %[[BX]], %[[E]]]
// CHECK:   scf.if
// CHECK:     memref.store %{{.+}}, %[[DL]][%[[BY]], %[[BX]]]
// CHECK:   gpu.terminator
// CHECK: %[[TC:.+]] = gpu.memcpy async [%[[TL]]] %[[O]], %[[DO]]
// CHECK: gpu.memcpy async [%[[TC]]] %[[L]], %[[DL]]
// CHECK-COUNT-6: gpu.dealloc async
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NOT: magicpig.merge

// T256-LABEL: func.func @merge
// T256: %[[C256:.+]] = arith.constant 256 : index
// T256: gpu.launch async {{.*}} threads({{.*}}) in (%{{.+}} = %[[C256]],
func.func @merge(%oa: memref<2x4x8xf32>, %la: memref<2x4xf32>,
                 %ob: memref<2x4x8xf32>, %lb: memref<2x4xf32>,
                 %o: memref<2x4x8xf32>, %l: memref<2x4xf32>) {
  magicpig.merge ins(%oa, %la, %ob, %lb : memref<2x4x8xf32>, memref<2x4xf32>, memref<2x4x8xf32>, memref<2x4xf32>)
                 outs(%o, %l : memref<2x4x8xf32>, memref<2x4xf32>)
  return
}

// -----

// window_attention: grid (S = 1, Hq, B); a warp-shuffle max and sum per
// chunk of 128 keys (warp butterfly, one slot per warp in shared memory,
// barriers), probabilities in a 128-float shared buffer, an f32
// accumulator row per block in device scratch, and thread 0 stores lse.

// CHECK-LABEL: func.func @window_attention
// CHECK-SAME: %[[Q:[^:]+]]: memref<2x4x16xf32>, %[[K:[^:]+]]: memref<2x2x64x16xf32>, %[[V:[^:]+]]: memref<2x2x64x16xf32>, %[[WS:[^:]+]]: index, %[[O:[^:]+]]: memref<2x4x16xf32>, %[[L:[^:]+]]: memref<2x4xf32>
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[Q]]
// CHECK: gpu.memcpy async [%{{.+}}] %[[DK:.+]], %[[K]]
// CHECK: gpu.memcpy async [%{{.+}}] %[[DV:.+]], %[[V]]
// CHECK: %[[DO:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4x16xf32>
// CHECK: %[[DL:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4xf32>
// CHECK: %[[ACC:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4x1x16xf32>
// CHECK: gpu.launch async [%{{.+}}] blocks(%[[POS:.+]], %[[H:.+]], %[[B:.+]]) in (%{{.+}} = %[[C1]], %{{.+}} = %[[C4]], %{{.+}} = %[[C2]])
// CHECK-SAME: workgroup(%[[RED:.+]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[P:.+]] : memref<128xf32, #gpu.address_space<workgroup>>)
// CHECK:   arith.maxsi %[[WS]]
// CHECK:   scf.for %[[CHUNK:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[M:.+]] = %{{.+}}, %[[S:.+]] = %{{.+}}) -> (f32, f32)
// CHECK:     memref.load %[[DK]]
// CHECK:     gpu.shuffle xor %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK:     arith.maximumf
// CHECK:     memref.store %{{.+}}, %[[RED]]
// CHECK:     gpu.barrier
// CHECK:     gpu.shuffle xor
// CHECK:     gpu.barrier
// CHECK:     math.exp
// CHECK:     gpu.shuffle xor
// CHECK:     arith.addf
// CHECK:     gpu.barrier
// CHECK:     memref.store %{{.+}}, %[[P]]
// CHECK:     gpu.barrier
// CHECK:     scf.for
// CHECK:       memref.load %[[ACC]]
// CHECK:       scf.for
// CHECK:         memref.load %[[P]]
// CHECK:         memref.load %[[DV]]
// CHECK:         math.fma
// CHECK:       memref.store %{{.+}}, %[[ACC]]
// CHECK:     gpu.barrier
// CHECK:   memref.store %{{.+}}, %[[DO]][%[[B]], %[[H]], %{{.+}}]
// CHECK:   scf.if
// CHECK:     math.log
// CHECK:     memref.store %{{.+}}, %[[DL]][%[[B]], %[[H]]]
// CHECK: gpu.memcpy async [%{{.+}}] %[[O]], %[[DO]]
// CHECK: gpu.memcpy async [%{{.+}}] %[[L]], %[[DL]]
// CHECK: gpu.wait [%{{.+}}]
func.func @window_attention(%q: memref<2x4x16xf32>, %k: memref<2x2x64x16xf32>,
                            %v: memref<2x2x64x16xf32>, %ws: index,
                            %o: memref<2x4x16xf32>, %l: memref<2x4xf32>) {
  magicpig.window_attention sink(4) window_start(%ws) scale(0.25)
    ins(%q, %k, %v : memref<2x4x16xf32>, memref<2x2x64x16xf32>, memref<2x2x64x16xf32>)
    outs(%o, %l : memref<2x4x16xf32>, memref<2x4xf32>)
  return
}

// -----

// Exact attention with a query-length dim (prefill of a dense layer):
// grid (S, Hq, B); causal, so the key count depends on the block's query
// position; bf16 K/V are widened to f32.

// CHECK-LABEL: func.func @attention_causal_bf16
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : index
// CHECK: gpu.alloc async [%{{.+}}] () : memref<1x8x32x64xf32>
// CHECK: gpu.launch async [%{{.+}}] blocks(%[[POS:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[C32]], %{{.+}} = %[[C8]], %{{.+}} = %[[C1]])
// CHECK:   %[[SHIFT:.+]] = arith.addi %[[POS]], %{{.+}} : index
// CHECK:   arith.minsi %{{.+}}, %{{.+}}
// CHECK:   memref.load %{{.+}} : memref<1x2x128x64xbf16>
// CHECK:   arith.extf %{{.+}} : bf16 to f32
// CHECK-NOT: magicpig.attention
func.func @attention_causal_bf16(%q: memref<1x8x32x64xf32>, %k: memref<1x2x128x64xbf16>,
                                 %v: memref<1x2x128x64xbf16>, %o: memref<1x8x32x64xf32>) {
  magicpig.attention scale(0.125) causal
    ins(%q, %k, %v : memref<1x8x32x64xf32>, memref<1x2x128x64xbf16>, memref<1x2x128x64xbf16>)
    outs(%o : memref<1x8x32x64xf32>)
  return
}

// -----

// simhash with a static projection width: one block per hashed row (the
// B * Hkv * N keys at prefill), threads stride over the tables, each packs
// K sign bits.

// CHECK-LABEL: func.func @simhash_keys
// CHECK-SAME: %[[X:[^:]+]]: memref<1x2x?x16xbf16>
// CHECK: %[[N:.+]] = memref.dim %[[X]], %{{.+}} : memref<1x2x?x16xbf16>
// CHECK: %[[ROWS:.+]] = arith.muli {{.*}}%[[N]]{{.*}} : index
// CHECK: %[[NONEMPTY:.+]] = arith.cmpi ne, %[[ROWS]], %{{.+}} : index
// CHECK: scf.if %[[NONEMPTY]] {
// CHECK:   %[[DX:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] (%{{.+}}) : memref<1x2x?x16xbf16>
// CHECK:   gpu.alloc async [%{{.+}}] () : memref<16x32xf32>
// CHECK:   %[[DC:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] (%{{.+}}) : memref<1x2x?x4xi16>
// CHECK:   gpu.launch async [%{{.+}}] blocks(%[[ROW:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[ROWS]],
// CHECK:     arith.remui %[[ROW]]
// CHECK:     scf.for %[[TABLE:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:       scf.for {{.*}} -> (i16)
// CHECK:         arith.cmpf ogt
// CHECK:         arith.shli %{{.+}}, %{{.+}} : i16
// CHECK:         arith.ori
// CHECK:       memref.store %{{.+}}, %[[DC]][{{.*}}%[[TABLE]]]
// CHECK:   gpu.wait [%{{.+}}]
// CHECK-NOT: magicpig.simhash
func.func @simhash_keys(%x: memref<1x2x?x16xbf16>, %p: memref<16x32xf32>,
                        %c: memref<1x2x?x4xi16>) {
  magicpig.simhash bits(8) tables(4) ins(%x, %p : memref<1x2x?x16xbf16>, memref<16x32xf32>)
    outs(%c : memref<1x2x?x4xi16>)
  return
}

// -----

// A dynamic projection width is checked at run time by the host lowering:
// that simhash stays for convert-magicpig-to-scf.

// CHECK-LABEL: func.func @simhash_dynamic_width
// CHECK-NOT: gpu.launch
// CHECK: magicpig.simhash bits(8) tables(4)
func.func @simhash_dynamic_width(%x: memref<1x4x16xf32>, %p: memref<16x?xf32>,
                                 %c: memref<1x4x4xi16>) {
  magicpig.simhash bits(8) tables(4) ins(%x, %p : memref<1x4x16xf32>, memref<16x?xf32>)
    outs(%c : memref<1x4x4xi16>)
  return
}

// -----

// The host half of a sparse layer is left alone.

// CHECK-LABEL: func.func @host_ops
// CHECK-NOT: gpu.
// CHECK: magicpig.center_keys
// CHECK: magicpig.key_norms
// CHECK: magicpig.build_tables
// CHECK: magicpig.retrieve
// CHECK: magicpig.estimate
// CHECK-NOT: gpu.
// CHECK: return
func.func @host_ops(%k: memref<1x2x128x16xf32>, %ck: memref<1x2x128x16xf32>,
                    %mean: memref<1x2x16xf32>, %norms: memref<1x2x128xf32>,
                    %codes: memref<1x2x128x8xi16>, %off: memref<1x2x8x257xi32>,
                    %idx: memref<1x2x8x128xi32>, %qc: memref<1x4x8xi16>,
                    %cand: memref<1x4x128xi32>, %count: memref<1x4xi32>,
                    %q: memref<1x4x16xf32>, %o: memref<1x4x16xf32>,
                    %l: memref<1x4xf32>) {
  magicpig.center_keys sink(4) window(8) ins(%k : memref<1x2x128x16xf32>)
    outs(%ck, %mean : memref<1x2x128x16xf32>, memref<1x2x16xf32>)
  magicpig.key_norms ins(%ck : memref<1x2x128x16xf32>) outs(%norms : memref<1x2x128xf32>)
  magicpig.build_tables bits(8) sink(4) window(8) ins(%codes : memref<1x2x128x8xi16>)
    outs(%off, %idx : memref<1x2x8x257xi32>, memref<1x2x8x128xi32>)
  magicpig.retrieve bits(8) min_collisions(2)
    ins(%qc, %off, %idx : memref<1x4x8xi16>, memref<1x2x8x257xi32>, memref<1x2x8x128xi32>)
    outs(%cand, %count : memref<1x4x128xi32>, memref<1x4xi32>)
  magicpig.estimate bits(8) tables(8) min_collisions(2) scale(0.25)
    ins(%q, %ck, %k, %norms, %mean, %cand, %count : memref<1x4x16xf32>, memref<1x2x128x16xf32>, memref<1x2x128x16xf32>, memref<1x2x128xf32>, memref<1x2x16xf32>, memref<1x4x128xi32>, memref<1x4xi32>)
    outs(%o, %l : memref<1x4x16xf32>, memref<1x4xf32>)
  return
}

// -----

// A strided host view is staged through a contiguous host buffer, since
// gpu.memcpy copies whole buffers; a zero-sized grid is no work at all.

// CHECK-LABEL: func.func @strided_and_empty
// CHECK-SAME: %[[OA:[^:]+]]: memref<1x4x8xf32, strided<[64, 16, 1]>>
// CHECK: %[[STAGED:.+]] = memref.alloc() : memref<1x4x8xf32>
// CHECK: memref.copy %[[OA]], %[[STAGED]]
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[STAGED]]
// CHECK: gpu.launch async
// CHECK: gpu.wait [%{{.+}}]
// CHECK: memref.dealloc %[[STAGED]]
// CHECK-NOT: gpu.launch
// CHECK-NOT: magicpig.merge
// CHECK: return
func.func @strided_and_empty(%oa: memref<1x4x8xf32, strided<[64, 16, 1]>>, %la: memref<1x4xf32>,
                             %ob: memref<1x4x8xf32>, %lb: memref<1x4xf32>,
                             %o: memref<1x4x8xf32>, %l: memref<1x4xf32>,
                             %e: memref<0x4x8xf32>, %el: memref<0x4xf32>) {
  magicpig.merge ins(%oa, %la, %ob, %lb : memref<1x4x8xf32, strided<[64, 16, 1]>>, memref<1x4xf32>, memref<1x4x8xf32>, memref<1x4xf32>)
                 outs(%o, %l : memref<1x4x8xf32>, memref<1x4xf32>)
  magicpig.merge ins(%e, %el, %e, %el : memref<0x4x8xf32>, memref<0x4xf32>, memref<0x4x8xf32>, memref<0x4xf32>)
                 outs(%e, %el : memref<0x4x8xf32>, memref<0x4xf32>)
  return
}
