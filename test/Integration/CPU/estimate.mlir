// magicpig.estimate from the lowering against the op's formula evaluated
// naively in this file (scalar loops, libm acos/pow/log/exp in f64 where
// the formula allows), with m the key mean and n_j = |k_j - m|:
//   cos = clamp((q.k - q.m) / max(|q| n_j, 1e-30), -1, 1)
//   p = 1 - acos(cos) / pi
//   u = 1 - sum_{t<T} binom(L, t) p^(Kt) (1 - p^K)^(L-t)
//   s = scale q.k - log(max(u, 1e-30)),  out = softmax(s) . V,  lse
// over the first clamp(counts, 0, C) candidates, skipping those outside
// [0, min(N, Nn)) (Nn: the length of the norms). Case 1 mixes invalid
// candidates, norms shorter than the cache, an empty head (lse = -inf),
// counts above C and negative counts; case 2 has Llama-like parameters
// (bf16, d = 128, K = 10, L = 150); case 3 has T = 3, f16 everywhere, a
// head dim below the vector width; case 4 is case 3 with L = 40, T = 20
// (the sum of u's terms in a loop rather than unrolled).
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
//
// Tolerances: outputs are convex combinations of values in [-1, 1); both
// sides accumulate in f32 in different orders, and the kernel's acos, log
// and exp are vector polynomials a few ulp from libm. A correct kernel is
// within ~1e-6 (f32 outputs); 2e-5 on out and 1e-4 on lse leave margin
// while any wrong weight, index or skipped candidate is far above. f16
// outputs are compared at 2e-3 (their rounding is 5e-4).

// CHECK-LABEL: case 1
// CHECK-NEXT: out ok 1 lse ok 1
// CHECK-NEXT: lse finite 1 0 1 0
// CHECK-LABEL: case 2
// CHECK-NEXT: out ok 1 lse ok 1
// CHECK-LABEL: case 3
// CHECK-NEXT: out ok 1 lse ok 1
// CHECK-LABEL: case 4
// CHECK-NEXT: out ok 1 lse ok 1

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

// Rounds `src` to bf16 into `dst`, and `src` to the rounded values.
func.func @to_bf16(%src: memref<?xf32>, %dst: memref<?xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %src, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %src[%i] : memref<?xf32>
    %t = arith.truncf %v : f32 to bf16
    memref.store %t, %dst[%i] : memref<?xbf16>
    %w = arith.extf %t : bf16 to f32
    memref.store %w, %src[%i] : memref<?xf32>
  }
  return
}

func.func @to_f16(%src: memref<?xf32>, %dst: memref<?xf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %src, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %src[%i] : memref<?xf32>
    %t = arith.truncf %v : f32 to f16
    memref.store %t, %dst[%i] : memref<?xf16>
    %w = arith.extf %t : f16 to f32
    memref.store %w, %src[%i] : memref<?xf32>
  }
  return
}

// n[b, g, j] = |k[b, g, j, :] - m[b, g, :]| for the first Nn keys.
func.func @norms(%k: memref<?x?x?x?xf32>, %m: memref<?x?x?xf32>,
                 %n: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %d0 = memref.dim %k, %c0 : memref<?x?x?x?xf32>
  %d1 = memref.dim %k, %c1 : memref<?x?x?x?xf32>
  %d2 = memref.dim %n, %c2 : memref<?x?x?xf32>
  %d3 = memref.dim %k, %c3 : memref<?x?x?x?xf32>
  scf.for %b = %c0 to %d0 step %c1 {
    scf.for %g = %c0 to %d1 step %c1 {
      scf.for %j = %c0 to %d2 step %c1 {
        %s = scf.for %e = %c0 to %d3 step %c1 iter_args(%a = %zero) -> f32 {
          %x0 = memref.load %k[%b, %g, %j, %e] : memref<?x?x?x?xf32>
          %mv = memref.load %m[%b, %g, %e] : memref<?x?x?xf32>
          %x = arith.subf %x0, %mv : f32
          %xx = arith.mulf %x, %x : f32
          %a1 = arith.addf %a, %xx : f32
          scf.yield %a1 : f32
        }
        %r = math.sqrt %s : f32
        memref.store %r, %n[%b, %g, %j] : memref<?x?x?xf32>
      }
    }
  }
  return
}

