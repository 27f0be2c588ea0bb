// Loop structure of the dense lowerings of convert-magicpig-to-scf
// (attention, window_attention, merge, key_norms, center_keys). The numbers
// are checked by test/Integration/CPU/{attention,attention_query_length,
// window_attention,merge,key_norms,center_keys}.mlir.
//
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file \
// RUN: | FileCheck %s

// Decode attention, GQA group of 4, bf16 K/V, dynamic N. The keys are split
// into tasks of 2048 (keys-per-task) whose partial (out, max, sum) live in
// heap buffers; each task runs an online softmax over blocks of 64 keys.
// CHECK-LABEL: func.func @decode_gqa_bf16
// CHECK-SAME: %[[Q:[a-zA-Z0-9]+]]: memref<1x32x128xf32>
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x8x?x128xbf16>
// CHECK-SAME: %[[V:[a-zA-Z0-9]+]]: memref<1x8x?x128xbf16>
// CHECK-SAME: %[[O:[a-zA-Z0-9]+]]: memref<1x32x128xbf16>
// The dynamic N of K and V is checked to agree before the loops.
// CHECK: cf.assert %{{.+}}, "magicpig.attention: sequence length mismatch between 'key' and 'value'"
// CHECK: %[[N:.+]] = memref.dim %[[K]], %{{.+}} : memref<1x8x?x128xbf16>
// CHECK: %[[C2048:.+]] = arith.constant 2048 : index
// CHECK: %[[TASKS:.+]] = arith.ceildivui %[[N]], %[[C2048]] : index
// CHECK: %[[PART:.+]] = memref.alloc(%[[TASKS]]) : memref<1x32x1x?x128xf32>
// CHECK: %[[PMAX:.+]] = memref.alloc(%[[TASKS]]) : memref<1x32x1x?xf32>
// CHECK: %[[PSUM:.+]] = memref.alloc(%[[TASKS]]) : memref<1x32x1x?xf32>
// One parallel iteration per (batch, kv head, query position, task).
// CHECK: scf.parallel (%{{.+}}, %[[G:.+]], %{{.+}}, %[[T:.+]]) = ({{.*}}) to (%{{.+}}, %{{.+}}, %{{.+}}, %[[TASKS]])
// CHECK-NEXT: memref.alloca_scope
// The group's 4 query heads, scaled once, in f32.
// CHECK: %[[QS:.+]] = memref.alloca() : memref<4x128xf32>
// CHECK: vector.transfer_read %[[Q]]
// CHECK: arith.mulf
// CHECK: vector.transfer_write %{{.+}}, %[[QS]]
// CHECK: %[[SCORES:.+]] = memref.alloca() : memref<4x64xf32>
// Scores of 4 keys at a time: their V rows and the next block's K rows are
// prefetched into L2, each K chunk is loaded and widened once for the 4
// heads, and the 16 dot products are reduced by one shuffle tree.
// CHECK: memref.prefetch %[[V]]{{.*}}, read, locality<2>, data
// CHECK: memref.prefetch %[[K]]{{.*}}, read, locality<2>, data
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-4: vector.transfer_read %[[K]]{{.*}} {in_bounds = [true]} : memref<1x8x?x128xbf16>, vector<16xbf16>
// CHECK: arith.extf %{{.+}} : vector<16xbf16> to vector<16xf32>
// CHECK: vector.transfer_read %[[QS]]
// CHECK-COUNT-16: vector.fma
// CHECK: vector.shuffle
// CHECK: arith.addf %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK: %[[ROW0:.+]] = vector.extract_strided_slice %{{.+}} {offsets = [0], sizes = [4], strides = [1]}
// CHECK: vector.store %[[ROW0]], %[[SCORES]]{{.*}} : memref<4x64xf32>, vector<4xf32>
// A block length that is not a multiple of 4 ends with single keys.
// CHECK: scf.for
// CHECK: vector.extract %{{.+}}[0] : f32 from vector<4xf32>
// Online softmax of row 0: block max, rescale factor, probabilities.
// CHECK: vector.reduction <maximumf>
// CHECK: %[[OLDMAX:.+]] = memref.load %[[PMAX]]
// CHECK: %[[NEWMAX:.+]] = arith.maximumf %[[OLDMAX]], %{{.+}} : f32
// CHECK: %[[SHIFT:.+]] = arith.subf %[[OLDMAX]], %[[NEWMAX]] : f32
// CHECK: math.exp %[[SHIFT]] : f32
// CHECK: math.exp %{{.+}} : vector<16xf32>
// CHECK: vector.transfer_write %{{.+}}, %[[SCORES]]
// CHECK: memref.store %[[NEWMAX]], %[[PMAX]]
// CHECK: memref.store %{{.+}}, %[[PSUM]]
// Values: per dv-chunk, 4 accumulators carried over the block's keys; each
// V chunk is loaded once for the 4 heads.
// CHECK: scf.for
// CHECK: vector.transfer_read %[[PART]]
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK: vector.transfer_read %[[V]]{{.*}} : memref<1x8x?x128xbf16>, vector<16xbf16>
// CHECK: memref.load %[[SCORES]]
// CHECK: vector.broadcast
// CHECK: vector.fma
// CHECK: vector.transfer_write %{{.+}}, %[[PART]]
// Merge of the tasks per (batch, query head, query position).
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) =
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[TASKS]]
// CHECK: arith.maximumf
// CHECK: arith.cmpf oeq
// CHECK: math.exp
// CHECK: arith.truncf %{{.+}} : vector<16xf32> to vector<16xbf16>
// CHECK: vector.transfer_write %{{.+}}, %[[O]]
// CHECK: memref.dealloc %[[PART]]
// CHECK: memref.dealloc %[[PMAX]]
// CHECK: memref.dealloc %[[PSUM]]
// CHECK-NOT: magicpig.attention
func.func @decode_gqa_bf16(%q: memref<1x32x128xf32>, %k: memref<1x8x?x128xbf16>,
                           %v: memref<1x8x?x128xbf16>, %o: memref<1x32x128xbf16>) {
  magicpig.attention scale(0.0883883)
    ins(%q, %k, %v : memref<1x32x128xf32>, memref<1x8x?x128xbf16>, memref<1x8x?x128xbf16>)
    outs(%o : memref<1x32x128xbf16>)
  return
}

