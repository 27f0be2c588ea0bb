// Loop structure of the retrieve and estimate lowerings. The numbers are
// checked by test/Integration/CPU/{retrieve,estimate,edge_cases}.mlir.
//
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file \
// RUN: | FileCheck %s

// Per (b, h): byte counters on the heap, zeroed with vector stores; the
// query's bucket of each table walked with clamped bounds and token
// indices checked before use; then a scan of 64 counters per vector whose
// hit mask is walked with cttz, writing at most C candidates.
// CHECK-LABEL: func.func @retrieve
// CHECK-SAME: %[[QC:[a-zA-Z0-9]+]]: memref<1x32x150xi16>
// CHECK-SAME: %[[OFF:[a-zA-Z0-9]+]]: memref<1x8x150x1025xi32>
// CHECK-SAME: %[[IDX:[a-zA-Z0-9]+]]: memref<1x8x150x?xi32>
// CHECK-SAME: %[[CAND:[a-zA-Z0-9]+]]: memref<1x32x?xi32>
// CHECK-SAME: %[[COUNTS:[a-zA-Z0-9]+]]: memref<1x32xi32>
// CHECK: %[[N:.+]] = memref.dim %[[IDX]]
// CHECK: %[[CAP:.+]] = memref.dim %[[CAND]]
// CHECK: scf.parallel (%[[B:.+]], %[[H:.+]]) =
// CHECK: %[[HITS:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK: vector.transfer_write %{{.+}}, %[[HITS]]{{.*}} : vector<64xi8>, memref<?xi8>
// CHECK: scf.for %[[L:.+]] =
// CHECK: %[[CODE:.+]] = memref.load %[[QC]][%[[B]], %[[H]], %[[L]]]
// CHECK: %[[BUCKET:.+]] = arith.andi %[[CODE]], %{{.+}} : i16
// CHECK: memref.load %[[OFF]]
// CHECK: arith.minsi %{{.+}}, %[[N]] : index
// CHECK: memref.load %[[OFF]]
// CHECK: scf.for
// CHECK: %[[J:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[VALID:.+]] = arith.cmpi ult, %[[J]], %[[N]] : index
// CHECK: scf.if %[[VALID]] {
// CHECK: memref.load %[[HITS]][%[[J]]]
// CHECK: arith.addi %{{.+}}, %{{.+}} : i8
// CHECK: %[[COUNTERS:.+]] = vector.load %[[HITS]][%{{.+}}] : memref<?xi8>, vector<64xi8>
// CHECK: %[[SEL:.+]] = arith.cmpi uge, %[[COUNTERS]], %{{.+}} : vector<64xi8>
// CHECK: vector.bitcast %[[SEL]] : vector<64xi1> to vector<1xi64>
// CHECK: scf.while
// CHECK: math.cttz %{{.+}} : i64
// CHECK: %[[ROOM:.+]] = arith.cmpi ult, %{{.+}}, %[[CAP]] : index
// CHECK: scf.if %[[ROOM]] {
// CHECK: memref.store %{{.+}}, %[[CAND]]
// CHECK: memref.store %{{.+}}, %[[COUNTS]][%{{.+}}, %[[H]]]
// CHECK: memref.dealloc %[[HITS]]
// CHECK-NOT: magicpig.retrieve
func.func @retrieve(%qc: memref<1x32x150xi16>, %off: memref<1x8x150x1025xi32>,
                    %idx: memref<1x8x150x?xi32>, %cand: memref<1x32x?xi32>,
                    %counts: memref<1x32xi32>) {
  magicpig.retrieve bits(10) min_collisions(2)
    ins(%qc, %off, %idx : memref<1x32x150xi16>, memref<1x8x150x1025xi32>, memref<1x8x150x?xi32>)
    outs(%cand, %counts : memref<1x32x?xi32>, memref<1x32xi32>)
  return
}

// -----

// More than 255 tables: 16-bit counters, 32 per vector.
// CHECK-LABEL: func.func @retrieve_many_tables
// CHECK: memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xi16>
// CHECK: vector.load %{{.+}} : memref<?xi16>, vector<32xi16>
// CHECK: vector.bitcast %{{.+}} : vector<32xi1> to vector<1xi32>
func.func @retrieve_many_tables(%qc: memref<1x2x300xi8>, %off: memref<1x1x300x3xi64>,
                                %idx: memref<1x1x300x40xi64>, %cand: memref<1x2x40xi64>,
                                %counts: memref<1x2xi64>) {
  magicpig.retrieve bits(1) min_collisions(160)
    ins(%qc, %off, %idx : memref<1x2x300xi8>, memref<1x1x300x3xi64>, memref<1x1x300x40xi64>)
    outs(%cand, %counts : memref<1x2x40xi64>, memref<1x2xi64>)
  return
}