// The score s of key j for query head (b, h) (kv head g), from the op's
// formula, evaluated term by term.
func.func @score(%q: memref<?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                 %norms: memref<?x?x?xf32>, %mean: memref<?x?x?xf32>, %b: index, %h: index, %g: index,
                 %j: index, %bits: i64, %tables: i64, %minHits: i64,
                 %scale: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %d = memref.dim %q, %c2 : memref<?x?x?xf32>
  %qq:3 = scf.for %e = %c0 to %d step %c1 iter_args(%a = %zero, %n2 = %zero, %am = %zero) -> (f32, f32, f32) {
    %x = memref.load %q[%b, %h, %e] : memref<?x?x?xf32>
    %y = memref.load %k[%b, %g, %j, %e] : memref<?x?x?x?xf32>
    %mv = memref.load %mean[%b, %g, %e] : memref<?x?x?xf32>
    %xy = arith.mulf %x, %y : f32
    %a1 = arith.addf %a, %xy : f32
    %xx = arith.mulf %x, %x : f32
    %n3 = arith.addf %n2, %xx : f32
    %xm = arith.mulf %x, %mv : f32
    %am1 = arith.addf %am, %xm : f32
    scf.yield %a1, %n3, %am1 : f32, f32, f32
  }
  %qn = math.sqrt %qq#1 : f32
  %centered = arith.subf %qq#0, %qq#2 : f32
  %kn = memref.load %norms[%b, %g, %j] : memref<?x?x?xf32>
  %den0 = arith.mulf %qn, %kn : f32
  %tiny = arith.constant 1.0e-30 : f32
  %den = arith.maximumf %den0, %tiny : f32
  %cos0 = arith.divf %centered, %den : f32
  %m1 = arith.constant -1.0 : f32
  %p1 = arith.constant 1.0 : f32
  %cos1 = arith.maximumf %cos0, %m1 : f32
  %cos = arith.minimumf %cos1, %p1 : f32
  %cosd = arith.extf %cos : f32 to f64
  %angle = math.acos %cosd : f64
  %pi = arith.constant 3.141592653589793 : f64
  %one = arith.constant 1.0 : f64
  %frac = arith.divf %angle, %pi : f64
  %p = arith.subf %one, %frac : f64
  %kf = arith.sitofp %bits : i64 to f64
  %x = math.powf %p, %kf : f64
  %y = arith.subf %one, %x : f64
  %lf = arith.sitofp %tables : i64 to f64
  %tn = arith.index_cast %minHits : i64 to index
  %zd = arith.constant 0.0 : f64
  %miss = scf.for %t = %c0 to %tn step %c1 iter_args(%acc = %zd) -> f64 {
    // binom(L, t) = prod_{i=1..t} (L - t + i) / i
    %ti = arith.index_cast %t : index to i64
    %tf = arith.sitofp %ti : i64 to f64
    %tp1 = arith.addi %t, %c1 : index
    %binom = scf.for %i = %c1 to %tp1 step %c1 iter_args(%c = %one) -> f64 {
      %ii = arith.index_cast %i : index to i64
      %if = arith.sitofp %ii : i64 to f64
      %lt = arith.subf %lf, %tf : f64
      %num = arith.addf %lt, %if : f64
      %c1v = arith.mulf %c, %num : f64
      %c2v = arith.divf %c1v, %if : f64
      scf.yield %c2v : f64
    }
    %xt = math.powf %x, %tf : f64
    %rest = arith.subf %lf, %tf : f64
    %yr = math.powf %y, %rest : f64
    %term0 = arith.mulf %binom, %xt : f64
    %term = arith.mulf %term0, %yr : f64
    %acc1 = arith.addf %acc, %term : f64
    scf.yield %acc1 : f64
  }
  %u = arith.subf %one, %miss : f64
  %uf = arith.truncf %u : f64 to f32
  %ufl = arith.maximumf %uf, %tiny : f32
  %logu = math.log %ufl : f32
  %sd = arith.mulf %scale, %qq#0 : f32
  %s = arith.subf %sd, %logu : f32
  return %s : f32
}

