// Statistical properties of the sampled estimate, through the generated
// code of simhash, build_tables, retrieve and estimate.
//
// 1. Unbiased limit: when every key is in S and every weight u is 1 the
//    estimate is exact softmax attention. With K = 1, L = 1000, T = 1,
//    u = 1 - (1 - p)^1000; for the keys here p >= 0.1 (angle <= 0.9 pi), so
//    (1 - p)^1000 < 1e-45 and u rounds to exactly 1.0 in f32 (checked
//    below from the naive formula), log(u) = 0, and s = scale * q.k. The
//    estimate must then match a naive exact attention to f32 rounding.
// 2. Consistency: on a fixed synthetic case (N = 2048, d = 32, K = 6,
//    T = 2, Gaussian projection, 16 query heads each aligned with one key)
//    the mean relative L2 error of the estimate vs exact attention falls
//    as L grows: L = 10, 50, 150 use the first L tables of one projection,
//    so the retrieved sets grow (here 2%, 24% and 64% of the keys; errors
//    0.30, 0.043 and 0.0069). FileCheck cannot compare numbers, so the
//    ordering is computed in IR and printed as 1/0 next to the errors.
//
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s

// CHECK-LABEL: exact limit
// CHECK-NEXT: u == 1 for every key: 1
// CHECK-NEXT: out matches exact attention: 1 lse matches: 1
// CHECK-LABEL: error vs exact attention
// CHECK: decreasing in L: 1
// CHECK-NEXT: L = 150 below 0.1: 1

func.func @uniform(%i: index, %seed: i32) -> f32 {
  %k1 = arith.constant -1640531535 : i32
  %k2 = arith.constant -2048144777 : i32
  %k3 = arith.constant 2146121005 : i32
  %k4 = arith.constant -2073254261 : i32
  %s16 = arith.constant 16 : i32
  %s15 = arith.constant 15 : i32
  %s8 = arith.constant 8 : i32
  %scale = arith.constant 5.96046448e-08 : f32
  %half = arith.constant 2.98023224e-08 : f32
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
  %top = arith.shrui %h5, %s8 : i32
  %f = arith.uitofp %top : i32 to f32
  %u0 = arith.mulf %f, %scale : f32
  // In (0, 1): never 0, so log(u) below is finite.
  %u = arith.addf %u0, %half : f32
  return %u : f32
}

// Standard normal values (Box-Muller), for a rotation-invariant SimHash.
func.func @gaussian(%m: memref<?xf32>, %seed: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %m, %c0 : memref<?xf32>
  %two = arith.constant 2 : index
  %m2 = arith.constant -2.0 : f32
  %tau = arith.constant 6.28318530 : f32
  %seed2 = arith.addi %seed, %seed : i32
  %one32 = arith.constant 1 : i32
  %seed3 = arith.addi %seed2, %one32 : i32
  scf.for %i = %c0 to %n step %c1 {
    %u1 = func.call @uniform(%i, %seed2) : (index, i32) -> f32
    %u2 = func.call @uniform(%i, %seed3) : (index, i32) -> f32
    %l = math.log %u1 : f32
    %r2 = arith.mulf %m2, %l : f32
    %r = math.sqrt %r2 : f32
    %ang = arith.mulf %tau, %u2 : f32
    %c = math.cos %ang : f32
    %z = arith.mulf %r, %c : f32
    memref.store %z, %m[%i] : memref<?xf32>
  }
  return
}

