// Dynamic sizes that the verifier cannot check are checked at run time
// (lib/Conversion/MagicPIGToSCF/RuntimeSizeChecks.h): operands whose sizes
// disagree stop the program with a message naming the op and the rule,
// before any loop reads or writes out of bounds. One entry point per
// defect; @agree runs the same ops on dynamic sizes that agree.
// A failed cf.assert prints its message with puts and calls abort, which
// does not flush stdout: magicpig-run line-buffers stdout, so that the
// message reaches the pipe.
//
// RUN: magicpig-opt %s --magicpig-cpu-pipeline -o %t.mlir
// RUN: magicpig-run %t.mlir -e agree -entry-point-result=void \
// RUN: | FileCheck %s --check-prefix=AGREE
// RUN: not --crash magicpig-run %t.mlir -e center_keys -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=CENTER
// RUN: not --crash magicpig-run %t.mlir -e key_norms -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=NORMS
// RUN: not --crash magicpig-run %t.mlir -e simhash_codes -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=CODES
// RUN: not --crash magicpig-run %t.mlir -e simhash_projection -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=PROJECTION
// RUN: not --crash magicpig-run %t.mlir -e build_tables_offsets -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=OFFSETS
// RUN: not --crash magicpig-run %t.mlir -e build_tables_indices -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=INDICES
// RUN: not --crash magicpig-run %t.mlir -e attention_key_value -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=KV
// RUN: not --crash magicpig-run %t.mlir -e attention_fewer_query_heads -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=HEADS
// RUN: not --crash magicpig-run %t.mlir -e attention_uneven_groups -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=HEADS
// RUN: not --crash magicpig-run %t.mlir -e window_attention_lse -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=WINDOW
// RUN: not --crash magicpig-run %t.mlir -e merge_lse -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=MERGE
// RUN: not --crash magicpig-run %t.mlir -e attention_lengths -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=LENGTHS

// AGREE: all sizes agree
// CENTER: magicpig.center_keys: sequence length mismatch between 'key' and 'centered'
// NORMS: magicpig.key_norms: sequence length mismatch between 'key' and 'norms'
// CODES: magicpig.simhash: 'codes' last dim (L) must be 4
// PROJECTION: magicpig.simhash: head dim mismatch between 'input' and 'projection'
// OFFSETS: magicpig.build_tables: tables mismatch between 'codes' and 'offsets'
// INDICES: magicpig.build_tables: sequence length mismatch between 'codes' and 'indices'
// KV: magicpig.attention: sequence length mismatch between 'key' and 'value'
// HEADS: magicpig.attention: query heads of 'query' must be a multiple of the kv heads of 'key'
// WINDOW: magicpig.window_attention: query heads mismatch between 'output' and 'lse'
// MERGE: magicpig.merge: lse shape mismatch between 'output_a' and 'lse_a'
// LENGTHS: magicpig.attention: batch mismatch between 'query' and 'lengths'

// A [1, 1, n, 8] f32 buffer of ones.
func.func @keys(%n: index) -> memref<1x1x?x8xf32> {
  %one = arith.constant 1.0 : f32
  %k = memref.alloc(%n) : memref<1x1x?x8xf32>
  linalg.fill ins(%one : f32) outs(%k : memref<1x1x?x8xf32>)
  return %k : memref<1x1x?x8xf32>
}

func.func @center_keys() {
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %k = func.call @keys(%c64) : (index) -> memref<1x1x?x8xf32>
  %centered = func.call @keys(%c16) : (index) -> memref<1x1x?x8xf32>
  %mean = memref.alloc() : memref<1x1x8xf32>
  magicpig.center_keys sink(4) window(8) ins(%k : memref<1x1x?x8xf32>)
    outs(%centered, %mean : memref<1x1x?x8xf32>, memref<1x1x8xf32>)
  return
}

func.func @key_norms() {
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %k = func.call @keys(%c64) : (index) -> memref<1x1x?x8xf32>
  %norms = memref.alloc(%c16) : memref<1x1x?xf32>
  magicpig.key_norms ins(%k : memref<1x1x?x8xf32>) outs(%norms : memref<1x1x?xf32>)
  return
}

// 64 rows of d = 8 hashed into L = 4 tables of K = 2 bits.
func.func @hash(%projectionRows: index, %tables: index) {
  %c64 = arith.constant 64 : index
  %one = arith.constant 1.0 : f32
  %x = func.call @keys(%c64) : (index) -> memref<1x1x?x8xf32>
  %p = memref.alloc(%projectionRows) : memref<?x8xf32>
  linalg.fill ins(%one : f32) outs(%p : memref<?x8xf32>)
  %codes = memref.alloc(%c64, %tables) : memref<1x1x?x?xi8>
  magicpig.simhash bits(2) tables(4)
    ins(%x, %p : memref<1x1x?x8xf32>, memref<?x8xf32>)
    outs(%codes : memref<1x1x?x?xi8>)
  return
}

func.func @simhash_codes() {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  func.call @hash(%c8, %c1) : (index, index) -> ()
  return
}

func.func @simhash_projection() {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  func.call @hash(%c2, %c4) : (index, index) -> ()
  return
}

// Tables of K = 2 bits (5 offsets) of 64 tokens' codes in 2 tables.
func.func @tables(%offsetTables: index, %indexTokens: index) {
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %code = arith.constant 3 : i8
  %codes = memref.alloc(%c64) : memref<1x1x?x2xi8>
  linalg.fill ins(%code : i8) outs(%codes : memref<1x1x?x2xi8>)
  %offsets = memref.alloc(%offsetTables) : memref<1x1x?x5xi32>
  %indices = memref.alloc(%indexTokens) : memref<1x1x2x?xi32>
  magicpig.build_tables bits(2) sink(0) window(0)
    ins(%codes : memref<1x1x?x2xi8>)
    outs(%offsets, %indices : memref<1x1x?x5xi32>, memref<1x1x2x?xi32>)
  return
}

