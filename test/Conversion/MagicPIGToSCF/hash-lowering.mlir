// Loop structure of the simhash and build_tables lowerings. The numbers
// are checked by test/Integration/CPU/{simhash,build_tables}.mlir.
//
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file \
// RUN: | FileCheck %s

// A tile of 4 rows (widened to f32 once) against groups of 2 x 16
// projection columns: 8 vector accumulators carried through the loop over
// d, then the K = 10 signs of each table selected against {1, 2, 4, ...}
// and summed into the code.
// CHECK-LABEL: func.func @simhash_bf16
// CHECK-SAME: %[[X:[a-zA-Z0-9]+]]: memref<1x8x?x128xbf16>
// CHECK-SAME: %[[P:[a-zA-Z0-9]+]]: memref<128x1500xf32>
// CHECK-SAME: %[[C:[a-zA-Z0-9]+]]: memref<1x8x?x150xi16>
// CHECK: scf.parallel
// CHECK: memref.alloca_scope
// CHECK: %[[ROWS:.+]] = memref.alloca({{.*}}) : memref<4x?xf32>
// CHECK: %[[ACC:.+]] = memref.alloca() {alignment = 64 : i64} : memref<4x1504xf32>
// CHECK: %[[XV:.+]] = vector.transfer_read %[[X]]{{.*}} : memref<1x8x?x128xbf16>, vector<16xbf16>
// CHECK: arith.extf %[[XV]] : vector<16xbf16> to vector<16xf32>
// CHECK: scf.for %[[COL:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[I:.+]] = {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-2: vector.transfer_read %[[P]][%[[I]], %{{.+}}]
// CHECK: memref.load %[[ROWS]]
// CHECK-COUNT-8: vector.fma
// CHECK: vector.transfer_write {{.*}}, %[[ACC]]
// The last group (columns 1472..1499) masks the lanes past K * L.
// CHECK: %[[MASK:.+]] = vector.create_mask %{{.+}} : vector<16xi1>
// CHECK: vector.transfer_read %[[P]]{{.*}}, %[[MASK]]
// CHECK: scf.if
// CHECK: %[[SIGNS:.+]] = vector.transfer_read %[[ACC]]{{.*}} : memref<4x1504xf32>, vector<10xf32>
// CHECK: %[[POS:.+]] = arith.cmpf ogt, %[[SIGNS]], %{{.+}} : vector<10xf32>
// CHECK: %[[BITS:.+]] = arith.select %[[POS]], %{{.+}}, %{{.+}} : vector<10xi1>, vector<10xi32>
// CHECK: %[[CODE:.+]] = vector.reduction <add>, %[[BITS]] : vector<10xi32> into i32
// CHECK: %[[CODE16:.+]] = arith.trunci %[[CODE]] : i32 to i16
// CHECK: memref.store %[[CODE16]], %[[C]]
// CHECK-NOT: magicpig.simhash
func.func @simhash_bf16(%x: memref<1x8x?x128xbf16>, %p: memref<128x1500xf32>,
                        %c: memref<1x8x?x150xi16>) {
  magicpig.simhash bits(10) tables(150)
    ins(%x, %p : memref<1x8x?x128xbf16>, memref<128x1500xf32>)
    outs(%c : memref<1x8x?x150xi16>)
  return
}

// -----

// Dynamic sizes are checked at run time: the rows against the codes, the
// head dim against the projection, its width against K * L and the codes'
// last dim against L; then the kernel runs unguarded.
// CHECK-LABEL: func.func @simhash_dynamic_projection
// CHECK-SAME: %[[P:[a-zA-Z0-9]+]]: memref<?x?xf32>
// CHECK: cf.assert %{{.+}}, "magicpig.simhash: leading dim 0 mismatch between 'input' and 'codes'"
// CHECK: cf.assert %{{.+}}, "magicpig.simhash: head dim mismatch between 'input' and 'projection'"
// CHECK: %[[W:.+]] = memref.dim %[[P]], %{{.+}} : memref<?x?xf32>
// CHECK: %[[OK:.+]] = arith.cmpi eq, %[[W]], %{{.+}} : index
// CHECK: cf.assert %[[OK]], "magicpig.simhash: 'projection' dim 1 (K * L) must be 48"
// CHECK: cf.assert %{{.+}}, "magicpig.simhash: 'codes' last dim (L) must be 3"
// CHECK-NOT: scf.if
// CHECK: scf.parallel
// CHECK-NOT: magicpig.simhash
func.func @simhash_dynamic_projection(%x: memref<?x?xf16>, %p: memref<?x?xf32>,
                                      %c: memref<?x?xi64>) {
  magicpig.simhash bits(16) tables(3)
    ins(%x, %p : memref<?x?xf16>, memref<?x?xf32>)
    outs(%c : memref<?x?xi64>)
  return
}

// -----

// Parallel over (b, g, block of 32 tables): the block's codes (one cache
// line of i16 per token) are masked to K bits and transposed into
// contiguous bucket rows; each table is then counted, prefix-summed and
// scattered (descending tokens) from its row, and the indices past |M|
// are zeroed.
// CHECK-LABEL: func.func @build_tables
// CHECK-SAME: %[[CODES:[a-zA-Z0-9]+]]: memref<1x8x?x150xi16>
// CHECK-SAME: %[[OFF:[a-zA-Z0-9]+]]: memref<1x8x150x1025xi32>
// CHECK-SAME: %[[IDX:[a-zA-Z0-9]+]]: memref<1x8x150x?xi32>
// CHECK: scf.parallel (%[[B:.+]], %[[G:.+]], %[[T:.+]]) =
// CHECK: %[[BUCKETS:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<32x?xi16>
// CHECK: %[[CODE:.+]] = memref.load %[[CODES]][%[[B]], %[[G]], %{{.+}}, %{{.+}}]
// CHECK: %[[LOW:.+]] = arith.andi %[[CODE]], %{{.+}} : i16
// CHECK: memref.store %{{.+}}, %[[BUCKETS]]
// Zero the table's offsets.
// CHECK: vector.transfer_write %{{.+}}, %[[OFF]]{{.*}} : vector<16xi32>
// Count.
// CHECK: %[[N:.+]] = memref.load %[[OFF]]
// CHECK: %[[N1:.+]] = arith.addi %[[N]], %{{.+}} : i32
// CHECK: memref.store %[[N1]], %[[OFF]]
// Inclusive prefix sum.
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %{{.+}}) -> (i32)
// Scatter.
// CHECK: %[[SLOT:.+]] = arith.subi %{{.+}}, %{{.+}} : i32
// CHECK: memref.store %[[SLOT]], %[[OFF]]
// CHECK: memref.store %{{.+}}, %[[IDX]]
// Zero tail.
// CHECK: vector.transfer_write %{{.+}}, %[[IDX]]
// CHECK: memref.dealloc %[[BUCKETS]]
// CHECK-NOT: magicpig.build_tables
func.func @build_tables(%codes: memref<1x8x?x150xi16>,
                        %offsets: memref<1x8x150x1025xi32>,
                        %indices: memref<1x8x150x?xi32>) {
  magicpig.build_tables bits(10) sink(4) window(64)
    ins(%codes : memref<1x8x?x150xi16>)
    outs(%offsets, %indices : memref<1x8x150x1025xi32>, memref<1x8x150x?xi32>)
  return
}