// The reference estimate: out [B, Hq, dv] and lse [B, Hq].
func.func @reference(%q: memref<?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                     %v: memref<?x?x?x?xf32>, %norms: memref<?x?x?xf32>,
                     %mean: memref<?x?x?xf32>, %cand: memref<?x?x?xi32>, %counts: memref<?x?xi32>,
                     %out: memref<?x?x?xf32>, %lse: memref<?x?xf32>,
                     %bits: i64, %tables: i64, %minHits: i64, %scale: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %nb = memref.dim %q, %c0 : memref<?x?x?xf32>
  %hq = memref.dim %q, %c1 : memref<?x?x?xf32>
  %hkv = memref.dim %k, %c1 : memref<?x?x?x?xf32>
  %n = memref.dim %norms, %c2 : memref<?x?x?xf32>
  %dv = memref.dim %v, %c3 : memref<?x?x?x?xf32>
  %cap = memref.dim %cand, %c2 : memref<?x?x?xi32>
  %group = arith.divui %hq, %hkv : index
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %h = %c0 to %hq step %c1 {
      %g = arith.divui %h, %group : index
      %cnt32 = memref.load %counts[%b, %h] : memref<?x?xi32>
      %cnt0 = arith.index_cast %cnt32 : i32 to index
      %cnt1 = arith.minsi %cnt0, %cap : index
      %cnt = arith.maxsi %cnt1, %c0 : index
      %m = scf.for %r = %c0 to %cnt step %c1 iter_args(%mx = %ninf) -> f32 {
        %j32 = memref.load %cand[%b, %h, %r] : memref<?x?x?xi32>
        %j = arith.index_cast %j32 : i32 to index
        %ge = arith.cmpi sge, %j, %c0 : index
        %lt = arith.cmpi slt, %j, %n : index
        %ok = arith.andi %ge, %lt : i1
        %mx1 = scf.if %ok -> f32 {
          %s = func.call @score(%q, %k, %norms, %mean, %b, %h, %g, %j, %bits, %tables, %minHits, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, index, index, index, index, i64, i64, i64, f32) -> f32
          %mm = arith.maximumf %mx, %s : f32
          scf.yield %mm : f32
        } else {
          scf.yield %mx : f32
        }
        scf.yield %mx1 : f32
      }
      %empty = arith.cmpf oeq, %m, %ninf : f32
      scf.if %empty {
        scf.for %e = %c0 to %dv step %c1 {
          memref.store %zero, %out[%b, %h, %e] : memref<?x?x?xf32>
        }
        memref.store %ninf, %lse[%b, %h] : memref<?x?xf32>
      } else {
        %l = scf.for %r = %c0 to %cnt step %c1 iter_args(%acc = %zero) -> f32 {
          %j32 = memref.load %cand[%b, %h, %r] : memref<?x?x?xi32>
          %j = arith.index_cast %j32 : i32 to index
          %ge = arith.cmpi sge, %j, %c0 : index
          %lt = arith.cmpi slt, %j, %n : index
          %ok = arith.andi %ge, %lt : i1
          %acc2 = scf.if %ok -> f32 {
            %s = func.call @score(%q, %k, %norms, %mean, %b, %h, %g, %j, %bits, %tables, %minHits, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, index, index, index, index, i64, i64, i64, f32) -> f32
            %sm = arith.subf %s, %m : f32
            %w = math.exp %sm : f32
            %acc1 = arith.addf %acc, %w : f32
            scf.yield %acc1 : f32
          } else {
            scf.yield %acc : f32
          }
          scf.yield %acc2 : f32
        }
        scf.for %e = %c0 to %dv step %c1 {
          %o = scf.for %r = %c0 to %cnt step %c1 iter_args(%acc = %zero) -> f32 {
            %j32 = memref.load %cand[%b, %h, %r] : memref<?x?x?xi32>
            %j = arith.index_cast %j32 : i32 to index
            %ge = arith.cmpi sge, %j, %c0 : index
            %lt = arith.cmpi slt, %j, %n : index
            %ok = arith.andi %ge, %lt : i1
            %acc2 = scf.if %ok -> f32 {
              %s = func.call @score(%q, %k, %norms, %mean, %b, %h, %g, %j, %bits, %tables, %minHits, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, index, index, index, index, i64, i64, i64, f32) -> f32
              %sm = arith.subf %s, %m : f32
              %w = math.exp %sm : f32
              %x = memref.load %v[%b, %g, %j, %e] : memref<?x?x?x?xf32>
              %wx = arith.mulf %w, %x : f32
              %acc1 = arith.addf %acc, %wx : f32
              scf.yield %acc1 : f32
            } else {
              scf.yield %acc : f32
            }
            scf.yield %acc2 : f32
          }
          %ol = arith.divf %o, %l : f32
          memref.store %ol, %out[%b, %h, %e] : memref<?x?x?xf32>
        }
        %logl = math.log %l : f32
        %ls = arith.addf %m, %logl : f32
        memref.store %ls, %lse[%b, %h] : memref<?x?xf32>
      }
    }
  }
  return
}

// Prints "out ok <0|1> lse ok <0|1>": max |out - ref| <= outTol and, per
// head, lse equal to the reference within 1e-4 (both -inf counts as equal).
func.func @compare(%out: memref<?x?x?xf32>, %ref: memref<?x?x?xf32>,
                   %lse: memref<?x?xf32>, %lref: memref<?x?xf32>,
                   %outTol: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ltol = arith.constant 1.0e-4 : f32
  %nb = memref.dim %out, %c0 : memref<?x?x?xf32>
  %hq = memref.dim %out, %c1 : memref<?x?x?xf32>
  %dv = memref.dim %out, %c2 : memref<?x?x?xf32>
  %true = arith.constant true
  %res:2 = scf.for %b = %c0 to %nb step %c1 iter_args(%e0 = %zero, %ok0 = %true) -> (f32, i1) {
    %rh:2 = scf.for %h = %c0 to %hq step %c1 iter_args(%e1 = %e0, %ok1 = %ok0) -> (f32, i1) {
      %eh = scf.for %e = %c0 to %dv step %c1 iter_args(%e2 = %e1) -> f32 {
        %x = memref.load %out[%b, %h, %e] : memref<?x?x?xf32>
        %y = memref.load %ref[%b, %h, %e] : memref<?x?x?xf32>
        %d = arith.subf %x, %y : f32
        %ad = math.absf %d : f32
        // NaN in the output makes the error NaN; maximumf keeps it.
        %e3 = arith.maximumf %e2, %ad : f32
        scf.yield %e3 : f32
      }
      %a = memref.load %lse[%b, %h] : memref<?x?xf32>
      %r = memref.load %lref[%b, %h] : memref<?x?xf32>
      %same = arith.cmpf oeq, %a, %r : f32
      %d = arith.subf %a, %r : f32
      %ad = math.absf %d : f32
      %close = arith.cmpf ole, %ad, %ltol : f32
      %okh = arith.ori %same, %close : i1
      %ok2 = arith.andi %ok1, %okh : i1
      scf.yield %eh, %ok2 : f32, i1
    }
    scf.yield %rh#0, %rh#1 : f32, i1
  }
  %outOk = arith.cmpf ole, %res#0, %outTol : f32
  vector.print str "out ok "
  vector.print %outOk : i1 punctuation <no_punctuation>
  vector.print str " lse ok "
  vector.print %res#1 : i1
  return
}