// Naive exact attention of q [1, H, d] over all keys of k/v [1, 1, N, d].
func.func @exact(%q: memref<?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                 %v: memref<?x?x?x?xf32>, %out: memref<?x?x?xf32>,
                 %lse: memref<?x?xf32>, %scale: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %hq = memref.dim %q, %c1 : memref<?x?x?xf32>
  %d = memref.dim %q, %c2 : memref<?x?x?xf32>
  %n = memref.dim %k, %c2 : memref<?x?x?x?xf32>
  %dv = memref.dim %v, %c3 : memref<?x?x?x?xf32>
  %s = memref.alloc(%n) : memref<?xf32>
  scf.for %h = %c0 to %hq step %c1 {
    %m = scf.for %j = %c0 to %n step %c1 iter_args(%mx = %ninf) -> f32 {
      %dot = scf.for %e = %c0 to %d step %c1 iter_args(%a = %zero) -> f32 {
        %x = memref.load %q[%c0, %h, %e] : memref<?x?x?xf32>
        %y = memref.load %k[%c0, %c0, %j, %e] : memref<?x?x?x?xf32>
        %xy = arith.mulf %x, %y : f32
        %a1 = arith.addf %a, %xy : f32
        scf.yield %a1 : f32
      }
      %sj = arith.mulf %scale, %dot : f32
      memref.store %sj, %s[%j] : memref<?xf32>
      %mx1 = arith.maximumf %mx, %sj : f32
      scf.yield %mx1 : f32
    }
    %l = scf.for %j = %c0 to %n step %c1 iter_args(%a = %zero) -> f32 {
      %sj = memref.load %s[%j] : memref<?xf32>
      %t = arith.subf %sj, %m : f32
      %w = math.exp %t : f32
      memref.store %w, %s[%j] : memref<?xf32>
      %a1 = arith.addf %a, %w : f32
      scf.yield %a1 : f32
    }
    scf.for %e = %c0 to %dv step %c1 {
      %o = scf.for %j = %c0 to %n step %c1 iter_args(%a = %zero) -> f32 {
        %w = memref.load %s[%j] : memref<?xf32>
        %x = memref.load %v[%c0, %c0, %j, %e] : memref<?x?x?x?xf32>
        %wx = arith.mulf %w, %x : f32
        %a1 = arith.addf %a, %wx : f32
        scf.yield %a1 : f32
      }
      %ol = arith.divf %o, %l : f32
      memref.store %ol, %out[%c0, %h, %e] : memref<?x?x?xf32>
    }
    %logl = math.log %l : f32
    %ls = arith.addf %m, %logl : f32
    memref.store %ls, %lse[%c0, %h] : memref<?x?xf32>
  }
  return
}

func.func @norms(%k: memref<?x?x?x?xf32>, %n: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %nn = memref.dim %k, %c2 : memref<?x?x?x?xf32>
  %d = memref.dim %k, %c3 : memref<?x?x?x?xf32>
  scf.for %j = %c0 to %nn step %c1 {
    %s = scf.for %e = %c0 to %d step %c1 iter_args(%a = %zero) -> f32 {
      %x = memref.load %k[%c0, %c0, %j, %e] : memref<?x?x?x?xf32>
      %xx = arith.mulf %x, %x : f32
      %a1 = arith.addf %a, %xx : f32
      scf.yield %a1 : f32
    }
    %r = math.sqrt %s : f32
    memref.store %r, %n[%c0, %c0, %j] : memref<?x?x?xf32>
  }
  return
}

// Mean over heads of |out - ref|_2 / |ref|_2.
func.func @relative_error(%out: memref<?x?x?xf32>, %ref: memref<?x?x?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %hq = memref.dim %out, %c1 : memref<?x?x?xf32>
  %dv = memref.dim %out, %c2 : memref<?x?x?xf32>
  %sum = scf.for %h = %c0 to %hq step %c1 iter_args(%acc = %zero) -> f32 {
    %r:2 = scf.for %e = %c0 to %dv step %c1 iter_args(%num = %zero, %den = %zero) -> (f32, f32) {
      %x = memref.load %out[%c0, %h, %e] : memref<?x?x?xf32>
      %y = memref.load %ref[%c0, %h, %e] : memref<?x?x?xf32>
      %d = arith.subf %x, %y : f32
      %dd = arith.mulf %d, %d : f32
      %yy = arith.mulf %y, %y : f32
      %num1 = arith.addf %num, %dd : f32
      %den1 = arith.addf %den, %yy : f32
      scf.yield %num1, %den1 : f32, f32
    }
    %q = arith.divf %r#0, %r#1 : f32
    %rel = math.sqrt %q : f32
    %acc1 = arith.addf %acc, %rel : f32
    scf.yield %acc1 : f32
  }
  %hf0 = arith.index_cast %hq : index to i32
  %hf = arith.sitofp %hf0 : i32 to f32
  %mean = arith.divf %sum, %hf : f32
  return %mean : f32
}

