// RUN: magicpig-opt %s --convert-magicpig-to-gpu -split-input-file | FileCheck %s
// RUN: magicpig-opt %s --convert-magicpig-to-gpu="chip=sm_80 threads-per-block=256" -split-input-file \
// RUN: | FileCheck %s --check-prefix=T256
// RUN: magicpig-opt %s --convert-magicpig-to-gpu -canonicalize -cse -split-input-file \
// RUN: | FileCheck %s --check-prefix=XFER

// merge: grid (Hq, B), threads stride over the value dim; every input is
// copied to the device, every output back, all on one stream that a
// blocking gpu.wait closes.

// CHECK-LABEL: func.func @merge
// CHECK-SAME: (%[[OA:[^:]+]]: memref<2x4x8xf32>, %[[LA:[^:]+]]: memref<2x4xf32>, %[[OB:[^:]+]]: memref<2x4x8xf32>, %[[LB:[^:]+]]: memref<2x4xf32>, %[[O:[^:]+]]: memref<2x4x8xf32>, %[[L:[^:]+]]: memref<2x4xf32>)
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK-NOT: cf.assert
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
// Only the sink and window rows of K/V go to the device, in compact
// buffers (their transfers are pinned by the XFER checks below).

// CHECK-LABEL: func.func @window_attention
// CHECK-SAME: %[[Q:[^:]+]]: memref<2x4x16xf32>, %[[K:[^:]+]]: memref<2x2x64x16xf32>, %[[V:[^:]+]]: memref<2x2x64x16xf32>, %[[WS:[^:]+]]: index, %[[O:[^:]+]]: memref<2x4x16xf32>, %[[L:[^:]+]]: memref<2x4xf32>
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: arith.maxsi %[[WS]]
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[Q]]
// CHECK: gpu.memcpy async [%{{.+}}] %[[DK:.+]], %{{.+}} : memref<2x2x?x16xf32>, memref<2x2x?x16xf32>
// CHECK: gpu.memcpy async [%{{.+}}] %[[DV:.+]], %{{.+}} : memref<2x2x?x16xf32>, memref<2x2x?x16xf32>
// CHECK: %[[DO:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4x16xf32>
// CHECK: %[[DL:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4xf32>
// CHECK: %[[ACC:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<2x4x1x16xf32>
// CHECK: gpu.launch async [%{{.+}}] blocks(%[[POS:.+]], %[[H:.+]], %[[B:.+]]) in (%{{.+}} = %[[C1]], %{{.+}} = %[[C4]], %{{.+}} = %[[C2]])
// CHECK-SAME: workgroup(%[[RED:.+]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[P:.+]] : memref<128xf32, #gpu.address_space<workgroup>>)
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

// The transfers (after canonicalize + cse). The key set is
// [0, 4) U [WB, 64) with WB = min(max(ws, 4), 64): the host copies sink
// rows r < 4 of K to compact rows r and window rows WB + r, r < 64 - WB, to
// compact rows 4 + r of a contiguous [2, 2, max(LIVE, 1), 16] buffer
// (LIVE = 4 + 64 - WB; one row at least, so an empty set makes no
// zero-byte copy), the same for V; only those buffers and the query are
// copied to the device, never the whole K/V. The kernel attends to the
// LIVE compact rows in order, reading compact row t directly.