func.func @case1() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c12 = arith.constant 12 : index
  // B = 1, Hq = 4, Hkv = 2, N = 40, Nn = 30, d = 37, dv = 19, C = 12, f32.
  %q = memref.alloc() : memref<1x4x37xf32>
  %k = memref.alloc() : memref<1x2x40x37xf32>
  %v = memref.alloc() : memref<1x2x40x19xf32>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x4x37xf32> into memref<148xf32>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x2x40x37xf32> into memref<2960xf32>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<1x2x40x19xf32> into memref<1520xf32>
  %qd = memref.cast %qf : memref<148xf32> to memref<?xf32>
  %kd = memref.cast %kf : memref<2960xf32> to memref<?xf32>
  %vd = memref.cast %vf : memref<1520xf32> to memref<?xf32>
  %s1 = arith.constant 31 : i32
  %s2 = arith.constant 32 : i32
  %s3 = arith.constant 33 : i32
  func.call @fill(%qd, %s1) : (memref<?xf32>, i32) -> ()
  func.call @fill(%kd, %s2) : (memref<?xf32>, i32) -> ()
  func.call @fill(%vd, %s3) : (memref<?xf32>, i32) -> ()
  %k4 = memref.cast %k : memref<1x2x40x37xf32> to memref<?x?x?x?xf32>
  %mean = memref.alloc() : memref<1x2x37xf32>
  %meanf = memref.collapse_shape %mean [[0, 1, 2]] : memref<1x2x37xf32> into memref<74xf32>
  %meanfd = memref.cast %meanf : memref<74xf32> to memref<?xf32>
  %mseed = arith.constant 34 : i32
  func.call @fill(%meanfd, %mseed) : (memref<?xf32>, i32) -> ()
  %md = memref.cast %mean : memref<1x2x37xf32> to memref<?x?x?xf32>
  %norms = memref.alloc() : memref<1x2x30xf32>
  %nd = memref.cast %norms : memref<1x2x30xf32> to memref<?x?x?xf32>
  func.call @norms(%k4, %md, %nd) : (memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  // cand[h, r] = 3 r + h, except r = 4 -> -3, r = 7 -> N, r = 9 -> 1000.
  %cand = memref.alloc() : memref<1x4x12xi32>
  scf.for %h = %c0 to %c4 step %c1 {
    scf.for %r = %c0 to %c12 step %c1 {
      %r3 = arith.muli %r, %c4 : index
      %jj = arith.addi %r3, %h : index
      %j0 = arith.index_cast %jj : index to i32
      %c4i = arith.constant 4 : index
      %c7i = arith.constant 7 : index
      %c9i = arith.constant 9 : index
      %is4 = arith.cmpi eq, %r, %c4i : index
      %is7 = arith.cmpi eq, %r, %c7i : index
      %is9 = arith.cmpi eq, %r, %c9i : index
      %neg = arith.constant -3 : i32
      %nn = arith.constant 40 : i32
      %big = arith.constant 1000 : i32
      %j1 = arith.select %is4, %neg, %j0 : i32
      %j2 = arith.select %is7, %nn, %j1 : i32
      %j3 = arith.select %is9, %big, %j2 : i32
      memref.store %j3, %cand[%c0, %h, %r] : memref<1x4x12xi32>
    }
  }
  // counts: 10, 0 (empty), 99 (> C: clamped to 12), -4 (negative: empty).
  %counts = memref.alloc() : memref<1x4xi32>
  %n10 = arith.constant 10 : i32
  %n0 = arith.constant 0 : i32
  %n99 = arith.constant 99 : i32
  %nm4 = arith.constant -4 : i32
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  memref.store %n10, %counts[%c0, %c0] : memref<1x4xi32>
  memref.store %n0, %counts[%c0, %c1] : memref<1x4xi32>
  memref.store %n99, %counts[%c0, %c2] : memref<1x4xi32>
  memref.store %nm4, %counts[%c0, %c3] : memref<1x4xi32>
  %out = memref.alloc() : memref<1x4x19xf32>
  %lse = memref.alloc() : memref<1x4xf32>
  magicpig.estimate bits(3) tables(8) min_collisions(2) scale(0.164)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x4x37xf32>, memref<1x2x40x37xf32>, memref<1x2x40x19xf32>, memref<1x2x30xf32>, memref<1x2x37xf32>, memref<1x4x12xi32>, memref<1x4xi32>)
    outs(%out, %lse : memref<1x4x19xf32>, memref<1x4xf32>)
  %ref = memref.alloc() : memref<1x4x19xf32>
  %lref = memref.alloc() : memref<1x4xf32>
  %q3 = memref.cast %q : memref<1x4x37xf32> to memref<?x?x?xf32>
  %v4 = memref.cast %v : memref<1x2x40x19xf32> to memref<?x?x?x?xf32>
  %cd = memref.cast %cand : memref<1x4x12xi32> to memref<?x?x?xi32>
  %cnd = memref.cast %counts : memref<1x4xi32> to memref<?x?xi32>
  %rd = memref.cast %ref : memref<1x4x19xf32> to memref<?x?x?xf32>
  %lrd = memref.cast %lref : memref<1x4xf32> to memref<?x?xf32>
  %bits = arith.constant 3 : i64
  %tables = arith.constant 8 : i64
  %t = arith.constant 2 : i64
  %scale = arith.constant 0.164 : f32
  func.call @reference(%q3, %k4, %v4, %nd, %md, %cd, %cnd, %rd, %lrd, %bits, %tables, %t, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xi32>, memref<?x?xi32>, memref<?x?x?xf32>, memref<?x?xf32>, i64, i64, i64, f32) -> ()
  vector.print str "case 1\n"
  %od = memref.cast %out : memref<1x4x19xf32> to memref<?x?x?xf32>
  %ld = memref.cast %lse : memref<1x4xf32> to memref<?x?xf32>
  %tol = arith.constant 2.0e-5 : f32
  func.call @compare(%od, %rd, %ld, %lrd, %tol) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, f32) -> ()
  // Which heads got a sample (lse > -inf).
  vector.print str "lse finite"
  %ninf = arith.constant 0xFF800000 : f32
  scf.for %h = %c0 to %c4 step %c1 {
    %l = memref.load %lse[%c0, %h] : memref<1x4xf32>
    %fin = arith.cmpf ogt, %l, %ninf : f32
    vector.print str " "
    vector.print %fin : i1 punctuation <no_punctuation>
  }
  vector.print str "\n"
  return
}

