// Edge cases of the hash and sampling lowerings: each gives a defined
// result, and the second RUN line repeats everything with
// --generate-runtime-verification inserted after the lowering, so any
// out-of-bounds memref.load/store in the generated loops would abort.
//  A. N <= sink + window: empty tables, nothing retrieved, lse = -inf.
//  B. zero-norm query and zero keys: the cosine floor keeps the scores
//     finite; a zero query weighs every candidate equally.
//  C. more collisions than the capacity: exactly C candidates, counts = C,
//     the memory after the C entries untouched.
//  D. corrupt tables (offsets negative, decreasing or past N; indices
//     negative or >= N; query codes with bits above K): no crash, counts
//     <= C, every candidate a valid token.
//  E. non-finite inputs: a NaN query makes that head's out and lse NaN and
//     leaves the others finite; simhash of NaN/inf rows gives K-bit codes.
//  F. no kv head at all (dynamic Hkv = 0): nothing retrieved, out = 0,
//     lse = -inf, and no table, key or mean read.
//
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --convert-magicpig-to-scf \
// RUN:   --generate-runtime-verification --convert-linalg-to-loops \
// RUN:   --convert-scf-to-openmp --convert-vector-to-scf \
// RUN:   --expand-strided-metadata --lower-affine --finalize-memref-to-llvm \
// RUN:   --convert-scf-to-cf --convert-openmp-to-llvm --convert-vector-to-llvm \
// RUN:   --convert-math-to-llvm --convert-math-to-libm --arith-expand \
// RUN:   --convert-arith-to-llvm --convert-index-to-llvm \
// RUN:   --convert-func-to-llvm --convert-cf-to-llvm --convert-ub-to-llvm \
// RUN:   --reconcile-unrealized-casts \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

func.func @fill(%m: memref<?xf32>, %seed: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %m, %c0 : memref<?xf32>
  %k1 = arith.constant -1640531535 : i32
  %k2 = arith.constant -2048144777 : i32
  %k3 = arith.constant 2146121005 : i32
  %s16 = arith.constant 16 : i32
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
    %t2 = arith.shrui %h2, %s16 : i32
    %h3 = arith.xori %h2, %t2 : i32
    %top = arith.shrui %h3, %s8 : i32
    %f = arith.uitofp %top : i32 to f32
    %u = arith.mulf %f, %scale : f32
    %v = arith.subf %u, %one : f32
    memref.store %v, %m[%i] : memref<?xf32>
  }
  return
}

