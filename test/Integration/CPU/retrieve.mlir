// Retrieval from the lowering (through tables built by build_tables)
// checked against a brute-force count over the codes themselves: for each
// query head h (kv group g = h / (Hq / Hkv)) and token j of
// M = [sink, N - window), hits(j) = #tables whose code (low K bits) equals
// the query's; S = {j : hits(j) >= T} ascending; counts = min(|S|, C) and
// candidates[0, counts) = the first entries of S. Query codes and key codes
// carry random bits above K. Candidates are a subview of a larger buffer
// whose tail must stay untouched (no write past C).
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s

func.func @hash(%i: index, %seed: i32) -> i32 {
  %k1 = arith.constant -1640531535 : i32
  %k2 = arith.constant -2048144777 : i32
  %k3 = arith.constant 2146121005 : i32
  %k4 = arith.constant -2073254261 : i32
  %s16 = arith.constant 16 : i32
  %s15 = arith.constant 15 : i32
  %ii = arith.index_cast %i : index to i32
  %a = arith.muli %ii, %k1 : i32
  %sm = arith.muli %seed, %k2 : i32
  %h0 = arith.addi %a, %sm : i32
  %t0 = arith.shrui %h0, %s16 : i32
  %h1 = arith.xori %h0, %t0 : i32
  %h2 = arith.muli %h1, %k3 : i32
  %t2 = arith.shrui %h2, %s15 : i32
  %h3 = arith.xori %h2, %t2 : i32
  %h4 = arith.muli %h3, %k4 : i32
  %t4 = arith.shrui %h4, %s16 : i32
  %h5 = arith.xori %h4, %t4 : i32
  return %h5 : i32
}

// Fills a contiguous i16 buffer (any shape, viewed flat) with random bits.
func.func @random_i16(%m: memref<?xi16>, %seed: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %m, %c0 : memref<?xi16>
  scf.for %i = %c0 to %n step %c1 {
    %h = func.call @hash(%i, %seed) : (index, i32) -> i32
    %t = arith.trunci %h : i32 to i16
    memref.store %t, %m[%i] : memref<?xi16>
  }
  return
}

// Brute-force retrieval compared with (candidates, counts): returns the
// number of mismatches; also returns sum |S| over heads (before capping).
func.func @check(%codes: memref<?x?x?x?xi16>, %qc: memref<?x?x?xi16>,
                 %cand: memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>,
                 %counts: memref<?x?xi32>,
                 %bits: i16, %minHits: index, %sink: index, %window: index)
    -> (i64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %z = arith.constant 0 : i64
  %one16 = arith.constant 1 : i16
  %nb = memref.dim %qc, %c0 : memref<?x?x?xi16>
  %hq = memref.dim %qc, %c1 : memref<?x?x?xi16>
  %nl = memref.dim %qc, %c2 : memref<?x?x?xi16>
  %hkv = memref.dim %codes, %c1 : memref<?x?x?x?xi16>
  %n = memref.dim %codes, %c2 : memref<?x?x?x?xi16>
  %cap = memref.dim %cand, %c2 : memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>
  %group = arith.divui %hq, %hkv : index
  %top = arith.shli %one16, %bits : i16
  %mask = arith.subi %top, %one16 : i16
  %sw = arith.addi %sink, %window : index
  %nonempty = arith.cmpi ugt, %n, %sw : index
  %endm = arith.subi %n, %window : index
  %mb = arith.select %nonempty, %sink, %c0 : index
  %me = arith.select %nonempty, %endm, %c0 : index
  %r:2 = scf.for %b = %c0 to %nb step %c1 iter_args(%v0 = %z, %t0 = %c0) -> (i64, index) {
   %rh:2 = scf.for %h = %c0 to %hq step %c1 iter_args(%v1 = %v0, %t1 = %t0) -> (i64, index) {
    %g = arith.divui %h, %group : index
    %rj:2 = scf.for %j = %mb to %me step %c1 iter_args(%v2 = %v1, %cnt = %c0) -> (i64, index) {
      %hits = scf.for %l = %c0 to %nl step %c1 iter_args(%acc = %c0) -> index {
        %kc = memref.load %codes[%b, %g, %j, %l] : memref<?x?x?x?xi16>
        %qv = memref.load %qc[%b, %h, %l] : memref<?x?x?xi16>
        %km = arith.andi %kc, %mask : i16
        %qm = arith.andi %qv, %mask : i16
        %eq = arith.cmpi eq, %km, %qm : i16
        %inc = arith.addi %acc, %c1 : index
        %acc1 = arith.select %eq, %inc, %acc : index
        scf.yield %acc1 : index
      }
      %sel = arith.cmpi uge, %hits, %minHits : index
      %res:2 = scf.if %sel -> (i64, index) {
        %room = arith.cmpi ult, %cnt, %cap : index
        %bad = scf.if %room -> i64 {
          %got = memref.load %cand[%b, %h, %cnt] : memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>
          %j32 = arith.index_cast %j : index to i32
          %ne = arith.cmpi ne, %got, %j32 : i32
          %ne64 = arith.extui %ne : i1 to i64
          scf.yield %ne64 : i64
        } else {
          scf.yield %z : i64
        }
        %v3 = arith.addi %v2, %bad : i64
        %cnt1 = arith.addi %cnt, %c1 : index
        scf.yield %v3, %cnt1 : i64, index
      } else {
        scf.yield %v2, %cnt : i64, index
      }
      scf.yield %res#0, %res#1 : i64, index
    }
    %capped = arith.minui %rj#1, %cap : index
    %cw = arith.index_cast %capped : index to i32
    %got = memref.load %counts[%b, %h] : memref<?x?xi32>
    %ne = arith.cmpi ne, %got, %cw : i32
    %ne64 = arith.extui %ne : i1 to i64
    %v4 = arith.addi %rj#0, %ne64 : i64
    %t2 = arith.addi %t1, %rj#1 : index
    scf.yield %v4, %t2 : i64, index
   }
   scf.yield %rh#0, %rh#1 : i64, index
  }
  return %r#0, %r#1 : i64, index
}

