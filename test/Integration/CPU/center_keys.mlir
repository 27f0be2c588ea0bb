// magicpig.center_keys compiled by --magicpig-cpu-pipeline against a naive
// reference: mean = average of the keys in M = [sink, N - window),
// centered = key - mean for every key, mean = 0 when M is empty
// (N <= sink + window). Keys are [2, 2, 37, 20]; d = 20 leaves a masked
// tail on 16 and on 8 lanes; key-block=8 splits M into partial blocks.
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8 key-block=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
//
// Tolerances: f32 1e-6 (a mean of 25 values of magnitude <= 1.5 summed in
// a different order: a few ulp); bf16 centered keys 1e-2 (the op stores
// key - mean in bf16, half an ulp of values below 4 is 2^-7 ~ 8e-3, while
// the reference keeps f32).

// CHECK-LABEL: sink 4, window 8, f32
// CHECK-NEXT: mean within tolerance: 1
// CHECK-NEXT: centered within tolerance: 1
// CHECK-LABEL: sink 4, window 8, bf16
// CHECK-NEXT: mean within tolerance: 1
// CHECK-NEXT: centered within tolerance: 1
// The empty middle range: mean exactly 0, keys unchanged.
// CHECK-LABEL: sink 30, window 8 (empty)
// CHECK-NEXT: max |mean|: 0
// CHECK-NEXT: max |centered - key|: 0
// CHECK-LABEL: sink 29, window 8 (N = sink + window)
// CHECK-NEXT: max |mean|: 0
// CHECK-NEXT: max |centered - key|: 0

#map4 = affine_map<(i, j, k, l) -> (i, j, k, l)>

// t[i, j, k, l] = 1.5 * sin(0.9 i + 1.7 j + 0.23 k + 0.61 l + 1.1) + 0.5:
// a non-zero mean to remove.
func.func @fill4(%t: tensor<2x2x37x20xf32>) -> tensor<2x2x37x20xf32> {
  %r = linalg.generic {indexing_maps = [#map4],
                       iterator_types = ["parallel", "parallel", "parallel",
                                         "parallel"]}
      outs(%t : tensor<2x2x37x20xf32>) {
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
    %phase = arith.constant 1.1 : f32
    %amp = arith.constant 1.5 : f32
    %shift = arith.constant 0.5 : f32
    %x0 = math.fma %fi, %a, %phase : f32
    %x1 = math.fma %fj, %b, %x0 : f32
    %x2 = math.fma %fk, %c, %x1 : f32
    %x3 = math.fma %fl, %d, %x2 : f32
    %s = math.sin %x3 : f32
    %y = math.fma %s, %amp, %shift : f32
    linalg.yield %y : f32
  } -> tensor<2x2x37x20xf32>
  return %r : tensor<2x2x37x20xf32>
}

func.func @to_f32(%i: index) -> f32 {
  %ii = arith.index_cast %i : index to i64
  %f = arith.sitofp %ii : i64 to f32
  return %f : f32
}

// mean[b, g, i] = sum_{j in [lo, hi)} key[b, g, j, i] / (hi - lo), with
// hi > lo here; then the largest error of `mean` and of `centered`.
func.func @errors(%key: memref<2x2x37x20xf32>, %lo: index, %hi: index,
                  %mean: memref<2x2x20xf32>, %centered: memref<2x2x37x20xf32>)
    -> (f32, f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c20 = arith.constant 20 : index
  %c37 = arith.constant 37 : index
  %zero = arith.constant 0.0 : f32
  %count = arith.subi %hi, %lo : index
  %ci = arith.index_cast %count : index to i64
  %cf = arith.sitofp %ci : i64 to f32
  %res:2 = scf.for %b = %c0 to %c2 step %c1 iter_args(%em0 = %zero, %ec0 = %zero) -> (f32, f32) {
    %r1:2 = scf.for %g = %c0 to %c2 step %c1 iter_args(%em1 = %em0, %ec1 = %ec0) -> (f32, f32) {
      %r2:2 = scf.for %i = %c0 to %c20 step %c1 iter_args(%em2 = %em1, %ec2 = %ec1) -> (f32, f32) {
        %sum = scf.for %j = %lo to %hi step %c1 iter_args(%acc = %zero) -> f32 {
          %x = memref.load %key[%b, %g, %j, %i] : memref<2x2x37x20xf32>
          %a = arith.addf %acc, %x : f32
          scf.yield %a : f32
        }
        %ref = arith.divf %sum, %cf : f32
        %m = memref.load %mean[%b, %g, %i] : memref<2x2x20xf32>
        %dm = arith.subf %m, %ref : f32
        %am = math.absf %dm : f32
        %em3 = arith.maximumf %em2, %am : f32
        %ec3 = scf.for %j = %c0 to %c37 step %c1 iter_args(%e = %ec2) -> f32 {
          %x = memref.load %key[%b, %g, %j, %i] : memref<2x2x37x20xf32>
          %want = arith.subf %x, %ref : f32
          %got = memref.load %centered[%b, %g, %j, %i] : memref<2x2x37x20xf32>
          %d = arith.subf %got, %want : f32
          %ad = math.absf %d : f32
          %e2 = arith.maximumf %e, %ad : f32
          scf.yield %e2 : f32
        }
        scf.yield %em3, %ec3 : f32, f32
      }
      scf.yield %r2#0, %r2#1 : f32, f32
    }
    scf.yield %r1#0, %r1#1 : f32, f32
  }
  return %res#0, %res#1 : f32, f32
}

func.func @max_abs(%x: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%m = %zero) -> f32 {
    %a = memref.load %x[%i] : memref<?xf32>
    %e = math.absf %a : f32
    %m2 = arith.maximumf %m, %e : f32
    scf.yield %m2 : f32
  }
  return %r : f32
}