// -----

// A group of 3 heads (not a power of two) and d = 20: every score is its
// own vector.reduction, and the last 4 lanes of each row are masked.
// CHECK-LABEL: func.func @group3_d20_f16
// CHECK-SAME: %{{[a-zA-Z0-9]+}}: memref<1x6x20xf32>
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x2x?x20xf16>
// CHECK: %[[SCORES:.+]] = memref.alloca() : memref<3x64xf32>
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK: vector.transfer_read %[[K]]{{.*}} {in_bounds = [true]} : memref<1x2x?x20xf16>, vector<16xf16>
// CHECK: %[[TAIL:.+]] = vector.create_mask %{{.+}} : vector<16xi1>
// CHECK: vector.transfer_read %[[K]]{{.*}}, %[[TAIL]] {in_bounds = [true]} : memref<1x2x?x20xf16>, vector<16xf16>
// CHECK-COUNT-3: vector.fma
// CHECK: vector.reduction <add>, %{{.+}} : vector<16xf32> into f32
// CHECK: memref.store %{{.+}}, %[[SCORES]]
// CHECK: vector.reduction <add>, %{{.+}} : vector<16xf32> into f32
// CHECK: memref.store %{{.+}}, %[[SCORES]]
// CHECK: vector.reduction <add>, %{{.+}} : vector<16xf32> into f32
// CHECK: memref.store %{{.+}}, %[[SCORES]]
func.func @group3_d20_f16(%q: memref<1x6x20xf32>, %k: memref<1x2x?x20xf16>,
                          %v: memref<1x2x?x20xf16>, %o: memref<1x6x20xf32>) {
  magicpig.attention scale(0.25)
    ins(%q, %k, %v : memref<1x6x20xf32>, memref<1x2x?x20xf16>, memref<1x2x?x20xf16>)
    outs(%o : memref<1x6x20xf32>)
  return
}