// One case: B = 1, Hq = 4, Hkv = 2, N = 64, L = 6, random codes; builds the
// tables, retrieves with capacity `cap` into a buffer of cap + 4 whose last
// 4 entries must keep the sentinel; prints mismatches, sentinel damage and
// the total |S|.
func.func @run_case(%cap: index, %seed: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %codes = memref.alloc() : memref<1x2x64x6xi16>
  %cflat = memref.collapse_shape %codes [[0, 1, 2, 3]] : memref<1x2x64x6xi16> into memref<768xi16>
  %cfd = memref.cast %cflat : memref<768xi16> to memref<?xi16>
  func.call @random_i16(%cfd, %seed) : (memref<?xi16>, i32) -> ()
  %qc = memref.alloc() : memref<1x4x6xi16>
  %qflat = memref.collapse_shape %qc [[0, 1, 2]] : memref<1x4x6xi16> into memref<24xi16>
  %qfd = memref.cast %qflat : memref<24xi16> to memref<?xi16>
  %seed2 = arith.addi %seed, %seed : i32
  func.call @random_i16(%qfd, %seed2) : (memref<?xi16>, i32) -> ()
  %offsets = memref.alloc() : memref<1x2x6x5xi32>
  %indices = memref.alloc() : memref<1x2x6x64xi32>
  magicpig.build_tables bits(2) sink(2) window(3)
    ins(%codes : memref<1x2x64x6xi16>)
    outs(%offsets, %indices : memref<1x2x6x5xi32>, memref<1x2x6x64xi32>)
  %big = arith.addi %cap, %c4 : index
  %buffer = memref.alloc(%big) : memref<1x4x?xi32>
  %sentinel = arith.constant -5 : i32
  linalg.fill ins(%sentinel : i32) outs(%buffer : memref<1x4x?xi32>)
  %cand = memref.subview %buffer[0, 0, 0] [1, 4, %cap] [1, 1, 1] : memref<1x4x?xi32> to memref<1x4x?xi32, strided<[?, ?, 1]>>
  %counts = memref.alloc() : memref<1x4xi32>
  magicpig.retrieve bits(2) min_collisions(2)
    ins(%qc, %offsets, %indices : memref<1x4x6xi16>, memref<1x2x6x5xi32>, memref<1x2x6x64xi32>)
    outs(%cand, %counts : memref<1x4x?xi32, strided<[?, ?, 1]>>, memref<1x4xi32>)
  %cd = memref.cast %codes : memref<1x2x64x6xi16> to memref<?x?x?x?xi16>
  %qd = memref.cast %qc : memref<1x4x6xi16> to memref<?x?x?xi16>
  %cand2 = memref.cast %cand : memref<1x4x?xi32, strided<[?, ?, 1]>> to memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>
  %countsd = memref.cast %counts : memref<1x4xi32> to memref<?x?xi32>
  %bits = arith.constant 2 : i16
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %bad, %total = func.call @check(%cd, %qd, %cand2, %countsd, %bits, %c2, %c2, %c3) : (memref<?x?x?x?xi16>, memref<?x?x?xi16>, memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>, memref<?x?xi32>, i16, index, index, index) -> (i64, index)
  // Entries [cap, cap + 4) of every head keep the sentinel.
  %damage = scf.for %h = %c0 to %c4 step %c1 iter_args(%d0 = %c0) -> index {
    %dh = scf.for %p = %cap to %big step %c1 iter_args(%d1 = %d0) -> index {
      %v = memref.load %buffer[%c0, %h, %p] : memref<1x4x?xi32>
      %ne = arith.cmpi ne, %v, %sentinel : i32
      %inc = arith.addi %d1, %c1 : index
      %d2 = arith.select %ne, %inc, %d1 : index
      scf.yield %d2 : index
    }
    scf.yield %dh : index
  }
  vector.print str "mismatches "
  vector.print %bad : i64 punctuation <no_punctuation>
  vector.print str " damage "
  vector.print %damage : index punctuation <no_punctuation>
  vector.print str " total "
  vector.print %total : index
  %cu = memref.cast %counts : memref<1x4xi32> to memref<*xi32>
  call @printMemrefI32(%cu) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  %s1 = arith.constant 11 : i32
  // Capacity 64 = N: nothing is truncated.
  %c64 = arith.constant 64 : index
  // CHECK: mismatches 0 damage 0 total [[TOTAL:[0-9]+]]
  // CHECK: {{\[}}[28,   29,   28,   33]]
  func.call @run_case(%c64, %s1) : (index, i32) -> ()
  // Capacity 5: every head's set is truncated to its first 5 tokens.
  // CHECK: mismatches 0 damage 0 total [[TOTAL]]
  // CHECK: {{\[}}[5,   5,   5,   5]]
  %c5 = arith.constant 5 : index
  func.call @run_case(%c5, %s1) : (index, i32) -> ()
  // Capacity 0: counts are 0 and nothing is written.
  // CHECK: mismatches 0 damage 0 total [[TOTAL]]
  // CHECK: {{\[}}[0,   0,   0,   0]]
  %c0 = arith.constant 0 : index
  func.call @run_case(%c0, %s1) : (index, i32) -> ()
  // Another draw of codes.
  // CHECK: mismatches 0 damage 0 total
  %s2 = arith.constant 12 : i32
  func.call @run_case(%c64, %s2) : (index, i32) -> ()
  // CHECK: mismatches 0 total
  func.call @many_tables() : () -> ()
  return
}