func.func @report(%em: f32, %ec: f32, %tolMean: f32, %tolCentered: f32) {
  %okm = arith.cmpf olt, %em, %tolMean : f32
  %okc = arith.cmpf olt, %ec, %tolCentered : f32
  vector.print str "mean within tolerance: "
  vector.print %okm : i1
  vector.print str "centered within tolerance: "
  vector.print %okc : i1
  return
}

// The empty range: prints max |mean| and max |centered - key|.
func.func @report_empty(%key: tensor<2x2x37x20xf32>, %mean: tensor<2x2x20xf32>,
                        %centered: tensor<2x2x37x20xf32>) {
  %mm = bufferization.to_buffer %mean : tensor<2x2x20xf32> to memref<2x2x20xf32>
  %mf = memref.collapse_shape %mm [[0, 1, 2]] : memref<2x2x20xf32> into memref<80xf32>
  %md = memref.cast %mf : memref<80xf32> to memref<?xf32>
  %am = call @max_abs(%md) : (memref<?xf32>) -> f32
  %e = tensor.empty() : tensor<2x2x37x20xf32>
  %diff = linalg.map { arith.subf } ins(%centered, %key : tensor<2x2x37x20xf32>, tensor<2x2x37x20xf32>)
            outs(%e : tensor<2x2x37x20xf32>)
  %dm = bufferization.to_buffer %diff : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %df = memref.collapse_shape %dm [[0, 1, 2, 3]] : memref<2x2x37x20xf32> into memref<2960xf32>
  %dd = memref.cast %df : memref<2960xf32> to memref<?xf32>
  %ad = call @max_abs(%dd) : (memref<?xf32>) -> f32
  vector.print str "max |mean|: "
  vector.print %am : f32
  vector.print str "max |centered - key|: "
  vector.print %ad : f32
  return
}

