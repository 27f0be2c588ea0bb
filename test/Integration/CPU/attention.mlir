// Decode attention (no query-length dim) compiled by --magicpig-cpu-pipeline
// against a naive scalar reference in this file: f32, f16 and bf16 K/V, GQA
// (Hq = 4, Hkv = 2), batch 2, head dim 20 (not a multiple of the vector
// width: a masked tail) and 37 keys. The second run splits the keys into
// tasks of 16 keys and blocks of 8 on 8 lanes, so the task merge, the
// online-softmax rescaling and partial blocks are all exercised.
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s \
// RUN:   --magicpig-cpu-pipeline="vector-width=8 keys-per-task=16 key-block=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
//
// Tolerance 1e-5: both sides read the same K/V values (the reference gets
// the f16/bf16 inputs extended exactly to f32) and accumulate in f32; they
// differ only in summation order and in exp (a polynomial in the kernel,
// libm in the reference), each a few ulp. Outputs are convex combinations
// of values of magnitude <= 1.5, so a correct kernel stays below ~1e-6
// while any indexing or softmax error is far above 1e-5.

// CHECK-LABEL: f32 K/V
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: f16 K/V
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: bf16 K/V
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1

#map3 = affine_map<(i, j, k) -> (i, j, k)>
#map4 = affine_map<(i, j, k, l) -> (i, j, k, l)>