// L = 300 tables of K = 1 bit (counters wider than a byte), T = 160,
// M = every token, one kv head shared by two query heads.
func.func @many_tables() {
  %codes = memref.alloc() : memref<1x1x40x300xi16>
  %cflat = memref.collapse_shape %codes [[0, 1, 2, 3]] : memref<1x1x40x300xi16> into memref<12000xi16>
  %cfd = memref.cast %cflat : memref<12000xi16> to memref<?xi16>
  %s1 = arith.constant 21 : i32
  func.call @random_i16(%cfd, %s1) : (memref<?xi16>, i32) -> ()
  %qc = memref.alloc() : memref<1x2x300xi16>
  %qflat = memref.collapse_shape %qc [[0, 1, 2]] : memref<1x2x300xi16> into memref<600xi16>
  %qfd = memref.cast %qflat : memref<600xi16> to memref<?xi16>
  %s2 = arith.constant 22 : i32
  func.call @random_i16(%qfd, %s2) : (memref<?xi16>, i32) -> ()
  %offsets = memref.alloc() : memref<1x1x300x3xi32>
  %indices = memref.alloc() : memref<1x1x300x40xi32>
  magicpig.build_tables bits(1) sink(0) window(0)
    ins(%codes : memref<1x1x40x300xi16>)
    outs(%offsets, %indices : memref<1x1x300x3xi32>, memref<1x1x300x40xi32>)
  %cand = memref.alloc() : memref<1x2x40xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  magicpig.retrieve bits(1) min_collisions(160)
    ins(%qc, %offsets, %indices : memref<1x2x300xi16>, memref<1x1x300x3xi32>, memref<1x1x300x40xi32>)
    outs(%cand, %counts : memref<1x2x40xi32>, memref<1x2xi32>)
  %cd = memref.cast %codes : memref<1x1x40x300xi16> to memref<?x?x?x?xi16>
  %qd = memref.cast %qc : memref<1x2x300xi16> to memref<?x?x?xi16>
  %cand2 = memref.cast %cand : memref<1x2x40xi32> to memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>
  %countsd = memref.cast %counts : memref<1x2xi32> to memref<?x?xi32>
  %bits = arith.constant 1 : i16
  %t = arith.constant 160 : index
  %c0 = arith.constant 0 : index
  %bad, %total = func.call @check(%cd, %qd, %cand2, %countsd, %bits, %t, %c0, %c0) : (memref<?x?x?x?xi16>, memref<?x?x?xi16>, memref<?x?x?xi32, strided<[?, ?, 1], offset: ?>>, memref<?x?xi32>, i16, index, index, index) -> (i64, index)
  vector.print str "mismatches "
  vector.print %bad : i64 punctuation <no_punctuation>
  vector.print str " total "
  vector.print %total : index
  return
}

func.func private @printMemrefI32(memref<*xi32>)