// A. Index and decode over a 10-token cache with sink 4 and window 6.
// CHECK-LABEL: A: empty M
// CHECK-NEXT: offsets sum 0 counts 0 0
// CHECK-NEXT: lse -inf -inf out abs sum 0
func.func @case_a() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %c17 = arith.constant 17 : index
  %k = memref.alloc() : memref<1x1x10x16xf32>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x1x10x16xf32> into memref<160xf32>
  %kfd = memref.cast %kf : memref<160xf32> to memref<?xf32>
  %s1 = arith.constant 1 : i32
  func.call @fill(%kfd, %s1) : (memref<?xf32>, i32) -> ()
  %p = memref.alloc() : memref<16x24xf32>
  %pf = memref.collapse_shape %p [[0, 1]] : memref<16x24xf32> into memref<384xf32>
  %pfd = memref.cast %pf : memref<384xf32> to memref<?xf32>
  %s2 = arith.constant 2 : i32
  func.call @fill(%pfd, %s2) : (memref<?xf32>, i32) -> ()
  %codes = memref.alloc() : memref<1x1x10x6xi8>
  magicpig.simhash bits(4) tables(6) ins(%k, %p : memref<1x1x10x16xf32>, memref<16x24xf32>) outs(%codes : memref<1x1x10x6xi8>)
  %offsets = memref.alloc() : memref<1x1x6x17xi32>
  %indices = memref.alloc() : memref<1x1x6x10xi32>
  magicpig.build_tables bits(4) sink(4) window(6)
    ins(%codes : memref<1x1x10x6xi8>)
    outs(%offsets, %indices : memref<1x1x6x17xi32>, memref<1x1x6x10xi32>)
  %osum = scf.for %l = %c0 to %c6 step %c1 iter_args(%a = %c0) -> index {
    %r = scf.for %c = %c0 to %c17 step %c1 iter_args(%b = %a) -> index {
      %o = memref.load %offsets[%c0, %c0, %l, %c] : memref<1x1x6x17xi32>
      %oi = arith.index_cast %o : i32 to index
      %s = arith.addi %b, %oi : index
      scf.yield %s : index
    }
    scf.yield %r : index
  }
  %q = memref.alloc() : memref<1x2x16xf32>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x2x16xf32> into memref<32xf32>
  %qfd = memref.cast %qf : memref<32xf32> to memref<?xf32>
  %s3 = arith.constant 3 : i32
  func.call @fill(%qfd, %s3) : (memref<?xf32>, i32) -> ()
  %qc = memref.alloc() : memref<1x2x6xi8>
  magicpig.simhash bits(4) tables(6) ins(%q, %p : memref<1x2x16xf32>, memref<16x24xf32>) outs(%qc : memref<1x2x6xi8>)
  %cand = memref.alloc() : memref<1x2x10xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  magicpig.retrieve bits(4) min_collisions(1)
    ins(%qc, %offsets, %indices : memref<1x2x6xi8>, memref<1x1x6x17xi32>, memref<1x1x6x10xi32>)
    outs(%cand, %counts : memref<1x2x10xi32>, memref<1x2xi32>)
  %v = memref.alloc() : memref<1x1x10x16xf32>
  %norms = memref.alloc() : memref<1x1x10xf32>
  %mean = memref.alloc() : memref<1x1x16xf32>
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%one : f32) outs(%v : memref<1x1x10x16xf32>)
  linalg.fill ins(%one : f32) outs(%norms : memref<1x1x10xf32>)
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x1x16xf32>)
  %out = memref.alloc() : memref<1x2x16xf32>
  %lse = memref.alloc() : memref<1x2xf32>
  // Garbage in the outputs: the empty case must overwrite it.
  %seven = arith.constant 7.0 : f32
  linalg.fill ins(%seven : f32) outs(%out : memref<1x2x16xf32>)
  magicpig.estimate bits(4) tables(6) min_collisions(1) scale(0.25)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x2x16xf32>, memref<1x1x10x16xf32>, memref<1x1x10x16xf32>, memref<1x1x10xf32>, memref<1x1x16xf32>, memref<1x2x10xi32>, memref<1x2xi32>)
    outs(%out, %lse : memref<1x2x16xf32>, memref<1x2xf32>)
  %c16 = arith.constant 16 : index
  %asum = scf.for %h = %c0 to %c2 step %c1 iter_args(%a = %zero) -> f32 {
    %r = scf.for %e = %c0 to %c16 step %c1 iter_args(%b = %a) -> f32 {
      %x = memref.load %out[%c0, %h, %e] : memref<1x2x16xf32>
      %ax = math.absf %x : f32
      %s = arith.addf %b, %ax : f32
      scf.yield %s : f32
    }
    scf.yield %r : f32
  }
  %n0 = memref.load %counts[%c0, %c0] : memref<1x2xi32>
  %n1 = memref.load %counts[%c0, %c1] : memref<1x2xi32>
  %l0 = memref.load %lse[%c0, %c0] : memref<1x2xf32>
  %l1 = memref.load %lse[%c0, %c1] : memref<1x2xf32>
  vector.print str "A: empty M\n"
  vector.print str "offsets sum "
  vector.print %osum : index punctuation <no_punctuation>
  vector.print str " counts "
  vector.print %n0 : i32 punctuation <no_punctuation>
  vector.print str " "
  vector.print %n1 : i32
  vector.print str "lse "
  vector.print %l0 : f32 punctuation <no_punctuation>
  vector.print str " "
  vector.print %l1 : f32 punctuation <no_punctuation>
  vector.print str " out abs sum "
  vector.print %asum : f32
  return
}