// t[i, j, k] = amp * sin(0.9 i + 1.7 j + 0.23 k + phase)
func.func @fill3(%t: tensor<?x?x?xf32>, %amp: f32, %phase: f32)
    -> tensor<?x?x?xf32> {
  %r = linalg.generic {indexing_maps = [#map3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%t : tensor<?x?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %k = linalg.index 2 : index
    %c0 = arith.constant 0 : index
    %y = func.call @wave(%i, %j, %k, %c0, %amp, %phase)
        : (index, index, index, index, f32, f32) -> f32
    linalg.yield %y : f32
  } -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// t[i, j, k, l] = amp * sin(0.9 i + 1.7 j + 0.23 k + 0.61 l + phase)
func.func @fill4(%t: tensor<?x?x?x?xf32>, %amp: f32, %phase: f32)
    -> tensor<?x?x?x?xf32> {
  %r = linalg.generic {indexing_maps = [#map4],
                       iterator_types = ["parallel", "parallel", "parallel",
                                         "parallel"]}
      outs(%t : tensor<?x?x?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %k = linalg.index 2 : index
    %l = linalg.index 3 : index
    %y = func.call @wave(%i, %j, %k, %l, %amp, %phase)
        : (index, index, index, index, f32, f32) -> f32
    linalg.yield %y : f32
  } -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

func.func @wave(%i: index, %j: index, %k: index, %l: index, %amp: f32,
                %phase: f32) -> f32 {
  %fi = call @to_f32(%i) : (index) -> f32
  %fj = call @to_f32(%j) : (index) -> f32
  %fk = call @to_f32(%k) : (index) -> f32
  %fl = call @to_f32(%l) : (index) -> f32
  %a = arith.constant 0.9 : f32
  %b = arith.constant 1.7 : f32
  %c = arith.constant 0.23 : f32
  %d = arith.constant 0.61 : f32
  %x0 = math.fma %fi, %a, %phase : f32
  %x1 = math.fma %fj, %b, %x0 : f32
  %x2 = math.fma %fk, %c, %x1 : f32
  %x3 = math.fma %fl, %d, %x2 : f32
  %s = math.sin %x3 : f32
  %r = arith.mulf %s, %amp : f32
  return %r : f32
}

func.func @to_f32(%i: index) -> f32 {
  %ii = arith.index_cast %i : index to i64
  %f = arith.sitofp %ii : i64 to f32
  return %f : f32
}

// The naive reference, on memrefs with scalar loads:
// out[b, h, :] = sum_j softmax_j(scale * q[b, h, :] . k[b, h / G, j, :])
//                * v[b, h / G, j, :]
// as a max pass, a sum-of-exp pass and a weighted-sum pass.
func.func @reference(%q: memref<?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                     %v: memref<?x?x?x?xf32>, %scale: f32,
                     %out: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %nb = memref.dim %q, %c0 : memref<?x?x?xf32>
  %hq = memref.dim %q, %c1 : memref<?x?x?xf32>
  %d = memref.dim %q, %c2 : memref<?x?x?xf32>
  %hkv = memref.dim %k, %c1 : memref<?x?x?x?xf32>
  %n = memref.dim %k, %c2 : memref<?x?x?x?xf32>
  %dv = memref.dim %v, %c3 : memref<?x?x?x?xf32>
  %group = arith.divui %hq, %hkv : index
  %s = memref.alloc(%n) : memref<?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %h = %c0 to %hq step %c1 {
      %g = arith.divui %h, %group : index
      %max = scf.for %j = %c0 to %n step %c1 iter_args(%m = %ninf) -> f32 {
        %dot = scf.for %i = %c0 to %d step %c1 iter_args(%acc = %zero) -> f32 {
          %x = memref.load %q[%b, %h, %i] : memref<?x?x?xf32>
          %y = memref.load %k[%b, %g, %j, %i] : memref<?x?x?x?xf32>
          %p = arith.mulf %x, %y : f32
          %a = arith.addf %acc, %p : f32
          scf.yield %a : f32
        }
        %sj = arith.mulf %dot, %scale : f32
        memref.store %sj, %s[%j] : memref<?xf32>
        %m2 = arith.maximumf %m, %sj : f32
        scf.yield %m2 : f32
      }
      %sum = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
        %sj = memref.load %s[%j] : memref<?xf32>
        %t = arith.subf %sj, %max : f32
        %e = math.exp %t : f32
        %a = arith.addf %acc, %e : f32
        scf.yield %a : f32
      }
      scf.for %i = %c0 to %dv step %c1 {
        %num = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
          %sj = memref.load %s[%j] : memref<?xf32>
          %t = arith.subf %sj, %max : f32
          %e = math.exp %t : f32
          %y = memref.load %v[%b, %g, %j, %i] : memref<?x?x?x?xf32>
          %p = arith.mulf %e, %y : f32
          %a = arith.addf %acc, %p : f32
          scf.yield %a : f32
        }
        %o = arith.divf %num, %sum : f32
        memref.store %o, %out[%b, %h, %i] : memref<?x?x?xf32>
      }
    }
  }
  return
}

func.func @max_abs_diff(%x: memref<?x?x?xf32>, %y: memref<?x?x?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %n0 = memref.dim %x, %c0 : memref<?x?x?xf32>
  %n1 = memref.dim %x, %c1 : memref<?x?x?xf32>
  %n2 = memref.dim %x, %c2 : memref<?x?x?xf32>
  %r = scf.for %i = %c0 to %n0 step %c1 iter_args(%m0 = %zero) -> f32 {
    %r1 = scf.for %j = %c0 to %n1 step %c1 iter_args(%m1 = %m0) -> f32 {
      %r2 = scf.for %k = %c0 to %n2 step %c1 iter_args(%m2 = %m1) -> f32 {
        %a = memref.load %x[%i, %j, %k] : memref<?x?x?xf32>
        %b = memref.load %y[%i, %j, %k] : memref<?x?x?xf32>
        %d = arith.subf %a, %b : f32
        %e = math.absf %d : f32
        // maximumf propagates a NaN, so a NaN output fails the check.
        %m = arith.maximumf %m2, %e : f32
        scf.yield %m : f32
      }
      scf.yield %r2 : f32
    }
    scf.yield %r1 : f32
  }
  return %r : f32
}

// Compares the op's output with the reference and prints the verdict.
func.func @check(%out: tensor<2x4x20xf32>, %q: tensor<2x4x20xf32>,
                 %k: tensor<2x2x37x20xf32>, %v: tensor<2x2x37x20xf32>) {
  %scale = arith.constant 0.5 : f32
  %qm = bufferization.to_buffer %q : tensor<2x4x20xf32> to memref<2x4x20xf32>
  %km = bufferization.to_buffer %k : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %vm = bufferization.to_buffer %v : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %om = bufferization.to_buffer %out : tensor<2x4x20xf32> to memref<2x4x20xf32>
  %qd = memref.cast %qm : memref<2x4x20xf32> to memref<?x?x?xf32>
  %kd = memref.cast %km : memref<2x2x37x20xf32> to memref<?x?x?x?xf32>
  %vd = memref.cast %vm : memref<2x2x37x20xf32> to memref<?x?x?x?xf32>
  %od = memref.cast %om : memref<2x4x20xf32> to memref<?x?x?xf32>
  %ref = memref.alloc() : memref<2x4x20xf32>
  %refd = memref.cast %ref : memref<2x4x20xf32> to memref<?x?x?xf32>
  call @reference(%qd, %kd, %vd, %scale, %refd)
      : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, f32,
         memref<?x?x?xf32>) -> ()
  %diff = call @max_abs_diff(%od, %refd)
      : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> f32
  %tol = arith.constant 1.0e-5 : f32
  %ok = arith.cmpf olt, %diff, %tol : f32
  vector.print str "max abs diff: "
  vector.print %diff : f32
  vector.print str "within tolerance: "
  vector.print %ok : i1
  return
}

