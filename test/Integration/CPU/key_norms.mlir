// magicpig.key_norms compiled by --magicpig-cpu-pipeline: exact values on
// hand-made keys, and f32/bf16 keys against a naive scalar
// sqrt(sum_i k_i^2). d = 20 leaves a masked tail on 16 and on 8 lanes.
//
// The second run: vector width 8 compiled for an AVX2 CPU without AVX-512.
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s
//
// Tolerance 1e-5 on norms below 7: both sides sum 20 squares in f32 in a
// different order (a few ulp, ~1e-6).

// |0| = 0, |(3, 4, 0, ...)| = 5, |(1, ..., 1)| = sqrt(20).
// CHECK: {{\[\[\[}}0,   5,   4.47214]]]
// CHECK-LABEL: f32 keys
// CHECK-NEXT: within tolerance: 1
// CHECK-LABEL: bf16 keys
// CHECK-NEXT: within tolerance: 1

#map4 = affine_map<(i, j, k, l) -> (i, j, k, l)>

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

// t[i, j, k, l] = 1.5 * sin(0.9 i + 1.7 j + 0.23 k + 0.61 l + 1.1)
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
    %x0 = math.fma %fi, %a, %phase : f32
    %x1 = math.fma %fj, %b, %x0 : f32
    %x2 = math.fma %fk, %c, %x1 : f32
    %x3 = math.fma %fl, %d, %x2 : f32
    %s = math.sin %x3 : f32
    %y = arith.mulf %s, %amp : f32
    linalg.yield %y : f32
  } -> tensor<2x2x37x20xf32>
  return %r : tensor<2x2x37x20xf32>
}

func.func @to_f32(%i: index) -> f32 {
  %ii = arith.index_cast %i : index to i64
  %f = arith.sitofp %ii : i64 to f32
  return %f : f32
}

// max over (b, g, j) of |norms[b, g, j] - sqrt(sum_i key[b, g, j, i]^2)|.
func.func @max_error(%key: memref<2x2x37x20xf32>, %norms: memref<2x2x37xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c20 = arith.constant 20 : index
  %c37 = arith.constant 37 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %b = %c0 to %c2 step %c1 iter_args(%m0 = %zero) -> f32 {
    %r1 = scf.for %g = %c0 to %c2 step %c1 iter_args(%m1 = %m0) -> f32 {
      %r2 = scf.for %j = %c0 to %c37 step %c1 iter_args(%m2 = %m1) -> f32 {
        %sq = scf.for %i = %c0 to %c20 step %c1 iter_args(%acc = %zero) -> f32 {
          %x = memref.load %key[%b, %g, %j, %i] : memref<2x2x37x20xf32>
          %p = arith.mulf %x, %x : f32
          %a = arith.addf %acc, %p : f32
          scf.yield %a : f32
        }
        %ref = math.sqrt %sq : f32
        %n = memref.load %norms[%b, %g, %j] : memref<2x2x37xf32>
        %d = arith.subf %n, %ref : f32
        %e = math.absf %d : f32
        %m = arith.maximumf %m2, %e : f32
        scf.yield %m : f32
      }
      scf.yield %r2 : f32
    }
    scf.yield %r1 : f32
  }
  return %r : f32
}

func.func @check(%key: tensor<2x2x37x20xf32>, %norms: tensor<2x2x37xf32>) {
  %km = bufferization.to_buffer %key : tensor<2x2x37x20xf32> to memref<2x2x37x20xf32>
  %nm = bufferization.to_buffer %norms : tensor<2x2x37xf32> to memref<2x2x37xf32>
  %err = call @max_error(%km, %nm) : (memref<2x2x37x20xf32>, memref<2x2x37xf32>) -> f32
  %tol = arith.constant 1.0e-5 : f32
  %ok = arith.cmpf olt, %err, %tol : f32
  vector.print str "within tolerance: "
  vector.print %ok : i1
  return
}

func.func @main() {
  %small = arith.constant dense<[[[
      [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
       0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
      [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
       0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0],
      [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
       1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]]>
      : tensor<1x1x3x20xf32>
  %se = tensor.empty() : tensor<1x1x3xf32>
  %sn = magicpig.key_norms ins(%small : tensor<1x1x3x20xf32>)
                           outs(%se : tensor<1x1x3xf32>) -> tensor<1x1x3xf32>
  %snm = bufferization.to_buffer %sn : tensor<1x1x3xf32> to memref<1x1x3xf32>
  %snu = memref.cast %snm : memref<1x1x3xf32> to memref<*xf32>
  call @printMemrefF32(%snu) : (memref<*xf32>) -> ()

  %e = tensor.empty() : tensor<2x2x37x20xf32>
  %key = call @fill4(%e) : (tensor<2x2x37x20xf32>) -> tensor<2x2x37x20xf32>
  %ne = tensor.empty() : tensor<2x2x37xf32>

  vector.print str "f32 keys\n"
  %n32 = magicpig.key_norms ins(%key : tensor<2x2x37x20xf32>)
                            outs(%ne : tensor<2x2x37xf32>) -> tensor<2x2x37xf32>
  call @check(%key, %n32) : (tensor<2x2x37x20xf32>, tensor<2x2x37xf32>) -> ()

  // The reference reads the bf16 keys extended back to f32.
  vector.print str "bf16 keys\n"
  %eb = tensor.empty() : tensor<2x2x37x20xbf16>
  %kb = linalg.map { arith.truncf } ins(%key : tensor<2x2x37x20xf32>)
          outs(%eb : tensor<2x2x37x20xbf16>)
  %nb = magicpig.key_norms ins(%kb : tensor<2x2x37x20xbf16>)
                           outs(%ne : tensor<2x2x37xf32>) -> tensor<2x2x37xf32>
  %kbx = linalg.map { arith.extf } ins(%kb : tensor<2x2x37x20xbf16>)
           outs(%e : tensor<2x2x37x20xf32>)
  call @check(%kbx, %nb) : (tensor<2x2x37x20xf32>, tensor<2x2x37xf32>) -> ()
  return
}