// B. Head 0 has a zero query; head 1's candidates include zero keys with
// zero norms. Scores stay finite; with q = 0 all scores are equal, so the
// output is the mean of the candidates' values.
// CHECK-LABEL: B: zero norms
// CHECK-NEXT: finite 1 1 zero-query mean 1
func.func @case_b() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c5 = arith.constant 5 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %k = memref.alloc() : memref<1x1x8x8xf32>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x1x8x8xf32> into memref<64xf32>
  %kfd = memref.cast %kf : memref<64xf32> to memref<?xf32>
  %s1 = arith.constant 11 : i32
  func.call @fill(%kfd, %s1) : (memref<?xf32>, i32) -> ()
  %v = memref.alloc() : memref<1x1x8x8xf32>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<1x1x8x8xf32> into memref<64xf32>
  %vfd = memref.cast %vf : memref<64xf32> to memref<?xf32>
  %s2 = arith.constant 12 : i32
  func.call @fill(%vfd, %s2) : (memref<?xf32>, i32) -> ()
  // Keys 1 and 3 are zero vectors.
  scf.for %e = %c0 to %c8 step %c1 {
    %c3 = arith.constant 3 : index
    memref.store %zero, %k[%c0, %c0, %c1, %e] : memref<1x1x8x8xf32>
    memref.store %zero, %k[%c0, %c0, %c3, %e] : memref<1x1x8x8xf32>
  }
  %norms = memref.alloc() : memref<1x1x8xf32>
  scf.for %j = %c0 to %c8 step %c1 {
    %s = scf.for %e = %c0 to %c8 step %c1 iter_args(%a = %zero) -> f32 {
      %x = memref.load %k[%c0, %c0, %j, %e] : memref<1x1x8x8xf32>
      %xx = arith.mulf %x, %x : f32
      %a1 = arith.addf %a, %xx : f32
      scf.yield %a1 : f32
    }
    %n = math.sqrt %s : f32
    memref.store %n, %norms[%c0, %c0, %j] : memref<1x1x8xf32>
  }
  %mean = memref.alloc() : memref<1x1x8xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x1x8xf32>)
  %q = memref.alloc() : memref<1x2x8xf32>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x2x8xf32> into memref<16xf32>
  %qfd = memref.cast %qf : memref<16xf32> to memref<?xf32>
  %s3 = arith.constant 13 : i32
  func.call @fill(%qfd, %s3) : (memref<?xf32>, i32) -> ()
  scf.for %e = %c0 to %c8 step %c1 {
    memref.store %zero, %q[%c0, %c0, %e] : memref<1x2x8xf32>
  }
  // Both heads: candidates 0..4 (including the zero keys 1 and 3).
  %cand = memref.alloc() : memref<1x2x5xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  %n5 = arith.constant 5 : i32
  scf.for %h = %c0 to %c2 step %c1 {
    scf.for %r = %c0 to %c5 step %c1 {
      %j = arith.index_cast %r : index to i32
      memref.store %j, %cand[%c0, %h, %r] : memref<1x2x5xi32>
    }
    memref.store %n5, %counts[%c0, %h] : memref<1x2xi32>
  }
  %out = memref.alloc() : memref<1x2x8xf32>
  %lse = memref.alloc() : memref<1x2xf32>
  magicpig.estimate bits(3) tables(10) min_collisions(2) scale(0.35)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x2x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x2x5xi32>, memref<1x2xi32>)
    outs(%out, %lse : memref<1x2x8xf32>, memref<1x2xf32>)
  %true0 = arith.constant true
  // finite: lse and every output element are finite (x - x == 0).
  %fin:2 = scf.for %h = %c0 to %c2 step %c1 iter_args(%f0 = %true0, %f1 = %true0) -> (i1, i1) {
    %l = memref.load %lse[%c0, %h] : memref<1x2xf32>
    %ld = arith.subf %l, %l : f32
    %lok = arith.cmpf oeq, %ld, %zero : f32
    %ok = scf.for %e = %c0 to %c8 step %c1 iter_args(%a = %lok) -> i1 {
      %x = memref.load %out[%c0, %h, %e] : memref<1x2x8xf32>
      %xd = arith.subf %x, %x : f32
      %xok = arith.cmpf oeq, %xd, %zero : f32
      %a1 = arith.andi %a, %xok : i1
      scf.yield %a1 : i1
    }
    %is0 = arith.cmpi eq, %h, %c0 : index
    %g0 = arith.select %is0, %ok, %f0 : i1
    %g1 = arith.select %is0, %f1, %ok : i1
    scf.yield %g0, %g1 : i1, i1
  }
  // Zero query: out[0] = mean of v[0..5).
  %tol = arith.constant 1.0e-6 : f32
  %fifth = arith.constant 0.2 : f32
  %meanOk = scf.for %e = %c0 to %c8 step %c1 iter_args(%a = %true0) -> i1 {
    %s = scf.for %j = %c0 to %c5 step %c1 iter_args(%b = %zero) -> f32 {
      %x = memref.load %v[%c0, %c0, %j, %e] : memref<1x1x8x8xf32>
      %b1 = arith.addf %b, %x : f32
      scf.yield %b1 : f32
    }
    %m = arith.mulf %s, %fifth : f32
    %o = memref.load %out[%c0, %c0, %e] : memref<1x2x8xf32>
    %d = arith.subf %o, %m : f32
    %ad = math.absf %d : f32
    %ok = arith.cmpf ole, %ad, %tol : f32
    %a1 = arith.andi %a, %ok : i1
    scf.yield %a1 : i1
  }
  vector.print str "B: zero norms\n"
  vector.print str "finite "
  vector.print %fin#0 : i1 punctuation <no_punctuation>
  vector.print str " "
  vector.print %fin#1 : i1 punctuation <no_punctuation>
  vector.print str " zero-query mean "
  vector.print %meanOk : i1
  return
}

