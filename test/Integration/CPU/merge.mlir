// magicpig.merge compiled by --magicpig-cpu-pipeline against a naive
// reference (lse = log(exp(lse_a) + exp(lse_b)), out = exp(lse_a - lse)
// out_a + exp(lse_b - lse) out_b, written directly from the formula). The
// four heads cover both sides finite, lse_a = -inf, lse_b = -inf and both
// -inf (out 0, lse -inf, no NaN). dv = 20 leaves a masked tail on 16 and
// on 8 lanes.
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
//
// Tolerances: f32 outputs 1e-6 (one exp, one log and one fma away from the
// reference on values of magnitude <= 1); bf16 outputs 4e-3 (half a bf16
// ulp below 1 is 2^-9 ~ 2e-3, plus the f32 error).

// CHECK-LABEL: f32
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1
// lse: 0.5 + log 2, lse_b alone, lse_a alone, -inf.
// CHECK: [1.19315,   2,   1,   -inf]
// A side at -inf contributes exactly nothing; both at -inf give 0.
// CHECK-NEXT: head 1 is out_b: 1
// CHECK-NEXT: head 2 is out_a: 1
// CHECK-NEXT: head 3 is 0: 1
// CHECK-LABEL: bf16 output
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1

#map3 = affine_map<(i, j, k) -> (i, j, k)>

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

