// magicpig.attention with a query-length dim ([B, Hq, S, d]), with and
// without `causal`, compiled by --magicpig-cpu-pipeline, against a naive
// scalar reference in this file.
//
// Short query lengths (S < vector width) take the per-position loops: S = 3
// queries are the last 3 positions of a 37-key context: with `causal`,
// query s sees keys j <= 34 + s. Hq = 6, Hkv = 2 (a group of 3 heads: not a
// power of two, so the scores are reduced one by one), d = 20. The dynamic
// case hides every size, so the group size is only known at run time (one
// query head per register tile).
//
// Long ones (S >= width, or dynamic with static heads) take the query-block
// loops (QueryBlockAttentionLowering.cpp): S = 37 queries over N = 45 keys
// (the last block of 16 positions is partial; the causal limit cuts key
// blocks in the middle), a value dim of 32 unlike d = 20, f32 and f16 K/V,
// the same with S and N only known at run time, and a group of 8 heads
// (more row vectors than one register tile takes).
//
// The second run gives each task 4 * S = 12 keys, so the causal limit cuts
// tasks in the middle and leaves the last task of early queries empty; it
// is compiled with vector width 8 for an AVX2 CPU without AVX-512 (query
// blocks of 8 positions, key blocks of 8). The third run has key blocks of
// 16, so the query-block loops carry the online softmax across blocks at
// width 16.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s \
// RUN:   --magicpig-cpu-pipeline="vector-width=8 keys-per-task=4 key-block=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="key-block=16" \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
//
// Tolerance 1e-5, as in attention.mlir: same inputs on both sides, f32
// accumulation in different orders, polynomial vs libm exp; outputs are
// convex combinations of values of magnitude <= 1, so a correct kernel is
// within ~1e-6 and a wrong mask or weight is far above 1e-5.

// CHECK-LABEL: causal f32
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: non-causal bf16 K/V
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: causal dynamic shapes
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: query blocks: causal f32
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: query blocks: non-causal f16 K/V
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: query blocks: causal, dynamic S and N
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: query blocks: causal, group of 8
// CHECK-NEXT: max abs diff: {{.*}}
// CHECK-NEXT: within tolerance: 1

#map4 = affine_map<(i, j, k, l) -> (i, j, k, l)>

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
    %fi = func.call @to_f32(%i) : (index) -> f32
    %fj = func.call @to_f32(%j) : (index) -> f32
    %fk = func.call @to_f32(%k) : (index) -> f32
    %fl = func.call @to_f32(%l) : (index) -> f32
    %a = arith.constant 0.9 : f32
    %b = arith.constant 1.7 : f32
    %c = arith.constant 0.23 : f32
    %d = arith.constant 0.61 : f32
    %x0 = math.fma %fi, %a, %phase : f32
    %x1 = math.fma %fj, %b, %x0 : f32
    %x2 = math.fma %fk, %c, %x1 : f32
    %x3 = math.fma %fl, %d, %x2 : f32
    %s = math.sin %x3 : f32
    %y = arith.mulf %s, %amp : f32
    linalg.yield %y : f32
  } -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

func.func @to_f32(%i: index) -> f32 {
  %ii = arith.index_cast %i : index to i64
  %f = arith.sitofp %ii : i64 to f32
  return %f : f32
}