// C. K = 1, every code 0: every token of M = [2, 50) collides in every
// table. Capacity 7 inside a buffer of 12 whose tail holds a sentinel.
// CHECK-LABEL: C: capacity
// CHECK-NEXT: counts 7 7
// CHECK: {{\[}}[2,   3,   4,   5,   6,   7,   8,   -5,   -5,   -5,   -5,   -5],
// CHECK-NEXT: [2,   3,   4,   5,   6,   7,   8,   -5,   -5,   -5,   -5,   -5]]
func.func @case_c() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %codes = memref.alloc() : memref<1x1x50x4xi8>
  %z8 = arith.constant 0 : i8
  linalg.fill ins(%z8 : i8) outs(%codes : memref<1x1x50x4xi8>)
  %offsets = memref.alloc() : memref<1x1x4x3xi32>
  %indices = memref.alloc() : memref<1x1x4x50xi32>
  magicpig.build_tables bits(1) sink(2) window(0)
    ins(%codes : memref<1x1x50x4xi8>)
    outs(%offsets, %indices : memref<1x1x4x3xi32>, memref<1x1x4x50xi32>)
  %qc = memref.alloc() : memref<1x2x4xi8>
  linalg.fill ins(%z8 : i8) outs(%qc : memref<1x2x4xi8>)
  %buffer = memref.alloc() : memref<1x2x12xi32>
  %sentinel = arith.constant -5 : i32
  linalg.fill ins(%sentinel : i32) outs(%buffer : memref<1x2x12xi32>)
  %cand = memref.subview %buffer[0, 0, 0] [1, 2, 7] [1, 1, 1] : memref<1x2x12xi32> to memref<1x2x7xi32, strided<[24, 12, 1]>>
  %counts = memref.alloc() : memref<1x2xi32>
  magicpig.retrieve bits(1) min_collisions(4)
    ins(%qc, %offsets, %indices : memref<1x2x4xi8>, memref<1x1x4x3xi32>, memref<1x1x4x50xi32>)
    outs(%cand, %counts : memref<1x2x7xi32, strided<[24, 12, 1]>>, memref<1x2xi32>)
  %n0 = memref.load %counts[%c0, %c0] : memref<1x2xi32>
  %n1 = memref.load %counts[%c0, %c1] : memref<1x2xi32>
  vector.print str "C: capacity\n"
  vector.print str "counts "
  vector.print %n0 : i32 punctuation <no_punctuation>
  vector.print str " "
  vector.print %n1 : i32
  %bs = memref.collapse_shape %buffer [[0, 1], [2]] : memref<1x2x12xi32> into memref<2x12xi32>
  %bsu = memref.cast %bs : memref<2x12xi32> to memref<*xi32>
  func.call @printMemrefI32(%bsu) : (memref<*xi32>) -> ()
  return
}