// Part 1: K = 1, L = 1000, T = 1, every key a candidate.
func.func @exact_limit() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %k = memref.alloc() : memref<1x1x64x16xf32>
  %v = memref.alloc() : memref<1x1x64x16xf32>
  %q = memref.alloc() : memref<1x2x16xf32>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x1x64x16xf32> into memref<1024xf32>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<1x1x64x16xf32> into memref<1024xf32>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x2x16xf32> into memref<32xf32>
  %kd = memref.cast %kf : memref<1024xf32> to memref<?xf32>
  %vd = memref.cast %vf : memref<1024xf32> to memref<?xf32>
  %qd = memref.cast %qf : memref<32xf32> to memref<?xf32>
  %s1 = arith.constant 1 : i32
  %s2 = arith.constant 2 : i32
  %s3 = arith.constant 3 : i32
  func.call @gaussian(%kd, %s1) : (memref<?xf32>, i32) -> ()
  func.call @gaussian(%vd, %s2) : (memref<?xf32>, i32) -> ()
  func.call @gaussian(%qd, %s3) : (memref<?xf32>, i32) -> ()
  %k4 = memref.cast %k : memref<1x1x64x16xf32> to memref<?x?x?x?xf32>
  %v4 = memref.cast %v : memref<1x1x64x16xf32> to memref<?x?x?x?xf32>
  %q3 = memref.cast %q : memref<1x2x16xf32> to memref<?x?x?xf32>
  %norms = memref.alloc() : memref<1x1x64xf32>
  %nd = memref.cast %norms : memref<1x1x64xf32> to memref<?x?x?xf32>
  func.call @norms(%k4, %nd) : (memref<?x?x?x?xf32>, memref<?x?x?xf32>) -> ()
  %mean = memref.alloc() : memref<1x1x16xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x1x16xf32>)
  %cand = memref.alloc() : memref<1x2x64xi32>
  %counts = memref.alloc() : memref<1x2xi32>
  %n64 = arith.constant 64 : i32
  scf.for %h = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c64 step %c1 {
      %j32 = arith.index_cast %j : index to i32
      memref.store %j32, %cand[%c0, %h, %j] : memref<1x2x64xi32>
    }
    memref.store %n64, %counts[%c0, %h] : memref<1x2xi32>
  }
  %out = memref.alloc() : memref<1x2x16xf32>
  %lse = memref.alloc() : memref<1x2xf32>
  magicpig.estimate bits(1) tables(1000) min_collisions(1) scale(0.25)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x2x16xf32>, memref<1x1x64x16xf32>, memref<1x1x64x16xf32>, memref<1x1x64xf32>, memref<1x1x16xf32>, memref<1x2x64xi32>, memref<1x2xi32>)
    outs(%out, %lse : memref<1x2x16xf32>, memref<1x2xf32>)
  %ref = memref.alloc() : memref<1x2x16xf32>
  %lref = memref.alloc() : memref<1x2xf32>
  %rd = memref.cast %ref : memref<1x2x16xf32> to memref<?x?x?xf32>
  %lrd = memref.cast %lref : memref<1x2xf32> to memref<?x?xf32>
  %scale = arith.constant 0.25 : f32
  func.call @exact(%q3, %k4, %v4, %rd, %lrd, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, f32) -> ()

  // u rounds to 1 in f32 for every (head, key): 1 - (1 - p)^1000 with
  // (1 - p)^1000 below 2^-25 (half an ulp of 1 is 2^-24).
  %true = arith.constant true
  %c16 = arith.constant 16 : index
  %pi = arith.constant 3.141592653589793 : f64
  %oned = arith.constant 1.0 : f64
  %thousand = arith.constant 1000.0 : f64
  %limit = arith.constant 2.9802322387695312e-08 : f64
  %uOne = scf.for %h = %c0 to %c2 step %c1 iter_args(%a = %true) -> i1 {
    %ah = scf.for %j = %c0 to %c64 step %c1 iter_args(%b = %a) -> i1 {
      %dots:2 = scf.for %e = %c0 to %c16 step %c1 iter_args(%s = %zero, %qq = %zero) -> (f32, f32) {
        %x = memref.load %q[%c0, %h, %e] : memref<1x2x16xf32>
        %y = memref.load %k[%c0, %c0, %j, %e] : memref<1x1x64x16xf32>
        %xy = arith.mulf %x, %y : f32
        %xx = arith.mulf %x, %x : f32
        %s1v = arith.addf %s, %xy : f32
        %qq1 = arith.addf %qq, %xx : f32
        scf.yield %s1v, %qq1 : f32, f32
      }
      %qn = math.sqrt %dots#1 : f32
      %kn = memref.load %norms[%c0, %c0, %j] : memref<1x1x64xf32>
      %den = arith.mulf %qn, %kn : f32
      %cos = arith.divf %dots#0, %den : f32
      %cosd = arith.extf %cos : f32 to f64
      %ang = math.acos %cosd : f64
      %frac = arith.divf %ang, %pi : f64
      %p = arith.subf %oned, %frac : f64
      %miss1 = arith.subf %oned, %p : f64
      %miss = math.powf %miss1, %thousand : f64
      %small = arith.cmpf olt, %miss, %limit : f64
      %b1 = arith.andi %b, %small : i1
      scf.yield %b1 : i1
    }
    scf.yield %ah : i1
  }
  %tol = arith.constant 1.0e-6 : f32
  %ltol = arith.constant 1.0e-5 : f32
  %ok:2 = scf.for %h = %c0 to %c2 step %c1 iter_args(%a = %true, %la = %true) -> (i1, i1) {
    %ah = scf.for %e = %c0 to %c16 step %c1 iter_args(%b = %a) -> i1 {
      %x = memref.load %out[%c0, %h, %e] : memref<1x2x16xf32>
      %y = memref.load %ref[%c0, %h, %e] : memref<1x2x16xf32>
      %d = arith.subf %x, %y : f32
      %ad = math.absf %d : f32
      %c = arith.cmpf ole, %ad, %tol : f32
      %b1 = arith.andi %b, %c : i1
      scf.yield %b1 : i1
    }
    %l0 = memref.load %lse[%c0, %h] : memref<1x2xf32>
    %l1 = memref.load %lref[%c0, %h] : memref<1x2xf32>
    %ld = arith.subf %l0, %l1 : f32
    %lad = math.absf %ld : f32
    %lc = arith.cmpf ole, %lad, %ltol : f32
    %la1 = arith.andi %la, %lc : i1
    scf.yield %ah, %la1 : i1, i1
  }
  vector.print str "exact limit\n"
  vector.print str "u == 1 for every key: "
  vector.print %uOne : i1
  vector.print str "out matches exact attention: "
  vector.print %ok#0 : i1 punctuation <no_punctuation>
  vector.print str " lse matches: "
  vector.print %ok#1 : i1
  return
}