// The naive reference: out[b, h, s, :] = sum_j softmax_j(scale * q[b, h, s]
// . k[b, h / G, j]) v[b, h / G, j] over j < N, or j <= N - S + s when
// causal; a max pass, a sum-of-exp pass and a weighted-sum pass.
func.func @reference(%q: memref<?x?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                     %v: memref<?x?x?x?xf32>, %scale: f32, %causal: i1,
                     %out: memref<?x?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %nb = memref.dim %q, %c0 : memref<?x?x?x?xf32>
  %hq = memref.dim %q, %c1 : memref<?x?x?x?xf32>
  %ns = memref.dim %q, %c2 : memref<?x?x?x?xf32>
  %d = memref.dim %q, %c3 : memref<?x?x?x?xf32>
  %hkv = memref.dim %k, %c1 : memref<?x?x?x?xf32>
  %n = memref.dim %k, %c2 : memref<?x?x?x?xf32>
  %dv = memref.dim %v, %c3 : memref<?x?x?x?xf32>
  %group = arith.divui %hq, %hkv : index
  %sc = memref.alloc(%n) : memref<?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %h = %c0 to %hq step %c1 {
      scf.for %s = %c0 to %ns step %c1 {
        %g = arith.divui %h, %group : index
        // Keys [0, end): end = N - S + s + 1 when causal.
        %last = arith.subi %n, %ns : index
        %lim = arith.addi %last, %s : index
        %lim1 = arith.addi %lim, %c1 : index
        %end = arith.select %causal, %lim1, %n : index
        %max = scf.for %j = %c0 to %end step %c1 iter_args(%m = %ninf) -> f32 {
          %dot = scf.for %i = %c0 to %d step %c1 iter_args(%acc = %zero) -> f32 {
            %x = memref.load %q[%b, %h, %s, %i] : memref<?x?x?x?xf32>
            %y = memref.load %k[%b, %g, %j, %i] : memref<?x?x?x?xf32>
            %p = arith.mulf %x, %y : f32
            %a = arith.addf %acc, %p : f32
            scf.yield %a : f32
          }
          %sj = arith.mulf %dot, %scale : f32
          memref.store %sj, %sc[%j] : memref<?xf32>
          %m2 = arith.maximumf %m, %sj : f32
          scf.yield %m2 : f32
        }
        %sum = scf.for %j = %c0 to %end step %c1 iter_args(%acc = %zero) -> f32 {
          %sj = memref.load %sc[%j] : memref<?xf32>
          %t = arith.subf %sj, %max : f32
          %e = math.exp %t : f32
          %a = arith.addf %acc, %e : f32
          scf.yield %a : f32
        }
        scf.for %i = %c0 to %dv step %c1 {
          %num = scf.for %j = %c0 to %end step %c1 iter_args(%acc = %zero) -> f32 {
            %sj = memref.load %sc[%j] : memref<?xf32>
            %t = arith.subf %sj, %max : f32
            %e = math.exp %t : f32
            %y = memref.load %v[%b, %g, %j, %i] : memref<?x?x?x?xf32>
            %p = arith.mulf %e, %y : f32
            %a = arith.addf %acc, %p : f32
            scf.yield %a : f32
          }
          %o = arith.divf %num, %sum : f32
          memref.store %o, %out[%b, %h, %s, %i] : memref<?x?x?x?xf32>
        }
      }
    }
  }
  return
}

func.func @max_abs_diff(%x: memref<?x?x?x?xf32>, %y: memref<?x?x?x?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %n0 = memref.dim %x, %c0 : memref<?x?x?x?xf32>
  %n1 = memref.dim %x, %c1 : memref<?x?x?x?xf32>
  %n2 = memref.dim %x, %c2 : memref<?x?x?x?xf32>
  %n3 = memref.dim %x, %c3 : memref<?x?x?x?xf32>
  %r = scf.for %i = %c0 to %n0 step %c1 iter_args(%m0 = %zero) -> f32 {
    %r1 = scf.for %j = %c0 to %n1 step %c1 iter_args(%m1 = %m0) -> f32 {
      %r2 = scf.for %k = %c0 to %n2 step %c1 iter_args(%m2 = %m1) -> f32 {
        %r3 = scf.for %l = %c0 to %n3 step %c1 iter_args(%m3 = %m2) -> f32 {
          %a = memref.load %x[%i, %j, %k, %l] : memref<?x?x?x?xf32>
          %b = memref.load %y[%i, %j, %k, %l] : memref<?x?x?x?xf32>
          %d = arith.subf %a, %b : f32
          %e = math.absf %d : f32
          // maximumf propagates a NaN, so a NaN output fails the check.
          %m = arith.maximumf %m3, %e : f32
          scf.yield %m : f32
        }
        scf.yield %r3 : f32
      }
      scf.yield %r2 : f32
    }
    scf.yield %r1 : f32
  }
  return %r : f32
}

