// magicpig.window_attention compiled by --magicpig-cpu-pipeline against a
// naive scalar reference that attends to the key positions
// [0, min(sink, N)) U [max(window_start, sink), N) and returns the
// log-sum-exp of the scores. N = 37, Hq = 4, Hkv = 2, d = 20.
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s \
// RUN:   --magicpig-cpu-pipeline="vector-width=8 keys-per-task=8 key-block=4" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
//
// Tolerances: out 1e-5 as in attention.mlir (convex combinations of values
// of magnitude <= 1, f32 accumulation, polynomial vs libm exp); lse 1e-5 on
// values of magnitude < 10 (a few ulp of the log of a sum of up to 37
// terms). An lse of -inf must be -inf on both sides.

// With window_start = sink the op is full attention plus its lse.
// CHECK-LABEL: window_start = sink
// CHECK-NEXT: out vs attention within tolerance: 1
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1
// CHECK-LABEL: sink 4, window from 20
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1
// CHECK-LABEL: sink 4, window_start past N
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1
// CHECK-LABEL: sink beyond N
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1
// An empty set: out 0 and lse -inf, no NaN.
// CHECK-LABEL: empty set
// CHECK-NEXT: out within tolerance: 1
// CHECK-NEXT: lse within tolerance: 1
// CHECK-NEXT: max |out|: 0
// CHECK: [-inf,   -inf,   -inf,   -inf]

#map4 = affine_map<(i, j, k, l) -> (i, j, k, l)>

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

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