// D. Hand-corrupted tables for N = 20, K = 2, L = 3: offsets rows
// [-4, 30, 5, 2, 99], [0, 0, 0, 0, 0], [7, 3, -1, 20, 21]; indices with
// -1, 20, 1000 and -2147483648 mixed into valid tokens. Query codes have
// bits above K. Whatever is retrieved, counts <= C and candidates are
// tokens of [0, N).
// CHECK-LABEL: D: corrupt tables
// CHECK-NEXT: sane 1
func.func @case_d() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c20 = arith.constant 20 : index
  %offsets = memref.alloc() : memref<1x1x3x5xi32>
  %ovals = arith.constant dense<[[-4, 30, 5, 2, 99], [0, 0, 0, 0, 0], [7, 3, -1, 20, 21]]> : vector<3x5xi32>
  vector.transfer_write %ovals, %offsets[%c0, %c0, %c0, %c0] {in_bounds = [true, true]} : vector<3x5xi32>, memref<1x1x3x5xi32>
  %indices = memref.alloc() : memref<1x1x3x20xi32>
  scf.for %l = %c0 to %c3 step %c1 {
    scf.for %r = %c0 to %c20 step %c1 {
      // r cycles through a valid token and three invalid ones.
      %m = arith.remui %r, %c4 : index
      %ri = arith.index_cast %r : index to i32
      %bad1 = arith.constant -1 : i32
      %bad2 = arith.constant 20 : i32
      %bad3 = arith.constant -2147483648 : i32
      %is1 = arith.cmpi eq, %m, %c1 : index
      %is2 = arith.cmpi eq, %m, %c2 : index
      %is3 = arith.cmpi eq, %m, %c3 : index
      %a = arith.select %is1, %bad1, %ri : i32
      %b = arith.select %is2, %bad2, %a : i32
      %c = arith.select %is3, %bad3, %b : i32
      memref.store %c, %indices[%c0, %c0, %l, %r] : memref<1x1x3x20xi32>
    }
  }
  %qc = memref.alloc() : memref<1x2x3xi16>
  %qvals = arith.constant dense<[[-1, 6, 13], [4, 1, 258]]> : vector<2x3xi16>
  vector.transfer_write %qvals, %qc[%c0, %c0, %c0] {in_bounds = [true, true]} : vector<2x3xi16>, memref<1x2x3xi16>
  %cand = memref.alloc() : memref<1x2x6xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  magicpig.retrieve bits(2) min_collisions(1)
    ins(%qc, %offsets, %indices : memref<1x2x3xi16>, memref<1x1x3x5xi32>, memref<1x1x3x20xi32>)
    outs(%cand, %counts : memref<1x2x6xi32>, memref<1x2xi32>)
  %true = arith.constant true
  %sane = scf.for %h = %c0 to %c2 step %c1 iter_args(%ok0 = %true) -> i1 {
    %n32 = memref.load %counts[%c0, %h] : memref<1x2xi32>
    %n = arith.index_cast %n32 : i32 to index
    %nOk0 = arith.cmpi sge, %n, %c0 : index
    %c6 = arith.constant 6 : index
    %nOk1 = arith.cmpi sle, %n, %c6 : index
    %nOk = arith.andi %nOk0, %nOk1 : i1
    %ok1 = arith.andi %ok0, %nOk : i1
    %nn = arith.select %nOk, %n, %c0 : index
    %ok2 = scf.for %r = %c0 to %nn step %c1 iter_args(%a = %ok1) -> i1 {
      %j32 = memref.load %cand[%c0, %h, %r] : memref<1x2x6xi32>
      %j = arith.index_cast %j32 : i32 to index
      %ge = arith.cmpi sge, %j, %c0 : index
      %lt = arith.cmpi slt, %j, %c20 : index
      %v = arith.andi %ge, %lt : i1
      %a1 = arith.andi %a, %v : i1
      scf.yield %a1 : i1
    }
    scf.yield %ok2 : i1
  }
  vector.print str "D: corrupt tables\n"
  vector.print str "sane "
  vector.print %sane : i1
  return
}