func.func @check(%out: tensor<?x?x?x?xf32>, %q: tensor<?x?x?x?xf32>,
                 %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>,
                 %causal: i1) {
  %scale = arith.constant 0.5 : f32
  %qm = bufferization.to_buffer %q : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %km = bufferization.to_buffer %k : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %vm = bufferization.to_buffer %v : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %om = bufferization.to_buffer %out : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d0 = memref.dim %om, %c0 : memref<?x?x?x?xf32>
  %d1 = memref.dim %om, %c1 : memref<?x?x?x?xf32>
  %d2 = memref.dim %om, %c2 : memref<?x?x?x?xf32>
  %d3 = memref.dim %om, %c3 : memref<?x?x?x?xf32>
  %ref = memref.alloc(%d0, %d1, %d2, %d3) : memref<?x?x?x?xf32>
  call @reference(%qm, %km, %vm, %scale, %causal, %ref)
      : (memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, f32,
         i1, memref<?x?x?x?xf32>) -> ()
  %diff = call @max_abs_diff(%om, %ref)
      : (memref<?x?x?x?xf32>, memref<?x?x?x?xf32>) -> f32
  %tol = arith.constant 1.0e-5 : f32
  %ok = arith.cmpf olt, %diff, %tol : f32
  vector.print str "max abs diff: "
  vector.print %diff : f32
  vector.print str "within tolerance: "
  vector.print %ok : i1
  return
}