// -----

// Causal attention over S = 3 queries: tasks take S * 2048 keys, and query
// position s stops at key N - S + s.
// CHECK-LABEL: func.func @prefill_causal
// CHECK-SAME: %{{[a-zA-Z0-9]+}}: memref<1x4x3x20xf32>
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x2x?x20xf32>
// CHECK: cf.assert %{{.+}}, "magicpig.attention: sequence length mismatch between 'key' and 'value'"
// CHECK: cf.assert %{{.+}}, "magicpig.attention: causal attention needs at least as many keys as queries"
// CHECK: %[[N:.+]] = memref.dim %[[K]]
// CHECK: %[[C6144:.+]] = arith.constant 6144 : index
// CHECK: %[[TASKS:.+]] = arith.ceildivui %[[N]], %[[C6144]] : index
// CHECK: memref.alloc(%[[TASKS]]) : memref<1x4x3x?x20xf32>
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %[[S:.+]], %{{.+}}) = ({{.*}}) to (%{{.+}}, %{{.+}}, %[[C3:.+]], %[[TASKS]])
// CHECK: %[[END:.+]] = arith.minsi %{{.+}}, %{{.+}} : index
// CHECK: %[[BACK:.+]] = arith.subi %[[N]], %[[C3]] : index
// CHECK: %[[NEXT:.+]] = arith.addi %[[S]], %{{.+}} : index
// CHECK: %[[LIMIT:.+]] = arith.addi %[[BACK]], %[[NEXT]] : index
// CHECK: %[[CAUSAL:.+]] = arith.minsi %[[END]], %[[LIMIT]] : index
// CHECK: arith.maxsi %[[CAUSAL]], %{{.+}} : index
func.func @prefill_causal(%q: memref<1x4x3x20xf32>, %k: memref<1x2x?x20xf32>,
                          %v: memref<1x2x?x20xf32>, %o: memref<1x4x3x20xf32>) {
  magicpig.attention scale(0.5) causal
    ins(%q, %k, %v : memref<1x4x3x20xf32>, memref<1x2x?x20xf32>, memref<1x2x?x20xf32>)
    outs(%o : memref<1x4x3x20xf32>)
  return
}

// -----

// Window attention: tasks over the segments [0, min(sink, N)) and
// [min(max(window_start, sink), N), N); the lse is -inf when no key is
// attended.
// CHECK-LABEL: func.func @window
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x2x?x64xf16>
// CHECK-SAME: %[[WS:[a-zA-Z0-9]+]]: index
// CHECK-SAME: %[[LSE:[a-zA-Z0-9]+]]: memref<1x4xf32>
// CHECK: cf.assert %{{.+}}, "magicpig.window_attention: sequence length mismatch between 'key' and 'value'"
// CHECK: %[[N:.+]] = memref.dim %[[K]]
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: %[[SINKEND:.+]] = arith.minsi %[[N]], %[[C4]] : index
// CHECK: %[[WIN:.+]] = arith.maxsi %[[WS]], %[[C4]] : index
// CHECK: %[[WINBEGIN:.+]] = arith.minsi %[[WIN]], %[[N]] : index
// CHECK: %[[SINKTASKS:.+]] = arith.ceildivui %[[SINKEND]], %{{.+}} : index
// CHECK: %[[WINLEN:.+]] = arith.subi %[[N]], %[[WINBEGIN]] : index
// CHECK: %[[WINTASKS:.+]] = arith.ceildivui %[[WINLEN]], %{{.+}} : index
// CHECK: %[[TASKS:.+]] = arith.addi %[[SINKTASKS]], %[[WINTASKS]] : index
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}, %[[T:.+]]) = ({{.*}}) to (%{{.+}}, %{{.+}}, %{{.+}}, %[[TASKS]])
// CHECK: %[[INSINK:.+]] = arith.cmpi ult, %[[T]], %[[SINKTASKS]] : index
// CHECK: arith.select %[[INSINK]], %{{.+}}, %[[WINBEGIN]] : index
// CHECK: arith.select %[[INSINK]], %[[SINKEND]], %[[N]] : index
// CHECK: scf.parallel
// CHECK: arith.cmpf ogt
// CHECK: %[[NONEMPTY:.+]] = arith.cmpf ogt
// CHECK: %[[LOG:.+]] = math.log
// CHECK: %[[L:.+]] = arith.addf %{{.+}}, %[[LOG]] : f32
// CHECK: %[[SEL:.+]] = arith.select %[[NONEMPTY]], %[[L]], %{{.+}} : f32
// CHECK: memref.store %[[SEL]], %[[LSE]]
func.func @window(%q: memref<1x4x64xf32>, %k: memref<1x2x?x64xf16>,
                  %v: memref<1x2x?x64xf16>, %ws: index,
                  %o: memref<1x4x64xf32>, %lse: memref<1x4xf32>) {
  magicpig.window_attention sink(4) window_start(%ws) scale(0.125)
    ins(%q, %k, %v : memref<1x4x64xf32>, memref<1x2x?x64xf16>, memref<1x2x?x64xf16>)
    outs(%o, %lse : memref<1x4x64xf32>, memref<1x4xf32>)
  return
}