func.func @build_tables_offsets() {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  func.call @tables(%c1, %c64) : (index, index) -> ()
  return
}

func.func @build_tables_indices() {
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  func.call @tables(%c2, %c16) : (index, index) -> ()
  return
}

// Attention of `hq` query heads over `hkv` kv heads with `nk` keys and
// `nv` values.
func.func @attend(%hq: index, %hkv: index, %nk: index, %nv: index) {
  %one = arith.constant 1.0 : f32
  %q = memref.alloc(%hq) : memref<1x?x8xf32>
  linalg.fill ins(%one : f32) outs(%q : memref<1x?x8xf32>)
  %k = memref.alloc(%hkv, %nk) : memref<1x?x?x8xf32>
  linalg.fill ins(%one : f32) outs(%k : memref<1x?x?x8xf32>)
  %v = memref.alloc(%hkv, %nv) : memref<1x?x?x8xf32>
  linalg.fill ins(%one : f32) outs(%v : memref<1x?x?x8xf32>)
  %out = memref.alloc(%hq) : memref<1x?x8xf32>
  magicpig.attention scale(0.5)
    ins(%q, %k, %v : memref<1x?x8xf32>, memref<1x?x?x8xf32>, memref<1x?x?x8xf32>)
    outs(%out : memref<1x?x8xf32>)
  return
}

func.func @attention_key_value() {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c4096 = arith.constant 4096 : index
  func.call @attend(%c2, %c1, %c4096, %c16) : (index, index, index, index) -> ()
  return
}

func.func @attention_fewer_query_heads() {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  func.call @attend(%c1, %c4, %c16, %c16) : (index, index, index, index) -> ()
  return
}

func.func @attention_uneven_groups() {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c16 = arith.constant 16 : index
  func.call @attend(%c3, %c2, %c16, %c16) : (index, index, index, index) -> ()
  return
}

func.func @window_attention_lse() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  %q = memref.alloc(%c4) : memref<1x?x8xf32>
  linalg.fill ins(%one : f32) outs(%q : memref<1x?x8xf32>)
  %k = func.call @keys(%c16) : (index) -> memref<1x1x?x8xf32>
  %out = memref.alloc(%c4) : memref<1x?x8xf32>
  %lse = memref.alloc(%c1) : memref<1x?xf32>
  magicpig.window_attention sink(4) window_start(%c0) scale(0.5)
    ins(%q, %k, %k : memref<1x?x8xf32>, memref<1x1x?x8xf32>, memref<1x1x?x8xf32>)
    outs(%out, %lse : memref<1x?x8xf32>, memref<1x?xf32>)
  return
}

func.func @merge_lse() {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %o = memref.alloc(%c4) : memref<1x?x8xf32>
  %short = memref.alloc(%c1) : memref<1x?xf32>
  %lse = memref.alloc(%c4) : memref<1x?xf32>
  magicpig.merge
    ins(%o, %short, %o, %lse : memref<1x?x8xf32>, memref<1x?xf32>, memref<1x?x8xf32>, memref<1x?xf32>)
    outs(%o, %lse : memref<1x?x8xf32>, memref<1x?xf32>)
  return
}

// The same ops on dynamic sizes that agree pass every check.
func.func @agree() {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %k = func.call @keys(%c64) : (index) -> memref<1x1x?x8xf32>
  %centered = func.call @keys(%c64) : (index) -> memref<1x1x?x8xf32>
  %mean = memref.alloc() : memref<1x1x8xf32>
  magicpig.center_keys sink(4) window(8) ins(%k : memref<1x1x?x8xf32>)
    outs(%centered, %mean : memref<1x1x?x8xf32>, memref<1x1x8xf32>)
  %norms = memref.alloc(%c64) : memref<1x1x?xf32>
  magicpig.key_norms ins(%k : memref<1x1x?x8xf32>) outs(%norms : memref<1x1x?xf32>)
  func.call @hash(%c8, %c4) : (index, index) -> ()
  func.call @tables(%c2, %c64) : (index, index) -> ()
  func.call @attend(%c4, %c2, %c16, %c16) : (index, index, index, index) -> ()
  vector.print str "all sizes agree\n"
  return
}

// A padded batch of one sequence with the lengths of none: reading
// lengths[0] would be out of bounds.
func.func @attention_lengths() {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  %q = memref.alloc(%c2) : memref<1x?x8xf32>
  linalg.fill ins(%one : f32) outs(%q : memref<1x?x8xf32>)
  %k = func.call @keys(%c16) : (index) -> memref<1x1x?x8xf32>
  %out = memref.alloc(%c2) : memref<1x?x8xf32>
  %len = memref.alloc(%c0) : memref<?xi64>
  %q1 = memref.cast %q : memref<1x?x8xf32> to memref<?x?x8xf32>
  %k1 = memref.cast %k : memref<1x1x?x8xf32> to memref<?x1x?x8xf32>
  %o1 = memref.cast %out : memref<1x?x8xf32> to memref<?x?x8xf32>
  magicpig.attention scale(0.5) lengths(%len : memref<?xi64>)
    ins(%q1, %k1, %k1 : memref<?x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
    outs(%o1 : memref<?x?x8xf32>)
  return
}