func.func @main() {
  %c4 = arith.constant 4 : index
  %c29 = arith.constant 29 : index
  %e = tensor.empty() : tensor<2x2x37x20xf32>
  %key = call @fill4(%e) : (tensor<2x2x37x20xf32>) -> tensor<2x2x37x20xf32>
  %me = tensor.empty() : tensor<2x2x20xf32>
  %tol32 = arith.constant 1.0e-6 : f32
  %tol16 = arith.constant 1.0e-2 : f32

  vector.print str "sink 4, window 8, f32\n"
  %c1, %m1 = magicpig.center_keys sink(4) window(8)
      ins(%key : tensor<2x2x37x20xf32>)
      outs(%e, %me : tensor<2x2x37x20xf32>, tensor<2x2x20xf32>)
      -> tensor<2x2x37x20xf32>, tensor<2x2x20xf32>
  %km = bufferization.to_buffer %key : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %m1m = bufferization.to_buffer %m1 : tensor<2x2x20xf32> to memref<2x2x20xf32>
  %c1m = bufferization.to_buffer %c1 : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %em1, %ec1 = call @errors(%km, %c4, %c29, %m1m, %c1m)
      : (memref<2x2x37x20xf32>, index, index, memref<2x2x20xf32>,
         memref<2x2x37x20xf32>) -> (f32, f32)
  call @report(%em1, %ec1, %tol32, %tol32) : (f32, f32, f32, f32) -> ()

  // bf16 keys and centered keys; the reference reads the rounded keys.
  vector.print str "sink 4, window 8, bf16\n"
  %eb = tensor.empty() : tensor<2x2x37x20xbf16>
  %kb = linalg.map { arith.truncf } ins(%key : tensor<2x2x37x20xf32>)
          outs(%eb : tensor<2x2x37x20xbf16>)
  %c2, %m2 = magicpig.center_keys sink(4) window(8)
      ins(%kb : tensor<2x2x37x20xbf16>)
      outs(%eb, %me : tensor<2x2x37x20xbf16>, tensor<2x2x20xf32>)
      -> tensor<2x2x37x20xbf16>, tensor<2x2x20xf32>
  %kbx = linalg.map { arith.extf } ins(%kb : tensor<2x2x37x20xbf16>)
           outs(%e : tensor<2x2x37x20xf32>)
  %c2x = linalg.map { arith.extf } ins(%c2 : tensor<2x2x37x20xbf16>)
           outs(%e : tensor<2x2x37x20xf32>)
  %kbxm = bufferization.to_buffer %kbx : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %m2m = bufferization.to_buffer %m2 : tensor<2x2x20xf32> to memref<2x2x20xf32>
  %c2xm = bufferization.to_buffer %c2x : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %em2, %ec2 = call @errors(%kbxm, %c4, %c29, %m2m, %c2xm)
      : (memref<2x2x37x20xf32>, index, index, memref<2x2x20xf32>,
         memref<2x2x37x20xf32>) -> (f32, f32)
  call @report(%em2, %ec2, %tol32, %tol16) : (f32, f32, f32, f32) -> ()

  // N - window - sink = -1: M is empty.
  vector.print str "sink 30, window 8 (empty)\n"
  %c3, %m3 = magicpig.center_keys sink(30) window(8)
      ins(%key : tensor<2x2x37x20xf32>)
      outs(%e, %me : tensor<2x2x37x20xf32>, tensor<2x2x20xf32>)
      -> tensor<2x2x37x20xf32>, tensor<2x2x20xf32>
  call @report_empty(%key, %m3, %c3) : (tensor<2x2x37x20xf32>,
      tensor<2x2x20xf32>, tensor<2x2x37x20xf32>) -> ()

  // N - window - sink = 0: M is empty, at the boundary.
  vector.print str "sink 29, window 8 (N = sink + window)\n"
  %c4t, %m4 = magicpig.center_keys sink(29) window(8)
      ins(%key : tensor<2x2x37x20xf32>)
      outs(%e, %me : tensor<2x2x37x20xf32>, tensor<2x2x20xf32>)
      -> tensor<2x2x37x20xf32>, tensor<2x2x20xf32>
  call @report_empty(%key, %m4, %c4t) : (tensor<2x2x37x20xf32>,
      tensor<2x2x20xf32>, tensor<2x2x37x20xf32>) -> ()
  return
}