func.func @case2() {
  // B = 1, Hq = 4, Hkv = 1, N = 300, d = dv = 128, C = 100, bf16 q/K/V,
  // f32 output, K = 10, L = 150, T = 2; candidates 3 r + h.
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c100 = arith.constant 100 : index
  %q32 = memref.alloc() : memref<512xf32>
  %k32 = memref.alloc() : memref<38400xf32>
  %v32 = memref.alloc() : memref<38400xf32>
  %qd = memref.cast %q32 : memref<512xf32> to memref<?xf32>
  %kd = memref.cast %k32 : memref<38400xf32> to memref<?xf32>
  %vd = memref.cast %v32 : memref<38400xf32> to memref<?xf32>
  %s1 = arith.constant 41 : i32
  %s2 = arith.constant 42 : i32
  %s3 = arith.constant 43 : i32
  func.call @fill(%qd, %s1) : (memref<?xf32>, i32) -> ()
  func.call @fill(%kd, %s2) : (memref<?xf32>, i32) -> ()
  func.call @fill(%vd, %s3) : (memref<?xf32>, i32) -> ()
  %q = memref.alloc() : memref<1x4x128xbf16>
  %k = memref.alloc() : memref<1x1x300x128xbf16>
  %v = memref.alloc() : memref<1x1x300x128xbf16>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<1x4x128xbf16> into memref<512xbf16>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<1x1x300x128xbf16> into memref<38400xbf16>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<1x1x300x128xbf16> into memref<38400xbf16>
  %qfd = memref.cast %qf : memref<512xbf16> to memref<?xbf16>
  %kfd = memref.cast %kf : memref<38400xbf16> to memref<?xbf16>
  %vfd = memref.cast %vf : memref<38400xbf16> to memref<?xbf16>
  func.call @to_bf16(%qd, %qfd) : (memref<?xf32>, memref<?xbf16>) -> ()
  func.call @to_bf16(%kd, %kfd) : (memref<?xf32>, memref<?xbf16>) -> ()
  func.call @to_bf16(%vd, %vfd) : (memref<?xf32>, memref<?xbf16>) -> ()
  %q3 = memref.expand_shape %q32 [[0, 1, 2]] output_shape [1, 4, 128] : memref<512xf32> into memref<1x4x128xf32>
  %k4 = memref.expand_shape %k32 [[0, 1, 2, 3]] output_shape [1, 1, 300, 128] : memref<38400xf32> into memref<1x1x300x128xf32>
  %v4 = memref.expand_shape %v32 [[0, 1, 2, 3]] output_shape [1, 1, 300, 128] : memref<38400xf32> into memref<1x1x300x128xf32>
  %q3d = memref.cast %q3 : memref<1x4x128xf32> to memref<?x?x?xf32>
  %k4d = memref.cast %k4 : memref<1x1x300x128xf32> to memref<?x?x?x?xf32>
  %v4d = memref.cast %v4 : memref<1x1x300x128xf32> to memref<?x?x?x?xf32>
  %mean = memref.alloc() : memref<1x1x128xf32>
  %meanf = memref.collapse_shape %mean [[0, 1, 2]] : memref<1x1x128xf32> into memref<128xf32>
  %meanfd = memref.cast %meanf : memref<128xf32> to memref<?xf32>
  %mseed = arith.constant 44 : i32
  func.call @fill(%meanfd, %mseed) : (memref<?xf32>, i32) -> ()
  %md = memref.cast %mean : memref<1x1x128xf32> to memref<?x?x?xf32>
  %norms = memref.alloc() : memref<1x1x300xf32>
  %nd = memref.cast %norms : memref<1x1x300xf32> to memref<?x?x?xf32>
  func.call @norms(%k4d, %md, %nd) : (memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  %cand = memref.alloc() : memref<1x4x100xi32>
  %counts = memref.alloc() : memref<1x4xi32>
  %n100 = arith.constant 100 : i32
  scf.for %h = %c0 to %c4 step %c1 {
    scf.for %r = %c0 to %c100 step %c1 {
      %r3 = arith.muli %r, %c3 : index
      %jj = arith.addi %r3, %h : index
      %j = arith.index_cast %jj : index to i32
      memref.store %j, %cand[%c0, %h, %r] : memref<1x4x100xi32>
    }
    memref.store %n100, %counts[%c0, %h] : memref<1x4xi32>
  }
  %out = memref.alloc() : memref<1x4x128xf32>
  %lse = memref.alloc() : memref<1x4xf32>
  magicpig.estimate bits(10) tables(150) min_collisions(2) scale(0.088388)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<1x4x128xbf16>, memref<1x1x300x128xbf16>, memref<1x1x300x128xbf16>, memref<1x1x300xf32>, memref<1x1x128xf32>, memref<1x4x100xi32>, memref<1x4xi32>)
    outs(%out, %lse : memref<1x4x128xf32>, memref<1x4xf32>)
  %ref = memref.alloc() : memref<1x4x128xf32>
  %lref = memref.alloc() : memref<1x4xf32>
  %cd = memref.cast %cand : memref<1x4x100xi32> to memref<?x?x?xi32>
  %cnd = memref.cast %counts : memref<1x4xi32> to memref<?x?xi32>
  %rd = memref.cast %ref : memref<1x4x128xf32> to memref<?x?x?xf32>
  %lrd = memref.cast %lref : memref<1x4xf32> to memref<?x?xf32>
  %bits = arith.constant 10 : i64
  %tables = arith.constant 150 : i64
  %t = arith.constant 2 : i64
  %scale = arith.constant 0.088388 : f32
  func.call @reference(%q3d, %k4d, %v4d, %nd, %md, %cd, %cnd, %rd, %lrd, %bits, %tables, %t, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xi32>, memref<?x?xi32>, memref<?x?x?xf32>, memref<?x?xf32>, i64, i64, i64, f32) -> ()
  vector.print str "case 2\n"
  %od = memref.cast %out : memref<1x4x128xf32> to memref<?x?x?xf32>
  %ld = memref.cast %lse : memref<1x4xf32> to memref<?x?xf32>
  %tol = arith.constant 2.0e-5 : f32
  func.call @compare(%od, %rd, %ld, %lrd, %tol) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, f32) -> ()
  return
}