// XFER-LABEL: func.func @window_attention
// XFER-SAME: %[[Q:[^:]+]]: memref<2x4x16xf32>, %[[K:[^:]+]]: memref<2x2x64x16xf32>, %[[V:[^:]+]]: memref<2x2x64x16xf32>, %[[WS:[^:]+]]: index
// XFER-DAG: %[[C0:.+]] = arith.constant 0 : index
// XFER-DAG: %[[C1:.+]] = arith.constant 1 : index
// XFER-DAG: %[[C4:.+]] = arith.constant 4 : index
// XFER-DAG: %[[C16:.+]] = arith.constant 16 : index
// XFER-DAG: %[[C64:.+]] = arith.constant 64 : index
// XFER-DAG: %[[C68:.+]] = arith.constant 68 : index
// XFER-NOT: gpu.memcpy
// XFER: %[[LO:.+]] = arith.maxsi %[[WS]], %[[C4]] : index
// XFER: %[[WB:.+]] = arith.minsi %[[LO]], %[[C64]] : index
// XFER: %[[WL:.+]] = arith.subi %[[C64]], %[[WB]] : index
// XFER: %[[LIVE:.+]] = arith.subi %[[C68]], %[[WB]] : index
// XFER: %[[ROWS:.+]] = arith.maxsi %[[LIVE]], %[[C1]] : index
// XFER: %[[CK:.+]] = memref.alloc(%[[ROWS]]) : memref<2x2x?x16xf32>
// XFER: scf.for %[[B0:.+]] = %[[C0]] to
// XFER-NEXT: scf.for %[[H0:.+]] = %[[C0]] to
// XFER-NEXT: scf.for %[[R0:.+]] = %[[C0]] to %[[C4]] step %[[C1]] {
// XFER-NEXT: scf.for %[[E0:.+]] = %[[C0]] to %[[C16]] step %[[C1]] {
// XFER-NEXT: %[[X0:.+]] = memref.load %[[K]][%[[B0]], %[[H0]], %[[R0]], %[[E0]]]
// XFER-NEXT: memref.store %[[X0]], %[[CK]][%[[B0]], %[[H0]], %[[R0]], %[[E0]]]
// XFER: scf.for %[[B1:.+]] = %[[C0]] to
// XFER-NEXT: scf.for %[[H1:.+]] = %[[C0]] to
// XFER-NEXT: scf.for %[[R1:.+]] = %[[C0]] to %[[WL]] step %[[C1]] {
// XFER-NEXT: scf.for %[[E1:.+]] = %[[C0]] to %[[C16]] step %[[C1]] {
// XFER-NEXT: %[[FROM:.+]] = arith.addi %[[WB]], %[[R1]] : index
// XFER-NEXT: %[[TO:.+]] = arith.addi %[[R1]], %[[C4]] : index
// XFER-NEXT: %[[X1:.+]] = memref.load %[[K]][%[[B1]], %[[H1]], %[[FROM]], %[[E1]]]
// XFER-NEXT: memref.store %[[X1]], %[[CK]][%[[B1]], %[[H1]], %[[TO]], %[[E1]]]
// XFER: %[[CV:.+]] = memref.alloc(%[[ROWS]]) : memref<2x2x?x16xf32>
// XFER: scf.for %{{.+}} = %[[C0]] to %[[C4]] step %[[C1]] {
// XFER: memref.load %[[V]]
// XFER: scf.for %{{.+}} = %[[C0]] to %[[WL]] step %[[C1]] {
// XFER: memref.load %[[V]]
// XFER-NOT: gpu.memcpy
// XFER: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[Q]]
// XFER-NEXT: %[[DK:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] (%[[ROWS]]) : memref<2x2x?x16xf32>
// XFER-NEXT: gpu.memcpy async [%{{.+}}] %[[DK]], %[[CK]] : memref<2x2x?x16xf32>, memref<2x2x?x16xf32>
// XFER-NEXT: %[[DV:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] (%[[ROWS]]) : memref<2x2x?x16xf32>
// XFER-NEXT: gpu.memcpy async [%{{.+}}] %[[DV]], %[[CV]] : memref<2x2x?x16xf32>, memref<2x2x?x16xf32>
// XFER-NOT: gpu.memcpy
// XFER: gpu.launch async
// XFER: %[[COUNT:.+]] = arith.maxsi %[[LIVE]], %[[C0]] : index
// XFER: scf.for %[[CHUNK:.+]] = %[[C0]] to %[[COUNT]] step
// XFER: %[[T:.+]] = arith.addi %[[CHUNK]], %{{.+}} : index
// XFER: %[[ROW:.+]] = arith.minsi %[[T]], %{{.+}} : index
// XFER: memref.load %[[DK]][%{{.+}}, %{{.+}}, %[[ROW]], %{{.+}}] : memref<2x2x?x16xf32>
// XFER: memref.load %[[DV]]
// XFER: gpu.terminator
// XFER: gpu.wait [%{{.+}}]
// XFER-NEXT: memref.dealloc %[[CK]]
// XFER-NEXT: memref.dealloc %[[CV]]
func.func @window_attention(%q: memref<2x4x16xf32>, %k: memref<2x2x64x16xf32>,
                            %v: memref<2x2x64x16xf32>, %ws: index,
                            %o: memref<2x4x16xf32>, %l: memref<2x4xf32>) {
  magicpig.window_attention sink(4) window_start(%ws) scale(0.25)
    ins(%q, %k, %v : memref<2x4x16xf32>, memref<2x2x64x16xf32>, memref<2x2x64x16xf32>)
    outs(%o, %l : memref<2x4x16xf32>, memref<2x4xf32>)
  return
}

