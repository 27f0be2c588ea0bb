// A decode matmul split over threads by --magicpig-parallel-contractions
// (16 tiles of 96 output features, OpenMP) against the closed form: with
// x = 1 and W[n, k] = (n mod 7) + 0.001 k, out[n] = 576 (n mod 7) +
// 0.001 * (0 + 1 + ... + 575) = 576 (n mod 7) + 165.6. Outputs checked at
// both ends of the first tile, inside and at the end of the last one.
//
// RUN: magicpig-opt %s --magicpig-parallel-contractions --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-parallel-contractions --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell | FileCheck %s

// CHECK: out[0] 165.6
// CHECK-NEXT: out[95] 2469.6
// CHECK-NEXT: out[96] 3045.6
// CHECK-NEXT: out[1500] 1317.6
// CHECK-NEXT: out[1535] 1317.6

#a = affine_map<(i, n, k) -> (i, k)>
#w = affine_map<(i, n, k) -> (n, k)>
#o = affine_map<(i, n, k) -> (i, n)>
#fill = affine_map<(n, k) -> (n, k)>

func.func @gemv(%x: tensor<1x576xf32>, %w: tensor<1536x576xf32>) -> tensor<1x1536xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1536xf32>
  %init = linalg.fill ins(%z : f32) outs(%e : tensor<1x1536xf32>) -> tensor<1x1536xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x576xf32>, tensor<1536x576xf32>) outs(%init : tensor<1x1536xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1536xf32>
  return %r : tensor<1x1536xf32>
}

func.func @print_at(%out: tensor<1x1536xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %out[%c0, %n] : tensor<1x1536xf32>
  %i = arith.index_cast %n : index to i64
  vector.print str "out["
  vector.print %i : i64 punctuation <no_punctuation>
  vector.print str "] "
  vector.print %v : f32
  return
}

func.func @main() {
  %one = arith.constant 1.0 : f32
  %xe = tensor.empty() : tensor<1x576xf32>
  %x = linalg.fill ins(%one : f32) outs(%xe : tensor<1x576xf32>) -> tensor<1x576xf32>
  %we = tensor.empty() : tensor<1536x576xf32>
  %w = linalg.generic {indexing_maps = [#fill], iterator_types = ["parallel", "parallel"]}
      outs(%we : tensor<1536x576xf32>) {
  ^bb0(%out: f32):
    %n = linalg.index 0 : index
    %k = linalg.index 1 : index
    %c7 = arith.constant 7 : index
    %r = arith.remui %n, %c7 : index
    %ri = arith.index_cast %r : index to i64
    %rf = arith.sitofp %ri : i64 to f32
    %ki = arith.index_cast %k : index to i64
    %kf = arith.sitofp %ki : i64 to f32
    %milli = arith.constant 0.001 : f32
    %v = math.fma %kf, %milli, %rf : f32
    linalg.yield %v : f32
  } -> tensor<1536x576xf32>
  %out = call @gemv(%x, %w) : (tensor<1x576xf32>, tensor<1536x576xf32>) -> tensor<1x1536xf32>
  %c0 = arith.constant 0 : index
  %c95 = arith.constant 95 : index
  %c96 = arith.constant 96 : index
  %c1500 = arith.constant 1500 : index
  %c1535 = arith.constant 1535 : index
  call @print_at(%out, %c0) : (tensor<1x1536xf32>, index) -> ()
  call @print_at(%out, %c95) : (tensor<1x1536xf32>, index) -> ()
  call @print_at(%out, %c96) : (tensor<1x1536xf32>, index) -> ()
  call @print_at(%out, %c1500) : (tensor<1x1536xf32>, index) -> ()
  call @print_at(%out, %c1535) : (tensor<1x1536xf32>, index) -> ()
  return
}