func.func @case3() {
  // B = 2, Hq = Hkv = 1, N = 16, d = 5, dv = 24, C = 16, f16 everywhere,
  // K = 1, L = 20, T = 3; every token is a candidate.
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c24 = arith.constant 24 : index
  %q32 = memref.alloc() : memref<10xf32>
  %k32 = memref.alloc() : memref<160xf32>
  %v32 = memref.alloc() : memref<768xf32>
  %qd = memref.cast %q32 : memref<10xf32> to memref<?xf32>
  %kd = memref.cast %k32 : memref<160xf32> to memref<?xf32>
  %vd = memref.cast %v32 : memref<768xf32> to memref<?xf32>
  %s1 = arith.constant 51 : i32
  %s2 = arith.constant 52 : i32
  %s3 = arith.constant 53 : i32
  func.call @fill(%qd, %s1) : (memref<?xf32>, i32) -> ()
  func.call @fill(%kd, %s2) : (memref<?xf32>, i32) -> ()
  func.call @fill(%vd, %s3) : (memref<?xf32>, i32) -> ()
  %q = memref.alloc() : memref<2x1x5xf16>
  %k = memref.alloc() : memref<2x1x16x5xf16>
  %v = memref.alloc() : memref<2x1x16x24xf16>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<2x1x5xf16> into memref<10xf16>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<2x1x16x5xf16> into memref<160xf16>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<2x1x16x24xf16> into memref<768xf16>
  %qfd = memref.cast %qf : memref<10xf16> to memref<?xf16>
  %kfd = memref.cast %kf : memref<160xf16> to memref<?xf16>
  %vfd = memref.cast %vf : memref<768xf16> to memref<?xf16>
  func.call @to_f16(%qd, %qfd) : (memref<?xf32>, memref<?xf16>) -> ()
  func.call @to_f16(%kd, %kfd) : (memref<?xf32>, memref<?xf16>) -> ()
  func.call @to_f16(%vd, %vfd) : (memref<?xf32>, memref<?xf16>) -> ()
  %q3 = memref.expand_shape %q32 [[0, 1, 2]] output_shape [2, 1, 5] : memref<10xf32> into memref<2x1x5xf32>
  %k4 = memref.expand_shape %k32 [[0, 1, 2, 3]] output_shape [2, 1, 16, 5] : memref<160xf32> into memref<2x1x16x5xf32>
  %v4 = memref.expand_shape %v32 [[0, 1, 2, 3]] output_shape [2, 1, 16, 24] : memref<768xf32> into memref<2x1x16x24xf32>
  %q3d = memref.cast %q3 : memref<2x1x5xf32> to memref<?x?x?xf32>
  %k4d = memref.cast %k4 : memref<2x1x16x5xf32> to memref<?x?x?x?xf32>
  %v4d = memref.cast %v4 : memref<2x1x16x24xf32> to memref<?x?x?x?xf32>
  %mean = memref.alloc() : memref<2x1x5xf32>
  %meanf = memref.collapse_shape %mean [[0, 1, 2]] : memref<2x1x5xf32> into memref<10xf32>
  %meanfd = memref.cast %meanf : memref<10xf32> to memref<?xf32>
  %mseed = arith.constant 54 : i32
  func.call @fill(%meanfd, %mseed) : (memref<?xf32>, i32) -> ()
  %md = memref.cast %mean : memref<2x1x5xf32> to memref<?x?x?xf32>
  %norms = memref.alloc() : memref<2x1x16xf32>
  %nd = memref.cast %norms : memref<2x1x16xf32> to memref<?x?x?xf32>
  func.call @norms(%k4d, %md, %nd) : (memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  %cand = memref.alloc() : memref<2x1x16xi64>
  %cand32 = memref.alloc() : memref<2x1x16xi32>
  %counts = memref.alloc() : memref<2x1xi64>
  %counts32 = memref.alloc() : memref<2x1xi32>
  %n16 = arith.constant 16 : i64
  %n16i = arith.constant 16 : i32
  scf.for %b = %c0 to %c2 step %c1 {
    scf.for %r = %c0 to %c16 step %c1 {
      %j = arith.index_cast %r : index to i64
      %j32 = arith.index_cast %r : index to i32
      memref.store %j, %cand[%b, %c0, %r] : memref<2x1x16xi64>
      memref.store %j32, %cand32[%b, %c0, %r] : memref<2x1x16xi32>
    }
    memref.store %n16, %counts[%b, %c0] : memref<2x1xi64>
    memref.store %n16i, %counts32[%b, %c0] : memref<2x1xi32>
  }
  %out = memref.alloc() : memref<2x1x24xf16>
  %lse = memref.alloc() : memref<2x1xf32>
  magicpig.estimate bits(1) tables(20) min_collisions(3) scale(0.45)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<2x1x5xf16>, memref<2x1x16x5xf16>, memref<2x1x16x24xf16>, memref<2x1x16xf32>, memref<2x1x5xf32>, memref<2x1x16xi64>, memref<2x1xi64>)
    outs(%out, %lse : memref<2x1x24xf16>, memref<2x1xf32>)
  %out32 = memref.alloc() : memref<2x1x24xf32>
  scf.for %b = %c0 to %c2 step %c1 {
    scf.for %e = %c0 to %c24 step %c1 {
      %x = memref.load %out[%b, %c0, %e] : memref<2x1x24xf16>
      %y = arith.extf %x : f16 to f32
      memref.store %y, %out32[%b, %c0, %e] : memref<2x1x24xf32>
    }
  }
  %ref = memref.alloc() : memref<2x1x24xf32>
  %lref = memref.alloc() : memref<2x1xf32>
  %cd = memref.cast %cand32 : memref<2x1x16xi32> to memref<?x?x?xi32>
  %cnd = memref.cast %counts32 : memref<2x1xi32> to memref<?x?xi32>
  %rd = memref.cast %ref : memref<2x1x24xf32> to memref<?x?x?xf32>
  %lrd = memref.cast %lref : memref<2x1xf32> to memref<?x?xf32>
  %bits = arith.constant 1 : i64
  %tables = arith.constant 20 : i64
  %t = arith.constant 3 : i64
  %scale = arith.constant 0.45 : f32
  func.call @reference(%q3d, %k4d, %v4d, %nd, %md, %cd, %cnd, %rd, %lrd, %bits, %tables, %t, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xi32>, memref<?x?xi32>, memref<?x?x?xf32>, memref<?x?xf32>, i64, i64, i64, f32) -> ()
  vector.print str "case 3\n"
  %od = memref.cast %out32 : memref<2x1x24xf32> to memref<?x?x?xf32>
  %ld = memref.cast %lse : memref<2x1xf32> to memref<?x?xf32>
  %tol = arith.constant 2.0e-3 : f32
  func.call @compare(%od, %rd, %ld, %lrd, %tol) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, f32) -> ()
  return
}

