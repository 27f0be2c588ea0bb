// Decode attention over concat(cache, new rows), split by
// --magicpig-split-appended-kv into attention over the cache and over the
// new rows plus a log-sum-exp merge, against the unsplit attention over the
// concatenation (whose numerics attention.mlir checks against a naive
// loop). @whole takes the concatenated K/V as arguments, so the pass leaves
// it alone. Cache of 37 rows (+ 1 and + 3 appended), GQA 4 / 2, d = 16;
// the split only reorders f32 sums: 1e-6 on outputs of magnitude <= 1.
//
// RUN: magicpig-opt %s --magicpig-split-appended-kv --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-split-appended-kv --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell | FileCheck %s
// RUN: magicpig-opt %s --magicpig-split-appended-kv | FileCheck %s --check-prefix=SPLIT

// SPLIT-LABEL: func.func @split(
// SPLIT-NOT:   magicpig.attention
// SPLIT-COUNT-2: magicpig.window_attention sink(0)
// SPLIT-LABEL: func.func @whole(
// SPLIT:       magicpig.attention

// CHECK: appended 1: max |split - whole| < 1e-6: 1
// CHECK: appended 3: max |split - whole| < 1e-6: 1

#map4 = affine_map<(i, j, k, l) -> (i, j, k, l)>
#map3 = affine_map<(i, j, k) -> (i, j, k)>
#max = affine_map<(i, j, k) -> ()>

// t[i, j, k, l] = sin(0.9 j + 1.7 k + 0.23 l + phase)
func.func @fill(%t: tensor<1x?x?x16xf32>, %phase: f32) -> tensor<1x?x?x16xf32> {
  %r = linalg.generic {indexing_maps = [#map4],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      outs(%t : tensor<1x?x?x16xf32>) {
  ^bb0(%out: f32):
    %j = linalg.index 1 : index
    %k = linalg.index 2 : index
    %l = linalg.index 3 : index
    %fj = func.call @to_f32(%j) : (index) -> f32
    %fk = func.call @to_f32(%k) : (index) -> f32
    %fl = func.call @to_f32(%l) : (index) -> f32
    %a = arith.constant 0.9 : f32
    %b = arith.constant 1.7 : f32
    %c = arith.constant 0.23 : f32
    %x0 = math.fma %fj, %a, %phase : f32
    %x1 = math.fma %fk, %b, %x0 : f32
    %x2 = math.fma %fl, %c, %x1 : f32
    %s = math.sin %x2 : f32
    linalg.yield %s : f32
  } -> tensor<1x?x?x16xf32>
  return %r : tensor<1x?x?x16xf32>
}

func.func @to_f32(%i: index) -> f32 {
  %n = arith.index_cast %i : index to i64
  %f = arith.sitofp %n : i64 to f32
  return %f : f32
}

func.func @split(%q: tensor<1x4x16xf32>, %kc: tensor<1x2x?x16xf32>, %kn: tensor<1x2x?x16xf32>,
                 %vc: tensor<1x2x?x16xf32>, %vn: tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32> {
  %k = tensor.concat dim(2) %kc, %kn : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %v = tensor.concat dim(2) %vc, %vn : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %init = tensor.empty() : tensor<1x4x16xf32>
  %o = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init : tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return %o : tensor<1x4x16xf32>
}

func.func @whole(%q: tensor<1x4x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32> {
  %init = tensor.empty() : tensor<1x4x16xf32>
  %o = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%init : tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return %o : tensor<1x4x16xf32>
}

func.func @max_abs_diff(%a: tensor<1x4x16xf32>, %b: tensor<1x4x16xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %init = tensor.from_elements %zero : tensor<f32>
  %m = linalg.generic {indexing_maps = [#map3, #map3, #max],
                       iterator_types = ["reduction", "reduction", "reduction"]}
      ins(%a, %b : tensor<1x4x16xf32>, tensor<1x4x16xf32>) outs(%init : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %r = arith.maximumf %acc, %ad : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

func.func @check(%appended: index) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %cache = arith.constant 37 : index
  %p0 = arith.constant 0.3 : f32
  %p1 = arith.constant 1.1 : f32
  %p2 = arith.constant 2.9 : f32
  %qe = tensor.empty(%c4, %c1) : tensor<1x?x?x16xf32>
  %q4 = func.call @fill(%qe, %p0) : (tensor<1x?x?x16xf32>, f32) -> tensor<1x?x?x16xf32>
  %qs = tensor.cast %q4 : tensor<1x?x?x16xf32> to tensor<1x4x1x16xf32>
  %q = tensor.collapse_shape %qs [[0], [1], [2, 3]] : tensor<1x4x1x16xf32> into tensor<1x4x16xf32>
  %n = arith.addi %cache, %appended : index
  %ke = tensor.empty(%c2, %n) : tensor<1x?x?x16xf32>
  %kf = func.call @fill(%ke, %p1) : (tensor<1x?x?x16xf32>, f32) -> tensor<1x?x?x16xf32>
  %vf = func.call @fill(%ke, %p2) : (tensor<1x?x?x16xf32>, f32) -> tensor<1x?x?x16xf32>
  %k = tensor.cast %kf : tensor<1x?x?x16xf32> to tensor<1x2x?x16xf32>
  %v = tensor.cast %vf : tensor<1x?x?x16xf32> to tensor<1x2x?x16xf32>
  %kc = tensor.extract_slice %k[0, 0, 0, 0] [1, 2, %cache, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %kn = tensor.extract_slice %k[0, 0, %cache, 0] [1, 2, %appended, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %vc = tensor.extract_slice %v[0, 0, 0, 0] [1, 2, %cache, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %vn = tensor.extract_slice %v[0, 0, %cache, 0] [1, 2, %appended, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %a = func.call @split(%q, %kc, %kn, %vc, %vn) : (tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32>
  %b = func.call @whole(%q, %k, %v) : (tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x4x16xf32>
  %d = func.call @max_abs_diff(%a, %b) : (tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> f32
  %tol = arith.constant 1.0e-6 : f32
  %ok = arith.cmpf olt, %d, %tol : f32
  %count = arith.index_cast %appended : index to i64
  vector.print str "appended "
  vector.print %count : i64 punctuation <no_punctuation>
  vector.print str ": max |split - whole| < 1e-6: "
  vector.print %ok : i1
  return
}

func.func @main() {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  func.call @check(%c1) : (index) -> ()
  func.call @check(%c3) : (index) -> ()
  return
}