// -----

// Per (b, h): the query in f32 and its norm; per candidate (prefetching the
// key row 8 candidates ahead) a bf16 dot product in f32 vectors, giving
// the score base and the cosine; then, across candidates in vectors,
// acos, the collision probability (f64) and log; the max; exp and the
// sum; per valid candidate an axpy of its value row (prefetched too); the
// normalized output and lse, or out = 0 and lse = -inf when nothing valid
// was sampled.
// CHECK-LABEL: func.func @estimate
// CHECK-SAME: %[[Q:[a-zA-Z0-9]+]]: memref<1x32x128xbf16>
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x8x?x128xbf16>
// CHECK-SAME: %[[V:[a-zA-Z0-9]+]]: memref<1x8x?x128xbf16>
// CHECK-SAME: %[[NORMS:[a-zA-Z0-9]+]]: memref<1x8x?xf32>
// CHECK-SAME: %[[MEAN:[a-zA-Z0-9]+]]: memref<1x8x128xf32>
// CHECK-SAME: %[[CAND:[a-zA-Z0-9]+]]: memref<1x32x?xi32>
// CHECK-SAME: %[[COUNTS:[a-zA-Z0-9]+]]: memref<1x32xi32>
// CHECK-SAME: %[[OUT:[a-zA-Z0-9]+]]: memref<1x32x128xf32>
// CHECK-SAME: %[[LSE:[a-zA-Z0-9]+]]: memref<1x32xf32>
// CHECK: scf.parallel (%[[B:.+]], %[[H:.+]]) =
// CHECK: memref.alloca_scope
// CHECK: memref.load %[[COUNTS]][%[[B]], %[[H]]]
// CHECK: %[[QS:.+]] = memref.alloca(%{{.+}}) : memref<?xf32>
// CHECK: math.sqrt
// CHECK: vector.transfer_read %[[MEAN]]
// CHECK: %[[BASE:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: %[[COS:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: memref.prefetch %[[K]]{{.*}}, read, locality<3>, data
// CHECK: scf.if %{{.+}} -> (f32, f32) {
// CHECK: vector.transfer_read %[[K]]{{.*}} : memref<1x8x?x128xbf16>, vector<16xbf16>
// CHECK: vector.fma
// CHECK: memref.load %[[NORMS]]
// CHECK: arith.divf
// CHECK: } else {
// CHECK: math.acos %{{.+}} : vector<16xf32>
// CHECK: arith.extf %{{.+}} : vector<16xf32> to vector<16xf64>
// CHECK: math.log %{{.+}} : vector<16xf32>
// CHECK: %[[M:.+]] = vector.reduction <maximumf>
// CHECK: %[[ANY:.+]] = arith.cmpf une, %[[M]], %{{.+}} : f32
// CHECK: scf.if %[[ANY]] {
// CHECK: math.exp %{{.+}} : vector<16xf32>
// CHECK: memref.prefetch %[[V]]
// CHECK: vector.transfer_read %[[V]]
// CHECK: vector.fma
// CHECK: vector.transfer_write %{{.+}}, %[[OUT]]
// CHECK: math.log
// CHECK: memref.store %{{.+}}, %[[LSE]]
// CHECK: } else {
// CHECK: vector.transfer_write %{{.+}}, %[[OUT]]
// CHECK: memref.store %{{.+}}, %[[LSE]]
// CHECK: memref.dealloc %[[BASE]]
// CHECK: memref.dealloc %[[COS]]
// CHECK-NOT: magicpig.estimate
func.func @estimate(%q: memref<1x32x128xbf16>, %k: memref<1x8x?x128xbf16>,
                    %v: memref<1x8x?x128xbf16>, %n: memref<1x8x?xf32>,
                    %m: memref<1x8x128xf32>, %cand: memref<1x32x?xi32>,
                    %counts: memref<1x32xi32>, %out: memref<1x32x128xf32>,
                    %lse: memref<1x32xf32>) {
  magicpig.estimate bits(10) tables(150) min_collisions(2) scale(0.088388)
    ins(%q, %k, %v, %n, %m, %cand, %counts : memref<1x32x128xbf16>, memref<1x8x?x128xbf16>, memref<1x8x?x128xbf16>, memref<1x8x?xf32>, memref<1x8x128xf32>, memref<1x32x?xi32>, memref<1x32xi32>)
    outs(%out, %lse : memref<1x32x128xf32>, memref<1x32xf32>)
  return
}