// t[i, j, k] = sin(0.9 i + 1.7 j + 0.23 k + phase)
func.func @fill3(%t: tensor<1x4x20xf32>, %phase: f32) -> tensor<1x4x20xf32> {
  %r = linalg.generic {indexing_maps = [#map3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%t : tensor<1x4x20xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %k = linalg.index 2 : index
    %fi = func.call @to_f32(%i) : (index) -> f32
    %fj = func.call @to_f32(%j) : (index) -> f32
    %fk = func.call @to_f32(%k) : (index) -> f32
    %a = arith.constant 0.9 : f32
    %b = arith.constant 1.7 : f32
    %c = arith.constant 0.23 : f32
    %x0 = math.fma %fi, %a, %phase : f32
    %x1 = math.fma %fj, %b, %x0 : f32
    %x2 = math.fma %fk, %c, %x1 : f32
    %s = math.sin %x2 : f32
    linalg.yield %s : f32
  } -> tensor<1x4x20xf32>
  return %r : tensor<1x4x20xf32>
}

func.func @to_f32(%i: index) -> f32 {
  %ii = arith.index_cast %i : index to i64
  %f = arith.sitofp %ii : i64 to f32
  return %f : f32
}

// The formula, head by head; both sides at -inf is the op's defined case.
func.func @reference(%oa: memref<1x4x20xf32>, %la: memref<1x4xf32>,
                     %ob: memref<1x4x20xf32>, %lb: memref<1x4xf32>,
                     %out: memref<1x4x20xf32>, %lse: memref<1x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c20 = arith.constant 20 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  scf.for %h = %c0 to %c4 step %c1 {
    %a = memref.load %la[%c0, %h] : memref<1x4xf32>
    %b = memref.load %lb[%c0, %h] : memref<1x4xf32>
    %ea = math.exp %a : f32
    %eb = math.exp %b : f32
    %s = arith.addf %ea, %eb : f32
    %l = math.log %s : f32
    memref.store %l, %lse[%c0, %h] : memref<1x4xf32>
    %none = arith.cmpf oeq, %l, %ninf : f32
    scf.for %i = %c0 to %c20 step %c1 {
      %x = memref.load %oa[%c0, %h, %i] : memref<1x4x20xf32>
      %y = memref.load %ob[%c0, %h, %i] : memref<1x4x20xf32>
      %da = arith.subf %a, %l : f32
      %db = arith.subf %b, %l : f32
      %wa = math.exp %da : f32
      %wb = math.exp %db : f32
      %px = arith.mulf %wa, %x : f32
      %py = arith.mulf %wb, %y : f32
      %o = arith.addf %px, %py : f32
      %o2 = arith.select %none, %zero, %o : f32
      memref.store %o2, %out[%c0, %h, %i] : memref<1x4x20xf32>
    }
  }
  return
}

// max |x - y| over the elements of heads [h0, h1), equal values (-inf
// included) counting 0; a NaN makes the result NaN.
func.func @max_abs_diff(%x: memref<1x4x20xf32>, %y: memref<1x4x20xf32>,
                        %h0: index, %h1: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c20 = arith.constant 20 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %h = %h0 to %h1 step %c1 iter_args(%m0 = %zero) -> f32 {
    %r1 = scf.for %i = %c0 to %c20 step %c1 iter_args(%m = %m0) -> f32 {
      %a = memref.load %x[%c0, %h, %i] : memref<1x4x20xf32>
      %b = memref.load %y[%c0, %h, %i] : memref<1x4x20xf32>
      %same = arith.cmpf oeq, %a, %b : f32
      %d = arith.subf %a, %b : f32
      %e = math.absf %d : f32
      %e2 = arith.select %same, %zero, %e : f32
      %m2 = arith.maximumf %m, %e2 : f32
      scf.yield %m2 : f32
    }
    scf.yield %r1 : f32
  }
  return %r : f32
}

func.func @max_abs_diff_lse(%x: memref<1x4xf32>, %y: memref<1x4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %h = %c0 to %c4 step %c1 iter_args(%m = %zero) -> f32 {
    %a = memref.load %x[%c0, %h] : memref<1x4xf32>
    %b = memref.load %y[%c0, %h] : memref<1x4xf32>
    %same = arith.cmpf oeq, %a, %b : f32
    %d = arith.subf %a, %b : f32
    %e = math.absf %d : f32
    %e2 = arith.select %same, %zero, %e : f32
    %m2 = arith.maximumf %m, %e2 : f32
    scf.yield %m2 : f32
  }
  return %r : f32
}

func.func @print_ok(%label: i1, %diff: f32, %tol: f32) {
  %ok = arith.cmpf olt, %diff, %tol : f32
  scf.if %label {
    vector.print str "out within tolerance: "
  } else {
    vector.print str "lse within tolerance: "
  }
  vector.print %ok : i1
  return
}

func.func @main() {
  %true = arith.constant true
  %false = arith.constant false
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 2.1 : f32
  %e = tensor.empty() : tensor<1x4x20xf32>
  %oa = call @fill3(%e, %p0) : (tensor<1x4x20xf32>, f32) -> tensor<1x4x20xf32>
  %ob = call @fill3(%e, %p1) : (tensor<1x4x20xf32>, f32) -> tensor<1x4x20xf32>
  %la = arith.constant dense<[[0.5, 0xFF800000, 1.0, 0xFF800000]]> : tensor<1x4xf32>
  %lb = arith.constant dense<[[0.5, 2.0, 0xFF800000, 0xFF800000]]> : tensor<1x4xf32>
  %linit = tensor.empty() : tensor<1x4xf32>

  %oam = bufferization.to_buffer %oa : tensor<1x4x20xf32> to memref<1x4x20xf32>
  %obm = bufferization.to_buffer %ob : tensor<1x4x20xf32> to memref<1x4x20xf32>
  %lam = bufferization.to_buffer %la : tensor<1x4xf32> to memref<1x4xf32>
  %lbm = bufferization.to_buffer %lb : tensor<1x4xf32> to memref<1x4xf32>
  %refOut = memref.alloc() : memref<1x4x20xf32>
  %refLse = memref.alloc() : memref<1x4xf32>
  call @reference(%oam, %lam, %obm, %lbm, %refOut, %refLse)
      : (memref<1x4x20xf32>, memref<1x4xf32>, memref<1x4x20xf32>,
         memref<1x4xf32>, memref<1x4x20xf32>, memref<1x4xf32>) -> ()
  %tol32 = arith.constant 1.0e-6 : f32

  vector.print str "f32\n"
  %o, %l = magicpig.merge
      ins(%oa, %la, %ob, %lb : tensor<1x4x20xf32>, tensor<1x4xf32>,
                               tensor<1x4x20xf32>, tensor<1x4xf32>)
      outs(%e, %linit : tensor<1x4x20xf32>, tensor<1x4xf32>)
      -> tensor<1x4x20xf32>, tensor<1x4xf32>
  %om = bufferization.to_buffer %o : tensor<1x4x20xf32> to memref<1x4x20xf32>
  %lm = bufferization.to_buffer %l : tensor<1x4xf32> to memref<1x4xf32>
  %dout = call @max_abs_diff(%om, %refOut, %c0, %c4)
      : (memref<1x4x20xf32>, memref<1x4x20xf32>, index, index) -> f32
  %dlse = call @max_abs_diff_lse(%lm, %refLse) : (memref<1x4xf32>, memref<1x4xf32>) -> f32
  call @print_ok(%true, %dout, %tol32) : (i1, f32, f32) -> ()
  call @print_ok(%false, %dlse, %tol32) : (i1, f32, f32) -> ()
  %lu = memref.cast %lm : memref<1x4xf32> to memref<*xf32>
  call @printMemrefF32(%lu) : (memref<*xf32>) -> ()

  // Exact: a weight of exp(-inf) = 0 and a coefficient of exactly 1.
  %zero = arith.constant 0.0 : f32
  %zeros = memref.alloc() : memref<1x4x20xf32>
  linalg.fill ins(%zero : f32) outs(%zeros : memref<1x4x20xf32>)
  %d1 = call @max_abs_diff(%om, %obm, %c1, %c2)
      : (memref<1x4x20xf32>, memref<1x4x20xf32>, index, index) -> f32
  %d2 = call @max_abs_diff(%om, %oam, %c2, %c3)
      : (memref<1x4x20xf32>, memref<1x4x20xf32>, index, index) -> f32
  %d3 = call @max_abs_diff(%om, %zeros, %c3, %c4)
      : (memref<1x4x20xf32>, memref<1x4x20xf32>, index, index) -> f32
  %e1 = arith.cmpf oeq, %d1, %zero : f32
  %e2 = arith.cmpf oeq, %d2, %zero : f32
  %e3 = arith.cmpf oeq, %d3, %zero : f32
  vector.print str "head 1 is out_b: "
  vector.print %e1 : i1
  vector.print str "head 2 is out_a: "
  vector.print %e2 : i1
  vector.print str "head 3 is 0: "
  vector.print %e3 : i1

  // The same merge stored in bf16, compared after extending it back.
  vector.print str "bf16 output\n"
  %eb = tensor.empty() : tensor<1x4x20xbf16>
  %obf, %lbf = magicpig.merge
      ins(%oa, %la, %ob, %lb : tensor<1x4x20xf32>, tensor<1x4xf32>,
                               tensor<1x4x20xf32>, tensor<1x4xf32>)
      outs(%eb, %linit : tensor<1x4x20xbf16>, tensor<1x4xf32>)
      -> tensor<1x4x20xbf16>, tensor<1x4xf32>
  %obx = linalg.map { arith.extf } ins(%obf : tensor<1x4x20xbf16>)
           outs(%e : tensor<1x4x20xf32>)
  %obxm = bufferization.to_buffer %obx : tensor<1x4x20xf32> to memref<1x4x20xf32>
  %lbfm = bufferization.to_buffer %lbf : tensor<1x4xf32> to memref<1x4xf32>
  %doutb = call @max_abs_diff(%obxm, %refOut, %c0, %c4)
      : (memref<1x4x20xf32>, memref<1x4x20xf32>, index, index) -> f32
  %dlseb = call @max_abs_diff_lse(%lbfm, %refLse) : (memref<1x4xf32>, memref<1x4xf32>) -> f32
  %tol16 = arith.constant 4.0e-3 : f32
  call @print_ok(%true, %doutb, %tol16) : (i1, f32, f32) -> ()
  call @print_ok(%false, %dlseb, %tol32) : (i1, f32, f32) -> ()
  return
}