// The naive reference over the keys j with j < sink or j >= max(ws, sink):
// s_j = scale * q . k_j, out = sum_j exp(s_j - m) v_j / l, lse = m + log l
// with m the max and l the sum of exp(s_j - m); an empty set gives out 0
// and lse -inf.
func.func @reference(%q: memref<?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                     %v: memref<?x?x?x?xf32>, %scale: f32, %sink: index,
                     %ws: index, %out: memref<?x?x?xf32>,
                     %lse: memref<?x?xf32>) {
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
  %windowBegin = arith.maxui %ws, %sink : index
  %sc = memref.alloc(%n) : memref<?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %h = %c0 to %hq step %c1 {
      %g = arith.divui %h, %group : index
      // Excluded keys get score -inf, so exp gives them weight 0.
      %max = scf.for %j = %c0 to %n step %c1 iter_args(%m = %ninf) -> f32 {
        %inSink = arith.cmpi ult, %j, %sink : index
        %inWindow = arith.cmpi uge, %j, %windowBegin : index
        %in = arith.ori %inSink, %inWindow : i1
        %dot = scf.for %i = %c0 to %d step %c1 iter_args(%acc = %zero) -> f32 {
          %x = memref.load %q[%b, %h, %i] : memref<?x?x?xf32>
          %y = memref.load %k[%b, %g, %j, %i] : memref<?x?x?x?xf32>
          %p = arith.mulf %x, %y : f32
          %a = arith.addf %acc, %p : f32
          scf.yield %a : f32
        }
        %sj0 = arith.mulf %dot, %scale : f32
        %sj = arith.select %in, %sj0, %ninf : f32
        memref.store %sj, %sc[%j] : memref<?xf32>
        %m2 = arith.maximumf %m, %sj : f32
        scf.yield %m2 : f32
      }
      %empty = arith.cmpf oeq, %max, %ninf : f32
      scf.if %empty {
        memref.store %ninf, %lse[%b, %h] : memref<?x?xf32>
        scf.for %i = %c0 to %dv step %c1 {
          memref.store %zero, %out[%b, %h, %i] : memref<?x?x?xf32>
        }
      } else {
        %sum = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
          %sj = memref.load %sc[%j] : memref<?xf32>
          %t = arith.subf %sj, %max : f32
          %e = math.exp %t : f32
          %a = arith.addf %acc, %e : f32
          scf.yield %a : f32
        }
        %log = math.log %sum : f32
        %l = arith.addf %max, %log : f32
        memref.store %l, %lse[%b, %h] : memref<?x?xf32>
        scf.for %i = %c0 to %dv step %c1 {
          %num = scf.for %j = %c0 to %n step %c1 iter_args(%acc = %zero) -> f32 {
            %sj = memref.load %sc[%j] : memref<?xf32>
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
  }
  return
}

// max |x - y| over all elements, where equal values (-inf included) count
// as 0; a NaN makes the result NaN.
func.func @max_abs_diff(%x: memref<?xf32>, %y: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%m = %zero) -> f32 {
    %a = memref.load %x[%i] : memref<?xf32>
    %b = memref.load %y[%i] : memref<?xf32>
    %same = arith.cmpf oeq, %a, %b : f32
    %d = arith.subf %a, %b : f32
    %e = math.absf %d : f32
    %e2 = arith.select %same, %zero, %e : f32
    %m2 = arith.maximumf %m, %e2 : f32
    scf.yield %m2 : f32
  }
  return %r : f32
}

// The buffers of a [1, 4, 20] output and a [1, 4] lse, flattened.
func.func @flat_out(%t: tensor<1x4x20xf32>) -> memref<?xf32> {
  %m = bufferization.to_buffer %t : tensor<1x4x20xf32> to memref<1x4x20xf32>
  %f = memref.collapse_shape %m [[0, 1, 2]] : memref<1x4x20xf32> into memref<80xf32>
  %d = memref.cast %f : memref<80xf32> to memref<?xf32>
  return %d : memref<?xf32>
}

func.func @flat_lse(%t: tensor<1x4xf32>) -> memref<?xf32> {
  %m = bufferization.to_buffer %t : tensor<1x4xf32> to memref<1x4xf32>
  %f = memref.collapse_shape %m [[0, 1]] : memref<1x4xf32> into memref<4xf32>
  %d = memref.cast %f : memref<4xf32> to memref<?xf32>
  return %d : memref<?xf32>
}

func.func @print_ok(%what: i32, %diff: f32) {
  %tol = arith.constant 1.0e-5 : f32
  %ok = arith.cmpf olt, %diff, %tol : f32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %isOut = arith.cmpi eq, %what, %c0 : i32
  %isLse = arith.cmpi eq, %what, %c1 : i32
  scf.if %isOut {
    vector.print str "out within tolerance: "
  } else {
    scf.if %isLse {
      vector.print str "lse within tolerance: "
    } else {
      vector.print str "out vs attention within tolerance: "
    }
  }
  vector.print %ok : i1
  return
}

// Runs the op with (sink, window_start) and compares it with the reference.
// `sink` is an attribute, so each sink value has its own op below.
func.func @check(%out: tensor<1x4x20xf32>, %lse: tensor<1x4xf32>,
                 %q: tensor<1x4x20xf32>, %k: tensor<1x2x37x20xf32>,
                 %v: tensor<1x2x37x20xf32>, %sink: index, %ws: index) {
  %scale = arith.constant 0.5 : f32
  %qm = bufferization.to_buffer %q : tensor<1x4x20xf32> to memref<1x4x20xf32>
  %km = bufferization.to_buffer %k : tensor<1x2x37x20xf32> to memref<1x2x37x20xf32>
  %vm = bufferization.to_buffer %v : tensor<1x2x37x20xf32> to memref<1x2x37x20xf32>
  %qd = memref.cast %qm : memref<1x4x20xf32> to memref<?x?x?xf32>
  %kd = memref.cast %km : memref<1x2x37x20xf32> to memref<?x?x?x?xf32>
  %vd = memref.cast %vm : memref<1x2x37x20xf32> to memref<?x?x?x?xf32>
  %refOut = memref.alloc() : memref<1x4x20xf32>
  %refLse = memref.alloc() : memref<1x4xf32>
  %refOutD = memref.cast %refOut : memref<1x4x20xf32> to memref<?x?x?xf32>
  %refLseD = memref.cast %refLse : memref<1x4xf32> to memref<?x?xf32>
  call @reference(%qd, %kd, %vd, %scale, %sink, %ws, %refOutD, %refLseD)
      : (memref<?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, f32,
         index, index, memref<?x?x?xf32>, memref<?x?xf32>) -> ()
  %refOutF = memref.collapse_shape %refOut [[0, 1, 2]] : memref<1x4x20xf32> into memref<80xf32>
  %refLseF = memref.collapse_shape %refLse [[0, 1]] : memref<1x4xf32> into memref<4xf32>
  %refOutFD = memref.cast %refOutF : memref<80xf32> to memref<?xf32>
  %refLseFD = memref.cast %refLseF : memref<4xf32> to memref<?xf32>
  %o = call @flat_out(%out) : (tensor<1x4x20xf32>) -> memref<?xf32>
  %l = call @flat_lse(%lse) : (tensor<1x4xf32>) -> memref<?xf32>
  %do = call @max_abs_diff(%o, %refOutFD) : (memref<?xf32>, memref<?xf32>) -> f32
  %dl = call @max_abs_diff(%l, %refLseFD) : (memref<?xf32>, memref<?xf32>) -> f32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  call @print_ok(%c0, %do) : (i32, f32) -> ()
  call @print_ok(%c1, %dl) : (i32, f32) -> ()
  return
}

func.func @main() {
  %qa = arith.constant 2.0 : f32
  %ka = arith.constant 1.5 : f32
  %va = arith.constant 1.0 : f32
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 1.1 : f32
  %p2 = arith.constant 2.3 : f32
  %q0 = tensor.empty() : tensor<1x4x1x20xf32>
  %k0 = tensor.empty() : tensor<1x2x37x20xf32>
  %q0d = tensor.cast %q0 : tensor<1x4x1x20xf32> to tensor<?x?x?x?xf32>
  %k0d = tensor.cast %k0 : tensor<1x2x37x20xf32> to tensor<?x?x?x?xf32>
  %q1 = call @fill4(%q0d, %qa, %p0) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %k1 = call @fill4(%k0d, %ka, %p1) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %v1 = call @fill4(%k0d, %va, %p2) : (tensor<?x?x?x?xf32>, f32, f32) -> tensor<?x?x?x?xf32>
  %q4 = tensor.cast %q1 : tensor<?x?x?x?xf32> to tensor<1x4x1x20xf32>
  %q = tensor.collapse_shape %q4 [[0], [1, 2], [3]] : tensor<1x4x1x20xf32> into tensor<1x4x20xf32>
  %k = tensor.cast %k1 : tensor<?x?x?x?xf32> to tensor<1x2x37x20xf32>
  %v = tensor.cast %v1 : tensor<?x?x?x?xf32> to tensor<1x2x37x20xf32>
  %oinit = tensor.empty() : tensor<1x4x20xf32>
  %linit = tensor.empty() : tensor<1x4xf32>
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c20 = arith.constant 20 : index
  %c37 = arith.constant 37 : index
  %c50 = arith.constant 50 : index
  %c100 = arith.constant 100 : index

  vector.print str "window_start = sink\n"
  %o1, %l1 = magicpig.window_attention sink(4) window_start(%c4) scale(0.5)
      ins(%q, %k, %v : tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>)
      outs(%oinit, %linit : tensor<1x4x20xf32>, tensor<1x4xf32>)
      -> tensor<1x4x20xf32>, tensor<1x4xf32>
  %full = magicpig.attention scale(0.5)
      ins(%q, %k, %v : tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>)
      outs(%oinit : tensor<1x4x20xf32>) -> tensor<1x4x20xf32>
  %fo = call @flat_out(%o1) : (tensor<1x4x20xf32>) -> memref<?xf32>
  %ff = call @flat_out(%full) : (tensor<1x4x20xf32>) -> memref<?xf32>
  %dfull = call @max_abs_diff(%fo, %ff) : (memref<?xf32>, memref<?xf32>) -> f32
  %c2i = arith.constant 2 : i32
  call @print_ok(%c2i, %dfull) : (i32, f32) -> ()
  call @check(%o1, %l1, %q, %k, %v, %c4, %c4) : (tensor<1x4x20xf32>, tensor<1x4xf32>,
      tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>, index, index) -> ()

  vector.print str "sink 4, window from 20\n"
  %o2, %l2 = magicpig.window_attention sink(4) window_start(%c20) scale(0.5)
      ins(%q, %k, %v : tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>)
      outs(%oinit, %linit : tensor<1x4x20xf32>, tensor<1x4xf32>)
      -> tensor<1x4x20xf32>, tensor<1x4xf32>
  call @check(%o2, %l2, %q, %k, %v, %c4, %c20) : (tensor<1x4x20xf32>, tensor<1x4xf32>,
      tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>, index, index) -> ()

  vector.print str "sink 4, window_start past N\n"
  %o3, %l3 = magicpig.window_attention sink(4) window_start(%c100) scale(0.5)
      ins(%q, %k, %v : tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>)
      outs(%oinit, %linit : tensor<1x4x20xf32>, tensor<1x4xf32>)
      -> tensor<1x4x20xf32>, tensor<1x4xf32>
  call @check(%o3, %l3, %q, %k, %v, %c4, %c100) : (tensor<1x4x20xf32>, tensor<1x4xf32>,
      tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>, index, index) -> ()

  vector.print str "sink beyond N\n"
  %o4, %l4 = magicpig.window_attention sink(50) window_start(%c0) scale(0.5)
      ins(%q, %k, %v : tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>)
      outs(%oinit, %linit : tensor<1x4x20xf32>, tensor<1x4xf32>)
      -> tensor<1x4x20xf32>, tensor<1x4xf32>
  call @check(%o4, %l4, %q, %k, %v, %c50, %c0) : (tensor<1x4x20xf32>, tensor<1x4xf32>,
      tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>, index, index) -> ()

  vector.print str "empty set\n"
  %o5, %l5 = magicpig.window_attention sink(0) window_start(%c37) scale(0.5)
      ins(%q, %k, %v : tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>)
      outs(%oinit, %linit : tensor<1x4x20xf32>, tensor<1x4xf32>)
      -> tensor<1x4x20xf32>, tensor<1x4xf32>
  %c0i = arith.constant 0 : index
  call @check(%o5, %l5, %q, %k, %v, %c0i, %c37) : (tensor<1x4x20xf32>, tensor<1x4xf32>,
      tensor<1x4x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>, index, index) -> ()
  %zeros = memref.alloc() : memref<80xf32>
  %zf = arith.constant 0.0 : f32
  linalg.fill ins(%zf : f32) outs(%zeros : memref<80xf32>)
  %zd = memref.cast %zeros : memref<80xf32> to memref<?xf32>
  %o5f = call @flat_out(%o5) : (tensor<1x4x20xf32>) -> memref<?xf32>
  %maxOut = call @max_abs_diff(%o5f, %zd) : (memref<?xf32>, memref<?xf32>) -> f32
  vector.print str "max |out|: "
  vector.print %maxOut : f32
  %l5m = bufferization.to_buffer %l5 : tensor<1x4xf32> to memref<1x4xf32>
  %l5u = memref.cast %l5m : memref<1x4xf32> to memref<*xf32>
  call @printMemrefF32(%l5u) : (memref<*xf32>) -> ()
  return
}