// Part 2 data: N = 2048 keys and values, 16 query heads; query h is
// 2 * key (100 h + 7) plus Gaussian noise, so each head attends mostly to
// a few keys on top of a broad background.
func.func @make_case(%k: memref<1x1x2048x32xf32>, %v: memref<1x1x2048x32xf32>,
                     %q: memref<1x16x32xf32>, %p: memref<32x900xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c100 = arith.constant 100 : index
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x1x2048x32xf32> into memref<65536xf32>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<1x1x2048x32xf32> into memref<65536xf32>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x16x32xf32> into memref<512xf32>
  %pf = memref.collapse_shape %p [[0, 1]] : memref<32x900xf32> into memref<28800xf32>
  %kd = memref.cast %kf : memref<65536xf32> to memref<?xf32>
  %vd = memref.cast %vf : memref<65536xf32> to memref<?xf32>
  %qd = memref.cast %qf : memref<512xf32> to memref<?xf32>
  %pd = memref.cast %pf : memref<28800xf32> to memref<?xf32>
  %s1 = arith.constant 11 : i32
  %s2 = arith.constant 12 : i32
  %s3 = arith.constant 13 : i32
  %s4 = arith.constant 14 : i32
  func.call @gaussian(%kd, %s1) : (memref<?xf32>, i32) -> ()
  func.call @gaussian(%vd, %s2) : (memref<?xf32>, i32) -> ()
  func.call @gaussian(%qd, %s3) : (memref<?xf32>, i32) -> ()
  func.call @gaussian(%pd, %s4) : (memref<?xf32>, i32) -> ()
  %two = arith.constant 2.0 : f32
  %noise = arith.constant 0.5 : f32
  scf.for %h = %c0 to %c16 step %c1 {
    %h100 = arith.muli %h, %c100 : index
    %j = arith.addi %h100, %c7 : index
    scf.for %e = %c0 to %c32 step %c1 {
      %x = memref.load %k[%c0, %c0, %j, %e] : memref<1x1x2048x32xf32>
      %n = memref.load %q[%c0, %h, %e] : memref<1x16x32xf32>
      %x2 = arith.mulf %x, %two : f32
      %n2 = arith.mulf %n, %noise : f32
      %y = arith.addf %x2, %n2 : f32
      memref.store %y, %q[%c0, %h, %e] : memref<1x16x32xf32>
    }
  }
  return
}