func.func @case4() {
  // Case 3 with L = 40, T = 20: more terms than are unrolled, so the
  // lowering sums them in a loop.
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c24 = arith.constant 24 : index
  %q32 = memref.alloc() : memref<10xf32>
  %k32 = memref.alloc() : memref<160xf32>
  %v32 = memref.alloc() : memref<768xf32>
  %qd = memref.cast %q32 : memref<10xf32> to memref<?xf32>
  %kd = memref.cast %k32 : memref<160xf32> to memref<?xf32>
  %vd = memref.cast %v32 : memref<768xf32> to memref<?xf32>
  %s1 = arith.constant 61 : i32
  %s2 = arith.constant 62 : i32
  %s3 = arith.constant 63 : i32
  func.call @fill(%qd, %s1) : (memref<?xf32>, i32) -> ()
  func.call @fill(%kd, %s2) : (memref<?xf32>, i32) -> ()
  func.call @fill(%vd, %s3) : (memref<?xf32>, i32) -> ()
  %q = memref.alloc() : memref<2x1x5xf16>
  %k = memref.alloc() : memref<2x1x16x5xf16>
  %v = memref.alloc() : memref<2x1x16x24xf16>
  %qf = memref.collapse_shape %q [[0, 1, 2]] : memref<2x1x5xf16> into memref<10xf16>
  %kf = memref.collapse_shape %k [[0, 1, 2, 3]] : memref<2x1x16x5xf16> into memref<160xf16>
  %vf = memref.collapse_shape %v [[0, 1, 2, 3]] : memref<2x1x16x24xf16> into memref<768xf16>
  %qfd = memref.cast %qf : memref<10xf16> to memref<?xf16>
  %kfd = memref.cast %kf : memref<160xf16> to memref<?xf16>
  %vfd = memref.cast %vf : memref<768xf16> to memref<?xf16>
  func.call @to_f16(%qd, %qfd) : (memref<?xf32>, memref<?xf16>) -> ()
  func.call @to_f16(%kd, %kfd) : (memref<?xf32>, memref<?xf16>) -> ()
  func.call @to_f16(%vd, %vfd) : (memref<?xf32>, memref<?xf16>) -> ()
  %q3 = memref.expand_shape %q32 [[0, 1, 2]] output_shape [2, 1, 5] : memref<10xf32> into memref<2x1x5xf32>
  %k4 = memref.expand_shape %k32 [[0, 1, 2, 3]] output_shape [2, 1, 16, 5] : memref<160xf32> into memref<2x1x16x5xf32>
  %v4 = memref.expand_shape %v32 [[0, 1, 2, 3]] output_shape [2, 1, 16, 24] : memref<768xf32> into memref<2x1x16x24xf32>
  %q3d = memref.cast %q3 : memref<2x1x5xf32> to memref<?x?x?xf32>
  %k4d = memref.cast %k4 : memref<2x1x16x5xf32> to memref<?x?x?x?xf32>
  %v4d = memref.cast %v4 : memref<2x1x16x24xf32> to memref<?x?x?x?xf32>
  %mean = memref.alloc() : memref<2x1x5xf32>
  %meanf = memref.collapse_shape %mean [[0, 1, 2]] : memref<2x1x5xf32> into memref<10xf32>
  %meanfd = memref.cast %meanf : memref<10xf32> to memref<?xf32>
  %mseed = arith.constant 64 : i32
  func.call @fill(%meanfd, %mseed) : (memref<?xf32>, i32) -> ()
  %md = memref.cast %mean : memref<2x1x5xf32> to memref<?x?x?xf32>
  %norms = memref.alloc() : memref<2x1x16xf32>
  %nd = memref.cast %norms : memref<2x1x16xf32> to memref<?x?x?xf32>
  func.call @norms(%k4d, %md, %nd) : (memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  %cand = memref.alloc() : memref<2x1x16xi64>
  %cand32 = memref.alloc() : memref<2x1x16xi32>
  %counts = memref.alloc() : memref<2x1xi64>
  %counts32 = memref.alloc() : memref<2x1xi32>
  %n16 = arith.constant 16 : i64
  %n16i = arith.constant 16 : i32
  scf.for %b = %c0 to %c2 step %c1 {
    scf.for %r = %c0 to %c16 step %c1 {
      %j = arith.index_cast %r : index to i64
      %j32 = arith.index_cast %r : index to i32
      memref.store %j, %cand[%b, %c0, %r] : memref<2x1x16xi64>
      memref.store %j32, %cand32[%b, %c0, %r] : memref<2x1x16xi32>
    }
    memref.store %n16, %counts[%b, %c0] : memref<2x1xi64>
    memref.store %n16i, %counts32[%b, %c0] : memref<2x1xi32>
  }
  %out = memref.alloc() : memref<2x1x24xf16>
  %lse = memref.alloc() : memref<2x1xf32>
  magicpig.estimate bits(1) tables(40) min_collisions(20) scale(0.45)
    ins(%q, %k, %v, %norms, %mean, %cand, %counts : memref<2x1x5xf16>, memref<2x1x16x5xf16>, memref<2x1x16x24xf16>, memref<2x1x16xf32>, memref<2x1x5xf32>, memref<2x1x16xi64>, memref<2x1xi64>)
    outs(%out, %lse : memref<2x1x24xf16>, memref<2x1xf32>)
  %out32 = memref.alloc() : memref<2x1x24xf32>
  scf.for %b = %c0 to %c2 step %c1 {
    scf.for %e = %c0 to %c24 step %c1 {
      %x = memref.load %out[%b, %c0, %e] : memref<2x1x24xf16>
      %y = arith.extf %x : f16 to f32
      memref.store %y, %out32[%b, %c0, %e] : memref<2x1x24xf32>
    }
  }
  %ref = memref.alloc() : memref<2x1x24xf32>
  %lref = memref.alloc() : memref<2x1xf32>
  %cd = memref.cast %cand32 : memref<2x1x16xi32> to memref<?x?x?xi32>
  %cnd = memref.cast %counts32 : memref<2x1xi32> to memref<?x?xi32>
  %rd = memref.cast %ref : memref<2x1x24xf32> to memref<?x?x?xf32>
  %lrd = memref.cast %lref : memref<2x1xf32> to memref<?x?xf32>
  %bits = arith.constant 1 : i64
  %tables = arith.constant 40 : i64
  %t = arith.constant 20 : i64
  %scale = arith.constant 0.45 : f32
  func.call @reference(%q3d, %k4d, %v4d, %nd, %md, %cd, %cnd, %rd, %lrd, %bits, %tables, %t, %scale) : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xi32>, memref<?x?xi32>, memref<?x?x?xf32>, memref<?x?xf32>, i64, i64, i64, f32) -> ()
  vector.print str "case 4\n"
  %od = memref.cast %out32 : memref<2x1x24xf32> to memref<?x?x?xf32>
  %ld = memref.cast %lse : memref<2x1xf32> to memref<?x?xf32>
  %tol = arith.constant 2.0e-3 : f32
  func.call @compare(%od, %rd, %ld, %lrd, %tol) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, f32) -> ()
  return
}

func.func @main() {
  func.call @case1() : () -> ()
  func.call @case2() : () -> ()
  func.call @case3() : () -> ()
  func.call @case4() : () -> ()
  return
}