// -----

// A dynamic context N (window_start and N both known at run time only) and
// bf16 K/V: the sink length S' = min(4, N), the window start
// WB = min(max(ws, 4), N), its length N - WB and the compact size come from
// memref.dim at run time (N < 4, ws > N, an empty window: the same formulas
// as the CPU lowering); the compact buffers keep bf16, so the bytes that
// cross PCIe are 2 * B * Hkv * (S' + N - WB) * d * 2.

// XFER-LABEL: func.func @window_attention_dynamic
// XFER-SAME: %[[K:[^:]+]]: memref<1x2x?x16xbf16>, %[[V:[^:]+]]: memref<1x2x?x16xbf16>, %[[WS:[^:]+]]: index
// XFER-DAG: %[[C0:.+]] = arith.constant 0 : index
// XFER-DAG: %[[C1:.+]] = arith.constant 1 : index
// XFER-DAG: %[[C2:.+]] = arith.constant 2 : index
// XFER-DAG: %[[C4:.+]] = arith.constant 4 : index
// XFER: %[[N:.+]] = memref.dim %[[K]], %[[C2]] : memref<1x2x?x16xbf16>
// XFER: %[[SINK:.+]] = arith.minsi %[[N]], %[[C4]] : index
// XFER: %[[LO:.+]] = arith.maxsi %[[WS]], %[[C4]] : index
// XFER: %[[WB:.+]] = arith.minsi %[[LO]], %[[N]] : index
// XFER: %[[WL:.+]] = arith.subi %[[N]], %[[WB]] : index
// XFER: %[[LIVE:.+]] = arith.addi %[[SINK]], %[[WL]] : index
// XFER: %[[ROWS:.+]] = arith.maxsi %[[LIVE]], %[[C1]] : index
// XFER: %[[CK:.+]] = memref.alloc(%[[ROWS]]) : memref<1x2x?x16xbf16>
// XFER: scf.for %{{.+}} = %[[C0]] to %[[SINK]] step %[[C1]] {
// XFER: scf.for %[[R1:.+]] = %[[C0]] to %[[WL]] step %[[C1]] {
// XFER: %[[FROM:.+]] = arith.addi %[[WB]], %[[R1]] : index
// XFER-NEXT: %[[TO:.+]] = arith.addi %[[SINK]], %[[R1]] : index
// XFER-NEXT: %[[X:.+]] = memref.load %[[K]][%[[C0]], %{{.+}}, %[[FROM]], %{{.+}}] : memref<1x2x?x16xbf16>
// XFER-NEXT: memref.store %[[X]], %[[CK]][%[[C0]], %{{.+}}, %[[TO]], %{{.+}}] : memref<1x2x?x16xbf16>
// XFER: %[[CV:.+]] = memref.alloc(%[[ROWS]]) : memref<1x2x?x16xbf16>
// XFER-NOT: gpu.memcpy {{.*}}%[[K]]
// XFER-NOT: gpu.memcpy {{.*}}%[[V]]
// XFER: %[[DK:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] (%[[ROWS]]) : memref<1x2x?x16xbf16>
// XFER-NEXT: gpu.memcpy async [%{{.+}}] %[[DK]], %[[CK]] : memref<1x2x?x16xbf16>, memref<1x2x?x16xbf16>
// XFER-NEXT: %[[DV:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] (%[[ROWS]]) : memref<1x2x?x16xbf16>
// XFER-NEXT: gpu.memcpy async [%{{.+}}] %[[DV]], %[[CV]] : memref<1x2x?x16xbf16>, memref<1x2x?x16xbf16>
// XFER-NOT: gpu.memcpy {{.*}}%[[K]]
// XFER-NOT: gpu.memcpy {{.*}}%[[V]]
// XFER: gpu.launch async
// XFER: arith.maxsi %[[LIVE]], %[[C0]] : index
// XFER: memref.load %[[DK]]
// XFER: arith.extf %{{.+}} : bf16 to f32
// XFER: gpu.wait [%{{.+}}]
func.func @window_attention_dynamic(%q: memref<1x4x16xf32>, %k: memref<1x2x?x16xbf16>,
                                    %v: memref<1x2x?x16xbf16>, %ws: index,
                                    %o: memref<1x4x16xf32>, %l: memref<1x4xf32>) {
  magicpig.window_attention sink(4) window_start(%ws) scale(0.25)
    ins(%q, %k, %v : memref<1x4x16xf32>, memref<1x2x?x16xbf16>, memref<1x2x?x16xbf16>)
    outs(%o, %l : memref<1x4x16xf32>, memref<1x4xf32>)
  return
}