// E. Non-finite inputs.
// CHECK-LABEL: E: non-finite
// CHECK-NEXT: head 0 lse nan 1 out nan 1; head 1 finite 1
// CHECK-NEXT: codes within K bits 1
func.func @case_e() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %nan = arith.constant 0x7FC00000 : f32
  %inf = arith.constant 0x7F800000 : f32
  %k = memref.alloc() : memref<1x1x8x8xf32>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x1x8x8xf32> into memref<64xf32>
  %kfd = memref.cast %kf : memref<64xf32> to memref<?xf32>
  %s1 = arith.constant 21 : i32
  func.call @fill(%kfd, %s1) : (memref<?xf32>, i32) -> ()
  %norms = memref.alloc() : memref<1x1x8xf32>
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%norms : memref<1x1x8xf32>)
  %mean = memref.alloc() : memref<1x1x8xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x1x8xf32>)
  %q = memref.alloc() : memref<1x2x8xf32>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x2x8xf32> into memref<16xf32>
  %qfd = memref.cast %qf : memref<16xf32> to memref<?xf32>
  %s2 = arith.constant 22 : i32
  func.call @fill(%qfd, %s2) : (memref<?xf32>, i32) -> ()
  memref.store %nan, %q[%c0, %c0, %c2] : memref<1x2x8xf32>
  %cand = memref.alloc() : memref<1x2x4xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  %n4 = arith.constant 4 : i32
  scf.for %h = %c0 to %c2 step %c1 {
    scf.for %r = %c0 to %c4 step %c1 {
      %j = arith.index_cast %r : index to i32
      memref.store %j, %cand[%c0, %h, %r] : memref<1x2x4xi32>
    }
    memref.store %n4, %counts[%c0, %h] : memref<1x2xi32>
  }
  %out = memref.alloc() : memref<1x2x8xf32>
  %lse = memref.alloc() : memref<1x2xf32>
  magicpig.estimate bits(2) tables(4) min_collisions(1) scale(0.35)
    ins(%q, %k, %k, %norms, %mean, %cand, %counts : memref<1x2x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x2x4xi32>, memref<1x2xi32>)
    outs(%out, %lse : memref<1x2x8xf32>, memref<1x2xf32>)
  %l0 = memref.load %lse[%c0, %c0] : memref<1x2xf32>
  %l0nan = arith.cmpf uno, %l0, %l0 : f32
  %o0 = memref.load %out[%c0, %c0, %c0] : memref<1x2x8xf32>
  %o0nan = arith.cmpf uno, %o0, %o0 : f32
  %l1 = memref.load %lse[%c0, %c1] : memref<1x2xf32>
  %l1d = arith.subf %l1, %l1 : f32
  %l1fin = arith.cmpf oeq, %l1d, %zero : f32
  vector.print str "E: non-finite\n"
  vector.print str "head 0 lse nan "
  vector.print %l0nan : i1 punctuation <no_punctuation>
  vector.print str " out nan "
  vector.print %o0nan : i1 punctuation <no_punctuation>
  vector.print str "; head 1 finite "
  vector.print %l1fin : i1

  // SimHash of rows holding NaN and +-inf: codes stay below 2^K.
  %x = memref.alloc() : memref<3x8xf32>
  linalg.fill ins(%one : f32) outs(%x : memref<3x8xf32>)
  %ninf = arith.constant 0xFF800000 : f32
  memref.store %nan, %x[%c0, %c1] : memref<3x8xf32>
  memref.store %inf, %x[%c1, %c2] : memref<3x8xf32>
  memref.store %ninf, %x[%c1, %c4] : memref<3x8xf32>
  memref.store %inf, %x[%c2, %c0] : memref<3x8xf32>
  %p = memref.alloc() : memref<8x15xf32>
  %pf = memref.collapse_shape %p [[0, 1]] : memref<8x15xf32> into memref<120xf32>
  %pfd = memref.cast %pf : memref<120xf32> to memref<?xf32>
  %s3 = arith.constant 23 : i32
  func.call @fill(%pfd, %s3) : (memref<?xf32>, i32) -> ()
  %codes = memref.alloc() : memref<3x5xi32>
  %garbage = arith.constant -1 : i32
  linalg.fill ins(%garbage : i32) outs(%codes : memref<3x5xi32>)
  magicpig.simhash bits(3) tables(5) ins(%x, %p : memref<3x8xf32>, memref<8x15xf32>) outs(%codes : memref<3x5xi32>)
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %true = arith.constant true
  %ok = scf.for %r = %c0 to %c3 step %c1 iter_args(%a = %true) -> i1 {
    %ro = scf.for %l = %c0 to %c5 step %c1 iter_args(%b = %a) -> i1 {
      %v = memref.load %codes[%r, %l] : memref<3x5xi32>
      %eight = arith.constant 8 : i32
      %lt = arith.cmpi ult, %v, %eight : i32
      %b1 = arith.andi %b, %lt : i1
      scf.yield %b1 : i1
    }
    scf.yield %ro : i1
  }
  vector.print str "codes within K bits "
  vector.print %ok : i1
  return
}

