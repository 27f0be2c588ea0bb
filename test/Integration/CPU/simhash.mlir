// SimHash codes from the lowering against a brute-force reference written
// here with scalar loops: for every row and table, the K signs of
// x . P[:, l*K + i] packed into bits. Cases cover the tails of every loop
// (rows not a multiple of the row tile, d and K*L not multiples of the
// vector width), f32/bf16/f16 inputs, i8/i16/i32/i64 codes, K = 1 and
// K = 16, dynamic shapes, and a zero row (code 0 in every table).
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s

// Pseudo-random values in [-1, 1): an integer hash of (position, seed).
func.func @fill(%m: memref<?xf32>, %seed: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %m, %c0 : memref<?xf32>
  %k1 = arith.constant -1640531535 : i32
  %k2 = arith.constant -2048144777 : i32
  %k3 = arith.constant 2146121005 : i32
  %k4 = arith.constant -2073254261 : i32
  %s16 = arith.constant 16 : i32
  %s15 = arith.constant 15 : i32
  %s8 = arith.constant 8 : i32
  %scale = arith.constant 1.1920929e-07 : f32
  %one = arith.constant 1.0 : f32
  %seedMix = arith.muli %seed, %k2 : i32
  scf.for %i = %c0 to %n step %c1 {
    %ii = arith.index_cast %i : index to i32
    %a = arith.muli %ii, %k1 : i32
    %h0 = arith.addi %a, %seedMix : i32
    %t0 = arith.shrui %h0, %s16 : i32
    %h1 = arith.xori %h0, %t0 : i32
    %h2 = arith.muli %h1, %k3 : i32
    %t2 = arith.shrui %h2, %s15 : i32
    %h3 = arith.xori %h2, %t2 : i32
    %h4 = arith.muli %h3, %k4 : i32
    %t4 = arith.shrui %h4, %s16 : i32
    %h5 = arith.xori %h4, %t4 : i32
    %top = arith.shrui %h5, %s8 : i32
    %f = arith.uitofp %top : i32 to f32
    %u = arith.mulf %f, %scale : f32
    %v = arith.subf %u, %one : f32
    memref.store %v, %m[%i] : memref<?xf32>
  }
  return
}

// Brute-force codes of the rows of `x` ([rows, d], f32) with `p` ([d, K*L]):
// counts the entries where `codes` ([rows, L], widened to i64) differs.
func.func @mismatches(%x: memref<?x?xf32>, %p: memref<?x?xf32>,
                      %codes: memref<?x?xi64>, %k: index) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %z64 = arith.constant 0 : i64
  %one64 = arith.constant 1 : i64
  %rows = memref.dim %x, %c0 : memref<?x?xf32>
  %d = memref.dim %x, %c1 : memref<?x?xf32>
  %tables = memref.dim %codes, %c1 : memref<?x?xi64>
  %bad = scf.for %r = %c0 to %rows step %c1 iter_args(%b0 = %z64) -> i64 {
    %bt = scf.for %l = %c0 to %tables step %c1 iter_args(%b1 = %b0) -> i64 {
      %code = scf.for %i = %c0 to %k step %c1 iter_args(%acc = %z64) -> i64 {
        %lk = arith.muli %l, %k : index
        %col = arith.addi %lk, %i : index
        %dot = scf.for %e = %c0 to %d step %c1 iter_args(%s = %zero) -> f32 {
          %xv = memref.load %x[%r, %e] : memref<?x?xf32>
          %pv = memref.load %p[%e, %col] : memref<?x?xf32>
          %prod = arith.mulf %xv, %pv : f32
          %s1 = arith.addf %s, %prod : f32
          scf.yield %s1 : f32
        }
        %pos = arith.cmpf ogt, %dot, %zero : f32
        %i64 = arith.index_cast %i : index to i64
        %bit = arith.shli %one64, %i64 : i64
        %with = arith.ori %acc, %bit : i64
        %next = arith.select %pos, %with, %acc : i64
        scf.yield %next : i64
      }
      %got = memref.load %codes[%r, %l] : memref<?x?xi64>
      %ne = arith.cmpi ne, %got, %code : i64
      %ne64 = arith.extui %ne : i1 to i64
      %b2 = arith.addi %b1, %ne64 : i64
      scf.yield %b2 : i64
    }
    scf.yield %bt : i64
  }
  return %bad : i64
}