// -----

// Merge: weights relative to the larger lse, selected to 0 (and lse to
// -inf) when both sides are -inf, then one fma per chunk.
// CHECK-LABEL: func.func @merge
// CHECK-SAME: %[[OA:[a-zA-Z0-9]+]]: memref<2x8x20xbf16>, %[[LA:[a-zA-Z0-9]+]]: memref<2x8xf32>
// CHECK-SAME: %[[OB:[a-zA-Z0-9]+]]: memref<2x8x20xf32>, %[[LB:[a-zA-Z0-9]+]]: memref<2x8xf32>
// CHECK-SAME: %[[O:[a-zA-Z0-9]+]]: memref<2x8x20xf32>, %[[L:[a-zA-Z0-9]+]]: memref<2x8xf32>
// CHECK: scf.parallel (%[[B:.+]], %[[H:.+]]) =
// CHECK: %[[A:.+]] = memref.load %[[LA]][%[[B]], %[[H]]]
// CHECK: %[[C:.+]] = memref.load %[[LB]][%[[B]], %[[H]]]
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[M:.+]] = arith.maximumf %[[A]], %[[C]] : f32
// CHECK: %[[EMPTY:.+]] = arith.cmpf oeq, %[[M]], %[[NEGINF]] : f32
// CHECK: %[[WA:.+]] = math.exp
// CHECK: %[[WB:.+]] = math.exp
// CHECK: %[[SUM:.+]] = arith.addf %[[WA]], %[[WB]] : f32
// CHECK: arith.select %[[EMPTY]]
// CHECK: arith.select %[[EMPTY]]
// CHECK: %[[LSE:.+]] = arith.select %[[EMPTY]], %[[NEGINF]], %{{.+}} : f32
// CHECK: memref.store %[[LSE]], %[[L]][%[[B]], %[[H]]]
// CHECK: %[[X:.+]] = vector.transfer_read %[[OA]]{{.*}} : memref<2x8x20xbf16>, vector<16xbf16>
// CHECK: arith.extf %[[X]]
// CHECK: vector.transfer_read %[[OB]]
// CHECK: vector.fma
// CHECK: vector.transfer_write %{{.+}}, %[[O]]
// CHECK: vector.create_mask
func.func @merge(%oa: memref<2x8x20xbf16>, %la: memref<2x8xf32>,
                 %ob: memref<2x8x20xf32>, %lb: memref<2x8xf32>,
                 %o: memref<2x8x20xf32>, %l: memref<2x8xf32>) {
  magicpig.merge
    ins(%oa, %la, %ob, %lb : memref<2x8x20xbf16>, memref<2x8xf32>,
                             memref<2x8x20xf32>, memref<2x8xf32>)
    outs(%o, %l : memref<2x8x20xf32>, memref<2x8xf32>)
  return
}