// -----

// Exact attention with a query-length dim (prefill of a dense layer):
// grid (S, Hq, B); causal, so the key count depends on the block's query
// position; bf16 K/V are widened to f32. It reads every key, so the whole
// K and V are copied.

// CHECK-LABEL: func.func @attention_causal_bf16
// CHECK-SAME: %[[Q:[^:]+]]: memref<1x8x32x64xf32>, %[[K:[^:]+]]: memref<1x2x128x64xbf16>, %[[V:[^:]+]]: memref<1x2x128x64xbf16>
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : index
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[K]] : memref<1x2x128x64xbf16>, memref<1x2x128x64xbf16>
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[V]] : memref<1x2x128x64xbf16>, memref<1x2x128x64xbf16>
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

// A sliding window of 16: the block of query position s loops over keys
// [max(0, N - S + s + 1 - 16), N - S + s + 1) only (count = end - begin),
// not from key 0.

// CHECK-LABEL: func.func @attention_sliding_window
// CHECK: gpu.launch async [%{{.+}}] blocks(%[[POS:[a-z0-9]+]], %{{.+}}, %{{.+}}) in
// CHECK:   %[[SHIFT:.+]] = arith.addi %[[POS]], %{{.+}} : index
// CHECK:   %[[LIMIT:.+]] = arith.addi %{{.+}}, %[[SHIFT]] : index
// CHECK:   %[[C16:.+]] = arith.constant 16 : index
// CHECK:   %[[BACK:.+]] = arith.subi %[[LIMIT]], %[[C16]] : index
// CHECK:   %[[BEGIN:.+]] = arith.maxsi %[[BACK]], %{{.+}} : index
// CHECK:   %[[END:.+]] = arith.minsi %{{.+}}, %[[LIMIT]] : index
// CHECK:   %[[CLAMPED:.+]] = arith.maxsi %[[END]], %[[BEGIN]] : index
// CHECK:   arith.subi %[[CLAMPED]], %[[BEGIN]] : index
// CHECK-NOT: magicpig.attention
func.func @attention_sliding_window(%q: memref<1x8x32x64xf32>, %k: memref<1x2x128x64xf32>,
                                    %v: memref<1x2x128x64xf32>, %o: memref<1x8x32x64xf32>) {
  magicpig.attention scale(0.125) causal window(16)
    ins(%q, %k, %v : memref<1x8x32x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>)
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

// -----

// Dynamic sizes that must agree are checked on the host before any
// transfer (static ones by the verifier: @merge above has no check).
// CHECK-LABEL: func.func @merge_dynamic_heads
// CHECK: cf.assert %{{.+}}, "magicpig.merge: output shape mismatch between 'output_a' and 'output_b'"
// CHECK: cf.assert %{{.+}}, "magicpig.merge: lse shape mismatch between 'output_a' and 'lse_a'"
// CHECK: gpu.wait async
// CHECK: gpu.launch
func.func @merge_dynamic_heads(%oa: memref<1x?x8xf32>, %la: memref<1x?xf32>,
                               %ob: memref<1x?x8xf32>, %lb: memref<1x4xf32>,
                               %o: memref<1x4x8xf32>, %l: memref<1x4xf32>) {
  magicpig.merge ins(%oa, %la, %ob, %lb : memref<1x?x8xf32>, memref<1x?xf32>, memref<1x?x8xf32>, memref<1x4xf32>)
                 outs(%o, %l : memref<1x4x8xf32>, memref<1x4xf32>)
  return
}