func.func @inputs() -> (tensor<2x4x20xf32>, tensor<2x2x37x20xf32>,
                        tensor<2x2x37x20xf32>) {
  %qa = arith.constant 2.0 : f32
  %ka = arith.constant 1.5 : f32
  %va = arith.constant 1.0 : f32
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 1.1 : f32
  %p2 = arith.constant 2.3 : f32
  %q0 = tensor.empty() : tensor<2x4x20xf32>
  %k0 = tensor.empty() : tensor<2x2x37x20xf32>
  %qd = tensor.cast %q0 : tensor<2x4x20xf32> to tensor<?x?x?xf32>
  %kd = tensor.cast %k0 : tensor<2x2x37x20xf32> to tensor<?x?x?x?xf32>
  %q1 = call @fill3(%qd, %qa, %p0) : (tensor<?x?x?xf32>, f32, f32) -> tensor<?x?x?xf32>
  %k1 = call @fill4(%kd, %ka, %p1) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %v1 = call @fill4(%kd, %va, %p2) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %q = tensor.cast %q1 : tensor<?x?x?xf32> to tensor<2x4x20xf32>
  %k = tensor.cast %k1 : tensor<?x?x?x?xf32> to tensor<2x2x37x20xf32>
  %v = tensor.cast %v1 : tensor<?x?x?x?xf32> to tensor<2x2x37x20xf32>
  return %q, %k, %v : tensor<2x4x20xf32>, tensor<2x2x37x20xf32>, tensor<2x2x37x20xf32>
}

func.func @main() {
  %q, %k, %v = call @inputs() : () -> (tensor<2x4x20xf32>, tensor<2x2x37x20xf32>,
                                      tensor<2x2x37x20xf32>)
  %init = tensor.empty() : tensor<2x4x20xf32>

  vector.print str "f32 K/V\n"
  %o32 = magicpig.attention scale(0.5)
           ins(%q, %k, %v : tensor<2x4x20xf32>, tensor<2x2x37x20xf32>,
                            tensor<2x2x37x20xf32>)
           outs(%init : tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  call @check(%o32, %q, %k, %v) : (tensor<2x4x20xf32>, tensor<2x4x20xf32>,
      tensor<2x2x37x20xf32>, tensor<2x2x37x20xf32>) -> ()

  // K/V rounded to f16; the reference reads the same rounded values.
  vector.print str "f16 K/V\n"
  %e16 = tensor.empty() : tensor<2x2x37x20xf16>
  %k16 = linalg.map { arith.truncf } ins(%k : tensor<2x2x37x20xf32>)
           outs(%e16 : tensor<2x2x37x20xf16>)
  %v16 = linalg.map { arith.truncf } ins(%v : tensor<2x2x37x20xf32>)
           outs(%e16 : tensor<2x2x37x20xf16>)
  %o16 = magicpig.attention scale(0.5)
           ins(%q, %k16, %v16 : tensor<2x4x20xf32>, tensor<2x2x37x20xf16>,
                                tensor<2x2x37x20xf16>)
           outs(%init : tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %ef = tensor.empty() : tensor<2x2x37x20xf32>
  %k16x = linalg.map { arith.extf } ins(%k16 : tensor<2x2x37x20xf16>)
            outs(%ef : tensor<2x2x37x20xf32>)
  %v16x = linalg.map { arith.extf } ins(%v16 : tensor<2x2x37x20xf16>)
            outs(%ef : tensor<2x2x37x20xf32>)
  call @check(%o16, %q, %k16x, %v16x) : (tensor<2x4x20xf32>, tensor<2x4x20xf32>,
      tensor<2x2x37x20xf32>, tensor<2x2x37x20xf32>) -> ()

  vector.print str "bf16 K/V\n"
  %eb = tensor.empty() : tensor<2x2x37x20xbf16>
  %kb = linalg.map { arith.truncf } ins(%k : tensor<2x2x37x20xf32>)
          outs(%eb : tensor<2x2x37x20xbf16>)
  %vb = linalg.map { arith.truncf } ins(%v : tensor<2x2x37x20xf32>)
          outs(%eb : tensor<2x2x37x20xbf16>)
  %ob = magicpig.attention scale(0.5)
          ins(%q, %kb, %vb : tensor<2x4x20xf32>, tensor<2x2x37x20xbf16>,
                             tensor<2x2x37x20xbf16>)
          outs(%init : tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %kbx = linalg.map { arith.extf } ins(%kb : tensor<2x2x37x20xbf16>)
           outs(%ef : tensor<2x2x37x20xf32>)
  %vbx = linalg.map { arith.extf } ins(%vb : tensor<2x2x37x20xbf16>)
           outs(%ef : tensor<2x2x37x20xf32>)
  call @check(%ob, %q, %kbx, %vbx) : (tensor<2x4x20xf32>, tensor<2x4x20xf32>,
      tensor<2x2x37x20xf32>, tensor<2x2x37x20xf32>) -> ()
  return
}