// -----

// Key norms: one parallel iteration per key, sum of squares on vectors.
// CHECK-LABEL: func.func @key_norms
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x8x?x128xbf16>, %[[N:[a-zA-Z0-9]+]]: memref<1x8x?xf32>
// CHECK: scf.parallel (%[[B:.+]], %[[G:.+]], %[[J:.+]]) =
// CHECK: %[[X:.+]] = vector.transfer_read %[[K]][%[[B]], %[[G]], %[[J]], %{{.+}}]
// CHECK: %[[XF:.+]] = arith.extf %[[X]]
// CHECK: vector.fma %[[XF]], %[[XF]]
// CHECK: %[[SQ:.+]] = vector.reduction <add>
// CHECK: %[[NORM:.+]] = math.sqrt %[[SQ]] : f32
// CHECK: memref.store %[[NORM]], %[[N]][%[[B]], %[[G]], %[[J]]]
func.func @key_norms(%k: memref<1x8x?x128xbf16>, %n: memref<1x8x?xf32>) {
  magicpig.key_norms ins(%k : memref<1x8x?x128xbf16>) outs(%n : memref<1x8x?xf32>)
  return
}

// -----

// Key centering: the mean over [sink, N - window) per (batch, kv head),
// summed block by block, scaled by 1 / |M| (0 when M is empty); then every
// key minus the mean.
// CHECK-LABEL: func.func @center_keys
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x2x?x20xf32>, %[[C:[a-zA-Z0-9]+]]: memref<1x2x?x20xbf16>, %[[M:[a-zA-Z0-9]+]]: memref<1x2x20xf32>
// CHECK: cf.assert %{{.+}}, "magicpig.center_keys: sequence length mismatch between 'key' and 'centered'"
// CHECK: %[[N:.+]] = memref.dim %[[K]]
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: %[[LAST:.+]] = arith.subi %[[N]], %{{.+}} : index
// CHECK: %[[SPAN:.+]] = arith.subi %[[LAST]], %[[C4]] : index
// CHECK: %[[COUNT:.+]] = arith.maxsi %[[SPAN]], %{{.+}} : index
// CHECK: %[[END:.+]] = arith.addi %[[COUNT]], %[[C4]] : index
// CHECK: %[[C64:.+]] = arith.constant 64 : index
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) =
// CHECK: vector.transfer_write %{{.+}}, %[[M]]
// CHECK: scf.for %{{.+}} = %[[C4]] to %[[END]] step %[[C64]]
// CHECK: vector.transfer_read %[[K]]
// CHECK: arith.addf
// CHECK: vector.transfer_write %{{.+}}, %[[M]]
// CHECK: %[[NONEMPTY:.+]] = arith.cmpi ugt, %[[COUNT]], %{{.+}} : index
// CHECK: arith.select %[[NONEMPTY]]
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) =
// CHECK: %[[KV:.+]] = vector.transfer_read %[[K]]
// CHECK: %[[MV:.+]] = vector.transfer_read %[[M]]
// CHECK: %[[D:.+]] = arith.subf %[[KV]], %[[MV]] : vector<16xf32>
// CHECK: %[[DT:.+]] = arith.truncf %[[D]] : vector<16xf32> to vector<16xbf16>
// CHECK: vector.transfer_write %[[DT]], %[[C]]
func.func @center_keys(%k: memref<1x2x?x20xf32>, %c: memref<1x2x?x20xbf16>,
                       %m: memref<1x2x20xf32>) {
  magicpig.center_keys sink(4) window(8)
    ins(%k : memref<1x2x?x20xf32>)
    outs(%c, %m : memref<1x2x?x20xbf16>, memref<1x2x20xf32>)
  return
}