// Number of non-zero codes (so that a case cannot pass with all codes 0).
func.func @nonzero(%codes: memref<?x?xi64>) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z64 = arith.constant 0 : i64
  %rows = memref.dim %codes, %c0 : memref<?x?xi64>
  %cols = memref.dim %codes, %c1 : memref<?x?xi64>
  %n = scf.for %r = %c0 to %rows step %c1 iter_args(%a = %z64) -> i64 {
    %m = scf.for %l = %c0 to %cols step %c1 iter_args(%b = %a) -> i64 {
      %v = memref.load %codes[%r, %l] : memref<?x?xi64>
      %nz = arith.cmpi ne, %v, %z64 : i64
      %nz64 = arith.extui %nz : i1 to i64
      %s = arith.addi %b, %nz64 : i64
      scf.yield %s : i64
    }
    scf.yield %m : i64
  }
  return %n : i64
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32

  // Case A: f32 [2, 3, 37], K = 5, L = 7 (35 columns), i8 codes; the row
  // x[1, 2, :] is zero.
  %xa = memref.alloc() : memref<2x3x37xf32>
  %xa1 = memref.collapse_shape %xa [[0, 1, 2]] : memref<2x3x37xf32> into memref<222xf32>
  %xad = memref.cast %xa1 : memref<222xf32> to memref<?xf32>
  %s1 = arith.constant 1 : i32
  func.call @fill(%xad, %s1) : (memref<?xf32>, i32) -> ()
  %c37 = arith.constant 37 : index
  scf.for %e = %c0 to %c37 step %c1 {
    memref.store %zero, %xa[%c1, %c2, %e] : memref<2x3x37xf32>
  }
  %pa = memref.alloc() : memref<37x35xf32>
  %pa1 = memref.collapse_shape %pa [[0, 1]] : memref<37x35xf32> into memref<1295xf32>
  %pad = memref.cast %pa1 : memref<1295xf32> to memref<?xf32>
  %s2 = arith.constant 2 : i32
  func.call @fill(%pad, %s2) : (memref<?xf32>, i32) -> ()
  %ca = memref.alloc() : memref<2x3x7xi8>
  magicpig.simhash bits(5) tables(7)
    ins(%xa, %pa : memref<2x3x37xf32>, memref<37x35xf32>)
    outs(%ca : memref<2x3x7xi8>)
  %xa2 = memref.collapse_shape %xa [[0, 1], [2]] : memref<2x3x37xf32> into memref<6x37xf32>
  %ca2 = memref.collapse_shape %ca [[0, 1], [2]] : memref<2x3x7xi8> into memref<6x7xi8>
  %wa = memref.alloc() : memref<6x7xi64>
  %c6 = arith.constant 6 : index
  %c7 = arith.constant 7 : index
  scf.for %r = %c0 to %c6 step %c1 {
    scf.for %l = %c0 to %c7 step %c1 {
      %v = memref.load %ca2[%r, %l] : memref<6x7xi8>
      %w = arith.extui %v : i8 to i64
      memref.store %w, %wa[%r, %l] : memref<6x7xi64>
    }
  }
  %xa2d = memref.cast %xa2 : memref<6x37xf32> to memref<?x?xf32>
  %pa2d = memref.cast %pa : memref<37x35xf32> to memref<?x?xf32>
  %wad = memref.cast %wa : memref<6x7xi64> to memref<?x?xi64>
  %c5 = arith.constant 5 : index
  %bada = func.call @mismatches(%xa2d, %pa2d, %wad, %c5) : (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xi64>, index) -> i64
  %nza = func.call @nonzero(%wad) : (memref<?x?xi64>) -> i64
  // CHECK: A mismatches 0 nonzero 33
  vector.print str "A mismatches "
  vector.print %bada : i64 punctuation <no_punctuation>
  vector.print str " nonzero "
  vector.print %nza : i64
  // The zero row (row 5 = [1, 2]) hashes to 0 in every table.
  %zsum = scf.for %l = %c0 to %c7 step %c1 iter_args(%a = %c0) -> index {
    %v = memref.load %wa[%c5, %l] : memref<6x7xi64>
    %vi = arith.index_cast %v : i64 to index
    %s = arith.addi %a, %vi : index
    scf.yield %s : index
  }
  // CHECK-NEXT: A zero row 0
  vector.print str "A zero row "
  vector.print %zsum : index

  // Case B: bf16 [1, 2, 19, 64], K = 10, L = 12 (120 columns), i16 codes.
  %xb32 = memref.alloc() : memref<2432xf32>
  %xb32d = memref.cast %xb32 : memref<2432xf32> to memref<?xf32>
  %s3 = arith.constant 3 : i32
  func.call @fill(%xb32d, %s3) : (memref<?xf32>, i32) -> ()
  %xb = memref.alloc() : memref<1x2x19x64xbf16>
  %xb1 = memref.collapse_shape %xb [[0, 1, 2, 3]] : memref<1x2x19x64xbf16> into memref<2432xbf16>
  // The reference reads the bf16 values widened back to f32.
  %c2432 = arith.constant 2432 : index
  scf.for %i = %c0 to %c2432 step %c1 {
    %v = memref.load %xb32[%i] : memref<2432xf32>
    %t = arith.truncf %v : f32 to bf16
    memref.store %t, %xb1[%i] : memref<2432xbf16>
    %w = arith.extf %t : bf16 to f32
    memref.store %w, %xb32[%i] : memref<2432xf32>
  }
  %pb = memref.alloc() : memref<64x120xf32>
  %pb1 = memref.collapse_shape %pb [[0, 1]] : memref<64x120xf32> into memref<7680xf32>
  %pbd = memref.cast %pb1 : memref<7680xf32> to memref<?xf32>
  %s4 = arith.constant 4 : i32
  func.call @fill(%pbd, %s4) : (memref<?xf32>, i32) -> ()
  %cb = memref.alloc() : memref<1x2x19x12xi16>
  magicpig.simhash bits(10) tables(12)
    ins(%xb, %pb : memref<1x2x19x64xbf16>, memref<64x120xf32>)
    outs(%cb : memref<1x2x19x12xi16>)
  %cb2 = memref.collapse_shape %cb [[0, 1, 2], [3]] : memref<1x2x19x12xi16> into memref<38x12xi16>
  %wb = memref.alloc() : memref<38x12xi64>
  %c38 = arith.constant 38 : index
  %c12 = arith.constant 12 : index
  scf.for %r = %c0 to %c38 step %c1 {
    scf.for %l = %c0 to %c12 step %c1 {
      %v = memref.load %cb2[%r, %l] : memref<38x12xi16>
      %w = arith.extui %v : i16 to i64
      memref.store %w, %wb[%r, %l] : memref<38x12xi64>
    }
  }
  %xb2 = memref.expand_shape %xb32 [[0, 1]] output_shape [38, 64] : memref<2432xf32> into memref<38x64xf32>
  %xb2d = memref.cast %xb2 : memref<38x64xf32> to memref<?x?xf32>
  %pb2d = memref.cast %pb : memref<64x120xf32> to memref<?x?xf32>
  %wbd = memref.cast %wb : memref<38x12xi64> to memref<?x?xi64>
  %c10 = arith.constant 10 : index
  %badb = func.call @mismatches(%xb2d, %pb2d, %wbd, %c10) : (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xi64>, index) -> i64
  %nzb = func.call @nonzero(%wbd) : (memref<?x?xi64>) -> i64
  // CHECK-NEXT: B mismatches 0 nonzero 456
  vector.print str "B mismatches "
  vector.print %badb : i64 punctuation <no_punctuation>
  vector.print str " nonzero "
  vector.print %nzb : i64

  // Case C: dynamic f16 [9, 16], K = 16, L = 3 (48 columns), i64 codes.
  %xc32 = memref.alloc() : memref<144xf32>
  %xc32d = memref.cast %xc32 : memref<144xf32> to memref<?xf32>
  %s5 = arith.constant 5 : i32
  func.call @fill(%xc32d, %s5) : (memref<?xf32>, i32) -> ()
  %xc = memref.alloc() : memref<9x16xf16>
  %xc1 = memref.collapse_shape %xc [[0, 1]] : memref<9x16xf16> into memref<144xf16>
  %c144 = arith.constant 144 : index
  scf.for %i = %c0 to %c144 step %c1 {
    %v = memref.load %xc32[%i] : memref<144xf32>
    %t = arith.truncf %v : f32 to f16
    memref.store %t, %xc1[%i] : memref<144xf16>
    %w = arith.extf %t : f16 to f32
    memref.store %w, %xc32[%i] : memref<144xf32>
  }
  %pc = memref.alloc() : memref<16x48xf32>
  %pc1 = memref.collapse_shape %pc [[0, 1]] : memref<16x48xf32> into memref<768xf32>
  %pcd = memref.cast %pc1 : memref<768xf32> to memref<?xf32>
  %s6 = arith.constant 6 : i32
  func.call @fill(%pcd, %s6) : (memref<?xf32>, i32) -> ()
  %cc = memref.alloc() : memref<9x3xi64>
  %xcd = memref.cast %xc : memref<9x16xf16> to memref<?x?xf16>
  %pcdd = memref.cast %pc : memref<16x48xf32> to memref<?x?xf32>
  %ccd = memref.cast %cc : memref<9x3xi64> to memref<?x?xi64>
  magicpig.simhash bits(16) tables(3)
    ins(%xcd, %pcdd : memref<?x?xf16>, memref<?x?xf32>)
    outs(%ccd : memref<?x?xi64>)
  %xc2 = memref.expand_shape %xc32 [[0, 1]] output_shape [9, 16] : memref<144xf32> into memref<9x16xf32>
  %xc2d = memref.cast %xc2 : memref<9x16xf32> to memref<?x?xf32>
  %c16 = arith.constant 16 : index
  %badc = func.call @mismatches(%xc2d, %pcdd, %ccd, %c16) : (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xi64>, index) -> i64
  %nzc = func.call @nonzero(%ccd) : (memref<?x?xi64>) -> i64
  // CHECK-NEXT: C mismatches 0 nonzero 27
  vector.print str "C mismatches "
  vector.print %badc : i64 punctuation <no_punctuation>
  vector.print str " nonzero "
  vector.print %nzc : i64

  // Case D: f32 [5, 8], K = 1, L = 40, i32 codes.
  %xd = memref.alloc() : memref<5x8xf32>
  %xd1 = memref.collapse_shape %xd [[0, 1]] : memref<5x8xf32> into memref<40xf32>
  %xd1d = memref.cast %xd1 : memref<40xf32> to memref<?xf32>
  %s7 = arith.constant 7 : i32
  func.call @fill(%xd1d, %s7) : (memref<?xf32>, i32) -> ()
  %pdm = memref.alloc() : memref<8x40xf32>
  %pd1 = memref.collapse_shape %pdm [[0, 1]] : memref<8x40xf32> into memref<320xf32>
  %pd1d = memref.cast %pd1 : memref<320xf32> to memref<?xf32>
  %s8 = arith.constant 8 : i32
  func.call @fill(%pd1d, %s8) : (memref<?xf32>, i32) -> ()
  %cd = memref.alloc() : memref<5x40xi32>
  magicpig.simhash bits(1) tables(40)
    ins(%xd, %pdm : memref<5x8xf32>, memref<8x40xf32>)
    outs(%cd : memref<5x40xi32>)
  %wd = memref.alloc() : memref<5x40xi64>
  %c40 = arith.constant 40 : index
  scf.for %r = %c0 to %c5 step %c1 {
    scf.for %l = %c0 to %c40 step %c1 {
      %v = memref.load %cd[%r, %l] : memref<5x40xi32>
      %w = arith.extui %v : i32 to i64
      memref.store %w, %wd[%r, %l] : memref<5x40xi64>
    }
  }
  %xdd = memref.cast %xd : memref<5x8xf32> to memref<?x?xf32>
  %pdd = memref.cast %pdm : memref<8x40xf32> to memref<?x?xf32>
  %wdd = memref.cast %wd : memref<5x40xi64> to memref<?x?xi64>
  %badd = func.call @mismatches(%xdd, %pdd, %wdd, %c1) : (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xi64>, index) -> i64
  %nzd = func.call @nonzero(%wdd) : (memref<?x?xi64>) -> i64
  // CHECK-NEXT: D mismatches 0 nonzero 93
  vector.print str "D mismatches "
  vector.print %badd : i64 punctuation <no_punctuation>
  vector.print str " nonzero "
  vector.print %nzd : i64
  return
}