// F. Hkv = 0 behind dynamic shapes (the verifier checks only static ones).
// CHECK-LABEL: F: no kv head
// CHECK-NEXT: counts 0 0 lse -inf -inf
func.func @case_f() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %qc = memref.alloc() : memref<1x2x3xi8>
  %z8 = arith.constant 1 : i8
  linalg.fill ins(%z8 : i8) outs(%qc : memref<1x2x3xi8>)
  %off = memref.alloc(%c0) : memref<1x?x3x5xi32>
  %idx = memref.alloc(%c0) : memref<1x?x3x8xi32>
  %cand = memref.alloc() : memref<1x2x8xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  %seven = arith.constant 7 : i32
  linalg.fill ins(%seven : i32) outs(%counts : memref<1x2xi32>)
  magicpig.retrieve bits(2) min_collisions(1)
    ins(%qc, %off, %idx : memref<1x2x3xi8>, memref<1x?x3x5xi32>, memref<1x?x3x8xi32>)
    outs(%cand, %counts : memref<1x2x8xi32>, memref<1x2xi32>)
  %q = memref.alloc() : memref<1x2x4xf32>
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%q : memref<1x2x4xf32>)
  %k = memref.alloc(%c0) : memref<1x?x8x4xf32>
  %norms = memref.alloc(%c0) : memref<1x?x8xf32>
  %mean = memref.alloc(%c0) : memref<1x?x4xf32>
  %cands = memref.alloc() : memref<1x2x3xi32>
  %three = arith.constant 3 : i32
  %zero32 = arith.constant 0 : i32
  linalg.fill ins(%zero32 : i32) outs(%cands : memref<1x2x3xi32>)
  %cnts = memref.alloc() : memref<1x2xi32>
  linalg.fill ins(%three : i32) outs(%cnts : memref<1x2xi32>)
  %out = memref.alloc() : memref<1x2x4xf32>
  %lse = memref.alloc() : memref<1x2xf32>
  magicpig.estimate bits(2) tables(3) min_collisions(1) scale(0.5)
    ins(%q, %k, %k, %norms, %mean, %cands, %cnts : memref<1x2x4xf32>, memref<1x?x8x4xf32>, memref<1x?x8x4xf32>, memref<1x?x8xf32>, memref<1x?x4xf32>, memref<1x2x3xi32>, memref<1x2xi32>)
    outs(%out, %lse : memref<1x2x4xf32>, memref<1x2xf32>)
  %n0 = memref.load %counts[%c0, %c0] : memref<1x2xi32>
  %n1 = memref.load %counts[%c0, %c1] : memref<1x2xi32>
  %l0 = memref.load %lse[%c0, %c0] : memref<1x2xf32>
  %l1 = memref.load %lse[%c0, %c1] : memref<1x2xf32>
  vector.print str "F: no kv head\n"
  vector.print str "counts "
  vector.print %n0 : i32 punctuation <no_punctuation>
  vector.print str " "
  vector.print %n1 : i32 punctuation <no_punctuation>
  vector.print str " lse "
  vector.print %l0 : f32 punctuation <no_punctuation>
  vector.print str " "
  vector.print %l1 : f32
  return
}

func.func @main() {
  func.call @case_a() : () -> ()
  func.call @case_b() : () -> ()
  func.call @case_c() : () -> ()
  func.call @case_d() : () -> ()
  func.call @case_e() : () -> ()
  func.call @case_f() : () -> ()
  return
}