func.func @error_vs_tables() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %k = memref.alloc() : memref<1x1x2048x32xf32>
  %v = memref.alloc() : memref<1x1x2048x32xf32>
  %q = memref.alloc() : memref<1x16x32xf32>
  %p = memref.alloc() : memref<32x900xf32>
  func.call @make_case(%k, %v, %q, %p) : (memref<1x1x2048x32xf32>, memref<1x1x2048x32xf32>, memref<1x16x32xf32>, memref<32x900xf32>) -> ()
  %k4 = memref.cast %k : memref<1x1x2048x32xf32> to memref<?x?x?x?xf32>
  %v4 = memref.cast %v : memref<1x1x2048x32xf32> to memref<?x?x?x?xf32>
  %q3 = memref.cast %q : memref<1x16x32xf32> to memref<?x?x?xf32>
  %norms = memref.alloc() : memref<1x1x2048xf32>
  %nd = memref.cast %norms : memref<1x1x2048xf32> to memref<?x?x?xf32>
  func.call @norms(%k4, %nd) : (memref<?x?x?x?xf32>, memref<?x?x?xf32>) -> ()
  %mean = memref.alloc() : memref<1x1x32xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x1x32xf32>)
  %ref = memref.alloc() : memref<1x16x32xf32>
  %lref = memref.alloc() : memref<1x16xf32>
  %rd = memref.cast %ref : memref<1x16x32xf32> to memref<?x?x?xf32>
  %lrd = memref.cast %lref : memref<1x16xf32> to memref<?x?xf32>
  %scale = arith.constant 0.1767767 : f32
  func.call @exact(%q3, %k4, %v4, %rd, %lrd, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, f32) -> ()
  %cand = memref.alloc() : memref<1x16x2048xi32>
  %counts = memref.alloc() : memref<1x16xi32>
  %out = memref.alloc() : memref<1x16x32xf32>
  %lse = memref.alloc() : memref<1x16xf32>
  %od = memref.cast %out : memref<1x16x32xf32> to memref<?x?x?xf32>

  // L = 10: the first 60 projection columns.
  %p10 = memref.subview %p[0, 0] [32, 60] [1, 1] : memref<32x900xf32> to memref<32x60xf32, strided<[900, 1]>>
  %codes10 = memref.alloc() : memref<1x1x2048x10xi16>
  magicpig.simhash bits(6) tables(10) ins(%k, %p10 : memref<1x1x2048x32xf32>, memref<32x60xf32, strided<[900, 1]>>) outs(%codes10 : memref<1x1x2048x10xi16>)
  %off10 = memref.alloc() : memref<1x1x10x65xi32>
  %idx10 = memref.alloc() : memref<1x1x10x2048xi32>
  magicpig.build_tables bits(6) sink(0) window(0) ins(%codes10 : memref<1x1x2048x10xi16>) outs(%off10, %idx10 : memref<1x1x10x65xi32>, memref<1x1x10x2048xi32>)
  %qc10 = memref.alloc() : memref<1x16x10xi16>
  magicpig.simhash bits(6) tables(10) ins(%q, %p10 : memref<1x16x32xf32>, memref<32x60xf32, strided<[900, 1]>>) outs(%qc10 : memref<1x16x10xi16>)
  magicpig.retrieve bits(6) min_collisions(2) ins(%qc10, %off10, %idx10 : memref<1x16x10xi16>, memref<1x1x10x65xi32>, memref<1x1x10x2048xi32>) outs(%cand, %counts : memref<1x16x2048xi32>, memref<1x16xi32>)
  magicpig.estimate bits(6) tables(10) min_collisions(2) scale(0.1767767)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x16x32xf32>, memref<1x1x2048x32xf32>, memref<1x1x2048x32xf32>, memref<1x1x2048xf32>, memref<1x1x32xf32>, memref<1x16x2048xi32>, memref<1x16xi32>)
    outs(%out, %lse : memref<1x16x32xf32>, memref<1x16xf32>)
  %e10 = func.call @relative_error(%od, %rd) : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> f32
  %n10 = func.call @total(%counts) : (memref<1x16xi32>) -> i32

  // L = 50.
  %p50 = memref.subview %p[0, 0] [32, 300] [1, 1] : memref<32x900xf32> to memref<32x300xf32, strided<[900, 1]>>
  %codes50 = memref.alloc() : memref<1x1x2048x50xi16>
  magicpig.simhash bits(6) tables(50) ins(%k, %p50 : memref<1x1x2048x32xf32>, memref<32x300xf32, strided<[900, 1]>>) outs(%codes50 : memref<1x1x2048x50xi16>)
  %off50 = memref.alloc() : memref<1x1x50x65xi32>
  %idx50 = memref.alloc() : memref<1x1x50x2048xi32>
  magicpig.build_tables bits(6) sink(0) window(0) ins(%codes50 : memref<1x1x2048x50xi16>) outs(%off50, %idx50 : memref<1x1x50x65xi32>, memref<1x1x50x2048xi32>)
  %qc50 = memref.alloc() : memref<1x16x50xi16>
  magicpig.simhash bits(6) tables(50) ins(%q, %p50 : memref<1x16x32xf32>, memref<32x300xf32, strided<[900, 1]>>) outs(%qc50 : memref<1x16x50xi16>)
  magicpig.retrieve bits(6) min_collisions(2) ins(%qc50, %off50, %idx50 : memref<1x16x50xi16>, memref<1x1x50x65xi32>, memref<1x1x50x2048xi32>) outs(%cand, %counts : memref<1x16x2048xi32>, memref<1x16xi32>)
  magicpig.estimate bits(6) tables(50) min_collisions(2) scale(0.1767767)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x16x32xf32>, memref<1x1x2048x32xf32>, memref<1x1x2048x32xf32>, memref<1x1x2048xf32>, memref<1x1x32xf32>, memref<1x16x2048xi32>, memref<1x16xi32>)
    outs(%out, %lse : memref<1x16x32xf32>, memref<1x16xf32>)
  %e50 = func.call @relative_error(%od, %rd) : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> f32
  %n50 = func.call @total(%counts) : (memref<1x16xi32>) -> i32

  // L = 150: all 900 columns.
  %codes150 = memref.alloc() : memref<1x1x2048x150xi16>
  magicpig.simhash bits(6) tables(150) ins(%k, %p : memref<1x1x2048x32xf32>, memref<32x900xf32>) outs(%codes150 : memref<1x1x2048x150xi16>)
  %off150 = memref.alloc() : memref<1x1x150x65xi32>
  %idx150 = memref.alloc() : memref<1x1x150x2048xi32>
  magicpig.build_tables bits(6) sink(0) window(0) ins(%codes150 : memref<1x1x2048x150xi16>) outs(%off150, %idx150 : memref<1x1x150x65xi32>, memref<1x1x150x2048xi32>)
  %qc150 = memref.alloc() : memref<1x16x150xi16>
  magicpig.simhash bits(6) tables(150) ins(%q, %p : memref<1x16x32xf32>, memref<32x900xf32>) outs(%qc150 : memref<1x16x150xi16>)
  magicpig.retrieve bits(6) min_collisions(2) ins(%qc150, %off150, %idx150 : memref<1x16x150xi16>, memref<1x1x150x65xi32>, memref<1x1x150x2048xi32>) outs(%cand, %counts : memref<1x16x2048xi32>, memref<1x16xi32>)
  magicpig.estimate bits(6) tables(150) min_collisions(2) scale(0.1767767)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x16x32xf32>, memref<1x1x2048x32xf32>, memref<1x1x2048x32xf32>, memref<1x1x2048xf32>, memref<1x1x32xf32>, memref<1x16x2048xi32>, memref<1x16xi32>)
    outs(%out, %lse : memref<1x16x32xf32>, memref<1x16xf32>)
  %e150 = func.call @relative_error(%od, %rd) : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> f32
  %n150 = func.call @total(%counts) : (memref<1x16xi32>) -> i32

  vector.print str "error vs exact attention\n"
  vector.print str "L = 10: "
  vector.print %e10 : f32 punctuation <no_punctuation>
  vector.print str " retrieved "
  vector.print %n10 : i32
  vector.print str "L = 50: "
  vector.print %e50 : f32 punctuation <no_punctuation>
  vector.print str " retrieved "
  vector.print %n50 : i32
  vector.print str "L = 150: "
  vector.print %e150 : f32 punctuation <no_punctuation>
  vector.print str " retrieved "
  vector.print %n150 : i32
  %d1 = arith.cmpf ogt, %e10, %e50 : f32
  %d2 = arith.cmpf ogt, %e50, %e150 : f32
  %dec = arith.andi %d1, %d2 : i1
  vector.print str "decreasing in L: "
  vector.print %dec : i1
  %tenth = arith.constant 0.1 : f32
  %small = arith.cmpf olt, %e150, %tenth : f32
  vector.print str "L = 150 below 0.1: "
  vector.print %small : i1
  return
}

// Sum of the counts over the 16 heads.
func.func @total(%counts: memref<1x16xi32>) -> i32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %z = arith.constant 0 : i32
  %t = scf.for %h = %c0 to %c16 step %c1 iter_args(%a = %z) -> i32 {
    %n = memref.load %counts[%c0, %h] : memref<1x16xi32>
    %a1 = arith.addi %a, %n : i32
    scf.yield %a1 : i32
  }
  return %t : i32
}

func.func @main() {
  func.call @exact_limit() : () -> ()
  func.call @error_vs_tables() : () -> ()
  return
}