func.func @main() {
  %true = arith.constant true
  %false = arith.constant false
  %qa = arith.constant 2.0 : f32
  %ka = arith.constant 1.5 : f32
  %va = arith.constant 1.0 : f32
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 1.1 : f32
  %p2 = arith.constant 2.3 : f32
  %q0 = tensor.empty() : tensor<1x6x3x20xf32>
  %k0 = tensor.empty() : tensor<1x2x37x20xf32>
  %q0d = tensor.cast %q0 : tensor<1x6x3x20xf32> to tensor<?x?x?x?xf32>
  %k0d = tensor.cast %k0 : tensor<1x2x37x20xf32> to tensor<?x?x?x?xf32>
  %qd = call @fill4(%q0d, %qa, %p0) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %kd = call @fill4(%k0d, %ka, %p1) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %vd = call @fill4(%k0d, %va, %p2) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %q = tensor.cast %qd : tensor<?x?x?x?xf32> to tensor<1x6x3x20xf32>
  %k = tensor.cast %kd : tensor<?x?x?x?xf32> to tensor<1x2x37x20xf32>
  %v = tensor.cast %vd : tensor<?x?x?x?xf32> to tensor<1x2x37x20xf32>
  %init = tensor.empty() : tensor<1x6x3x20xf32>

  vector.print str "causal f32\n"
  %o1 = magicpig.attention scale(0.5) causal
          ins(%q, %k, %v : tensor<1x6x3x20xf32>, tensor<1x2x37x20xf32>,
                           tensor<1x2x37x20xf32>)
          outs(%init : tensor<1x6x3x20xf32>) -> tensor<1x6x3x20xf32>
  %o1d = tensor.cast %o1 : tensor<1x6x3x20xf32> to tensor<?x?x?x?xf32>
  call @check(%o1d, %qd, %kd, %vd, %true) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()

  // K/V rounded to bf16; the reference reads the same rounded values.
  vector.print str "non-causal bf16 K/V\n"
  %eb = tensor.empty() : tensor<1x2x37x20xbf16>
  %kb = linalg.map { arith.truncf } ins(%k : tensor<1x2x37x20xf32>)
          outs(%eb : tensor<1x2x37x20xbf16>)
  %vb = linalg.map { arith.truncf } ins(%v : tensor<1x2x37x20xf32>)
          outs(%eb : tensor<1x2x37x20xbf16>)
  %o2 = magicpig.attention scale(0.5)
          ins(%q, %kb, %vb : tensor<1x6x3x20xf32>, tensor<1x2x37x20xbf16>,
                             tensor<1x2x37x20xbf16>)
          outs(%init : tensor<1x6x3x20xf32>) -> tensor<1x6x3x20xf32>
  %ef = tensor.empty() : tensor<1x2x37x20xf32>
  %kbx = linalg.map { arith.extf } ins(%kb : tensor<1x2x37x20xbf16>)
           outs(%ef : tensor<1x2x37x20xf32>)
  %vbx = linalg.map { arith.extf } ins(%vb : tensor<1x2x37x20xbf16>)
           outs(%ef : tensor<1x2x37x20xf32>)
  %o2d = tensor.cast %o2 : tensor<1x6x3x20xf32> to tensor<?x?x?x?xf32>
  %kbxd = tensor.cast %kbx : tensor<1x2x37x20xf32> to tensor<?x?x?x?xf32>
  %vbxd = tensor.cast %vbx : tensor<1x2x37x20xf32> to tensor<?x?x?x?xf32>
  call @check(%o2d, %qd, %kbxd, %vbxd, %false) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()

  vector.print str "causal dynamic shapes\n"
  %initd = tensor.cast %init : tensor<1x6x3x20xf32> to tensor<?x?x?x?xf32>
  %o3 = magicpig.attention scale(0.5) causal
          ins(%qd, %kd, %vd : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>,
                              tensor<?x?x?x?xf32>)
          outs(%initd : tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  call @check(%o3, %qd, %kd, %vd, %true) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()
  call @query_blocks() : () -> ()
  return
}

func.func @query_blocks() {
  %true = arith.constant true
  %false = arith.constant false
  %qa = arith.constant 2.0 : f32
  %ka = arith.constant 1.5 : f32
  %va = arith.constant 1.0 : f32
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 1.1 : f32
  %p2 = arith.constant 2.3 : f32
  %q0 = tensor.empty() : tensor<1x6x37x20xf32>
  %k0 = tensor.empty() : tensor<1x2x45x20xf32>
  %v0 = tensor.empty() : tensor<1x2x45x32xf32>
  %q0d = tensor.cast %q0 : tensor<1x6x37x20xf32> to tensor<?x?x?x?xf32>
  %k0d = tensor.cast %k0 : tensor<1x2x45x20xf32> to tensor<?x?x?x?xf32>
  %v0d = tensor.cast %v0 : tensor<1x2x45x32xf32> to tensor<?x?x?x?xf32>
  %qd = call @fill4(%q0d, %qa, %p0) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %kd = call @fill4(%k0d, %ka, %p1) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %vd = call @fill4(%v0d, %va, %p2) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %q = tensor.cast %qd : tensor<?x?x?x?xf32> to tensor<1x6x37x20xf32>
  %k = tensor.cast %kd : tensor<?x?x?x?xf32> to tensor<1x2x45x20xf32>
  %v = tensor.cast %vd : tensor<?x?x?x?xf32> to tensor<1x2x45x32xf32>
  %init = tensor.empty() : tensor<1x6x37x32xf32>

  vector.print str "query blocks: causal f32\n"
  %o1 = magicpig.attention scale(0.5) causal
          ins(%q, %k, %v : tensor<1x6x37x20xf32>, tensor<1x2x45x20xf32>,
                           tensor<1x2x45x32xf32>)
          outs(%init : tensor<1x6x37x32xf32>) -> tensor<1x6x37x32xf32>
  %o1d = tensor.cast %o1 : tensor<1x6x37x32xf32> to tensor<?x?x?x?xf32>
  call @check(%o1d, %qd, %kd, %vd, %true) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()

  // K/V rounded to f16; the reference reads the same rounded values.
  vector.print str "query blocks: non-causal f16 K/V\n"
  %ekh = tensor.empty() : tensor<1x2x45x20xf16>
  %evh = tensor.empty() : tensor<1x2x45x32xf16>
  %kh = linalg.map { arith.truncf } ins(%k : tensor<1x2x45x20xf32>)
          outs(%ekh : tensor<1x2x45x20xf16>)
  %vh = linalg.map { arith.truncf } ins(%v : tensor<1x2x45x32xf32>)
          outs(%evh : tensor<1x2x45x32xf16>)
  %o2 = magicpig.attention scale(0.5)
          ins(%q, %kh, %vh : tensor<1x6x37x20xf32>, tensor<1x2x45x20xf16>,
                             tensor<1x2x45x32xf16>)
          outs(%init : tensor<1x6x37x32xf32>) -> tensor<1x6x37x32xf32>
  %ekf = tensor.empty() : tensor<1x2x45x20xf32>
  %evf = tensor.empty() : tensor<1x2x45x32xf32>
  %khx = linalg.map { arith.extf } ins(%kh : tensor<1x2x45x20xf16>)
           outs(%ekf : tensor<1x2x45x20xf32>)
  %vhx = linalg.map { arith.extf } ins(%vh : tensor<1x2x45x32xf16>)
           outs(%evf : tensor<1x2x45x32xf32>)
  %o2d = tensor.cast %o2 : tensor<1x6x37x32xf32> to tensor<?x?x?x?xf32>
  %khxd = tensor.cast %khx : tensor<1x2x45x20xf32> to tensor<?x?x?x?xf32>
  %vhxd = tensor.cast %vhx : tensor<1x2x45x32xf32> to tensor<?x?x?x?xf32>
  call @check(%o2d, %qd, %khxd, %vhxd, %false) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()

  // Static heads and head dims, dynamic positions: a prefill's shapes.
  vector.print str "query blocks: causal, dynamic S and N\n"
  %qs = tensor.cast %q : tensor<1x6x37x20xf32> to tensor<1x6x?x20xf32>
  %ks = tensor.cast %k : tensor<1x2x45x20xf32> to tensor<1x2x?x20xf32>
  %vs = tensor.cast %v : tensor<1x2x45x32xf32> to tensor<1x2x?x32xf32>
  %inits = tensor.cast %init : tensor<1x6x37x32xf32> to tensor<1x6x?x32xf32>
  %o3 = magicpig.attention scale(0.5) causal
          ins(%qs, %ks, %vs : tensor<1x6x?x20xf32>, tensor<1x2x?x20xf32>,
                              tensor<1x2x?x32xf32>)
          outs(%inits : tensor<1x6x?x32xf32>) -> tensor<1x6x?x32xf32>
  %o3d = tensor.cast %o3 : tensor<1x6x?x32xf32> to tensor<?x?x?x?xf32>
  call @check(%o3d, %qd, %kd, %vd, %true) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()

  vector.print str "query blocks: causal, group of 8\n"
  %q8e = tensor.empty() : tensor<1x8x20x16xf32>
  %k8e = tensor.empty() : tensor<1x1x20x16xf32>
  %q8e_d = tensor.cast %q8e : tensor<1x8x20x16xf32> to tensor<?x?x?x?xf32>
  %k8e_d = tensor.cast %k8e : tensor<1x1x20x16xf32> to tensor<?x?x?x?xf32>
  %q8d = call @fill4(%q8e_d, %qa, %p0) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %k8d = call @fill4(%k8e_d, %ka, %p1) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %v8d = call @fill4(%k8e_d, %va, %p2) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %q8 = tensor.cast %q8d : tensor<?x?x?x?xf32> to tensor<1x8x20x16xf32>
  %k8 = tensor.cast %k8d : tensor<?x?x?x?xf32> to tensor<1x1x20x16xf32>
  %v8 = tensor.cast %v8d : tensor<?x?x?x?xf32> to tensor<1x1x20x16xf32>
  %o4 = magicpig.attention scale(0.5) causal
          ins(%q8, %k8, %v8 : tensor<1x8x20x16xf32>, tensor<1x1x20x16xf32>,
                              tensor<1x1x20x16xf32>)
          outs(%q8e : tensor<1x8x20x16xf32>) -> tensor<1x8x20x16xf32>
  %o4d = tensor.cast %o4 : tensor<1x8x20x16xf32> to tensor<?x?x?x?xf32>
  call @check(%o4d, %q8d, %k8d, %v8d, %true) : (tensor<?x?x?x?xf32>,
      tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, i1) -> ()
  return
}
