// Many-row weight contractions C[0, i, j] += sum_k A[0, i, k] * W[j, k]
// (a prefill's projections) lowered by --magicpig-lower-row-contractions
// (in the CPU pipeline) to parallel, register-blocked vector loops, against
// the same contraction without `reassoc` flags, which the pass leaves to
// plain scalar loops. Each row count runs twice: with W in f32, and with W
// in bf16 widened in the body (a --magicpig-narrow-weights weight, loaded as
// bf16 vectors and extended), against the loops over the same bf16 values
// widened beforehand. Row counts 1, 3, 4, 5, 67 and 130 cover whole 4-row
// register blocks, the 1-row tail, several 64-row tasks and a partial one;
// N = 132 leaves a partial 64-row block of W. K = 48 terms of magnitude
// <= 1: the two summation orders differ by a few f32 ulps of the sums of
// |terms| (<= 48), so 2e-5 (measured 9e-7; outputs up to about 0.5).
//
// RUN: magicpig-opt %s --magicpig-cpu-pipeline \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s
// RUN: magicpig-opt %s --magicpig-cpu-pipeline="vector-width=8" \
// RUN: | magicpig-run -e main -entry-point-result=void -O3 -mcpu=haswell | FileCheck %s
// RUN: magicpig-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --magicpig-lower-row-contractions | FileCheck %s --check-prefix=LOWERED

// LOWERED-LABEL: func.func @blocked(
// LOWERED-NOT:   linalg.generic
// LOWERED:       call @__magicpig_row_contraction_b1_n132_k48(
// LOWERED-LABEL: func.func @blocked_bf16(
// LOWERED-NOT:   linalg.generic
// LOWERED:       call @__magicpig_row_contraction_b1_n132_k48_bf16(
// LOWERED-LABEL: func.func @loops(
// LOWERED:       linalg.generic
// LOWERED-LABEL: func.func private @__magicpig_row_contraction_b1_n132_k48(
// LOWERED:       scf.parallel
// LOWERED:       vector.fma
// LOWERED-LABEL: func.func private @__magicpig_row_contraction_b1_n132_k48_bf16(
// LOWERED:       %[[WB:.+]] = vector.load %{{.+}} : memref<132x48xbf16, strided<[?, 1], offset: ?>>, vector<16xbf16>
// LOWERED:       arith.extf %[[WB]] : vector<16xbf16> to vector<16xf32>
// LOWERED:       vector.fma

// CHECK: rows 1: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 3: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 4: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 5: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 67: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 130: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 1 bf16 W: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 67 bf16 W: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1
// CHECK: rows 130 bf16 W: max |blocked - loops| < 2e-5: 1, max |loops| > 0.1: 1

#a = affine_map<(b, i, j, k) -> (b, i, k)>
#w = affine_map<(b, i, j, k) -> (j, k)>
#c = affine_map<(b, i, j, k) -> (b, i, j)>
#id3 = affine_map<(i, j, k) -> (i, j, k)>
#id2 = affine_map<(i, j) -> (i, j)>
#max = affine_map<(i, j, k) -> ()>

func.func @to_f32(%i: index) -> f32 {
  %n = arith.index_cast %i : index to i64
  %f = arith.sitofp %n : i64 to f32
  return %f : f32
}

// a[0, i, k] = sin(0.37 i + 1.3 k + 0.2)
func.func @fill_a(%t: tensor<1x?x48xf32>) -> tensor<1x?x48xf32> {
  %r = linalg.generic {indexing_maps = [#id3], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%t : tensor<1x?x48xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 1 : index
    %k = linalg.index 2 : index
    %fi = func.call @to_f32(%i) : (index) -> f32
    %fk = func.call @to_f32(%k) : (index) -> f32
    %ci = arith.constant 0.37 : f32
    %ck = arith.constant 1.3 : f32
    %c0 = arith.constant 0.2 : f32
    %x0 = math.fma %fi, %ci, %c0 : f32
    %x1 = math.fma %fk, %ck, %x0 : f32
    %s = math.sin %x1 : f32
    linalg.yield %s : f32
  } -> tensor<1x?x48xf32>
  return %r : tensor<1x?x48xf32>
}

// w[j, k] = cos(0.71 j + 0.53 k)
func.func @fill_w() -> tensor<132x48xf32> {
  %t = tensor.empty() : tensor<132x48xf32>
  %r = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%t : tensor<132x48xf32>) {
  ^bb0(%out: f32):
    %j = linalg.index 0 : index
    %k = linalg.index 1 : index
    %fj = func.call @to_f32(%j) : (index) -> f32
    %fk = func.call @to_f32(%k) : (index) -> f32
    %cj = arith.constant 0.71 : f32
    %ck = arith.constant 0.53 : f32
    %x0 = arith.mulf %fj, %cj : f32
    %x1 = math.fma %fk, %ck, %x0 : f32
    %s = math.cos %x1 : f32
    linalg.yield %s : f32
  } -> tensor<132x48xf32>
  return %r : tensor<132x48xf32>
}

func.func @blocked(%a: tensor<1x?x48xf32>, %w: tensor<132x48xf32>) -> tensor<1x?x132xf32> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c1 : tensor<1x?x48xf32>
  %e = tensor.empty(%m) : tensor<1x?x132xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x?x132xf32>) -> tensor<1x?x132xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #c],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x?x48xf32>, tensor<132x48xf32>) outs(%z : tensor<1x?x132xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  } -> tensor<1x?x132xf32>
  return %r : tensor<1x?x132xf32>
}

func.func @blocked_bf16(%a: tensor<1x?x48xf32>, %w: tensor<132x48xbf16>) -> tensor<1x?x132xf32> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c1 : tensor<1x?x48xf32>
  %e = tensor.empty(%m) : tensor<1x?x132xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x?x132xf32>) -> tensor<1x?x132xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #c],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x?x48xf32>, tensor<132x48xbf16>) outs(%z : tensor<1x?x132xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %yw = arith.extf %y : bf16 to f32
    %p = arith.mulf %x, %yw fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  } -> tensor<1x?x132xf32>
  return %r : tensor<1x?x132xf32>
}

func.func @loops(%a: tensor<1x?x48xf32>, %w: tensor<132x48xf32>) -> tensor<1x?x132xf32> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c1 : tensor<1x?x48xf32>
  %e = tensor.empty(%m) : tensor<1x?x132xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x?x132xf32>) -> tensor<1x?x132xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #c],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x?x48xf32>, tensor<132x48xf32>) outs(%z : tensor<1x?x132xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x?x132xf32>
  return %r : tensor<1x?x132xf32>
}

// (max |x - y|, max |y|)
func.func @compare(%x: tensor<1x?x132xf32>, %y: tensor<1x?x132xf32>) -> (f32, f32) {
  %zero = arith.constant 0.0 : f32
  %i0 = tensor.from_elements %zero : tensor<f32>
  %r:2 = linalg.generic {indexing_maps = [#id3, #id3, #max, #max],
                         iterator_types = ["reduction", "reduction", "reduction"]}
      ins(%x, %y : tensor<1x?x132xf32>, tensor<1x?x132xf32>) outs(%i0, %i0 : tensor<f32>, tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %d: f32, %m: f32):
    %diff = arith.subf %a, %b : f32
    %ad = math.absf %diff : f32
    %ab = math.absf %b : f32
    %nd = arith.maximumf %d, %ad : f32
    %nm = arith.maximumf %m, %ab : f32
    linalg.yield %nd, %nm : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %d = tensor.extract %r#0[] : tensor<f32>
  %m = tensor.extract %r#1[] : tensor<f32>
  return %d, %m : f32, f32
}

func.func @report(%rows: index, %x: tensor<1x?x132xf32>, %y: tensor<1x?x132xf32>, %label: i1) {
  %d, %m = func.call @compare(%x, %y) : (tensor<1x?x132xf32>, tensor<1x?x132xf32>) -> (f32, f32)
  %tol = arith.constant 2.0e-5 : f32
  %one = arith.constant 0.1 : f32
  %ok = arith.cmpf olt, %d, %tol : f32
  %big = arith.cmpf ogt, %m, %one : f32
  %n = arith.index_cast %rows : index to i64
  vector.print str "rows "
  vector.print %n : i64 punctuation <no_punctuation>
  scf.if %label {
    vector.print str " bf16 W"
  }
  vector.print str ": max |blocked - loops| < 2e-5: "
  vector.print %ok : i1 punctuation <no_punctuation>
  vector.print str ", max |loops| > 0.1: "
  vector.print %big : i1
  return
}

func.func @check(%rows: index, %bf16: i1) {
  %e = tensor.empty(%rows) : tensor<1x?x48xf32>
  %a = func.call @fill_a(%e) : (tensor<1x?x48xf32>) -> tensor<1x?x48xf32>
  %w = func.call @fill_w() : () -> tensor<132x48xf32>
  scf.if %bf16 {
    %eb = tensor.empty() : tensor<132x48xbf16>
    %wb = linalg.map { arith.truncf } ins(%w : tensor<132x48xf32>) outs(%eb : tensor<132x48xbf16>)
    %ew = tensor.empty() : tensor<132x48xf32>
    %wx = linalg.map { arith.extf } ins(%wb : tensor<132x48xbf16>) outs(%ew : tensor<132x48xf32>)
    %x = func.call @blocked_bf16(%a, %wb) : (tensor<1x?x48xf32>, tensor<132x48xbf16>) -> tensor<1x?x132xf32>
    %y = func.call @loops(%a, %wx) : (tensor<1x?x48xf32>, tensor<132x48xf32>) -> tensor<1x?x132xf32>
    func.call @report(%rows, %x, %y, %bf16) : (index, tensor<1x?x132xf32>, tensor<1x?x132xf32>, i1) -> ()
  } else {
    %x = func.call @blocked(%a, %w) : (tensor<1x?x48xf32>, tensor<132x48xf32>) -> tensor<1x?x132xf32>
    %y = func.call @loops(%a, %w) : (tensor<1x?x48xf32>, tensor<132x48xf32>) -> tensor<1x?x132xf32>
    func.call @report(%rows, %x, %y, %bf16) : (index, tensor<1x?x132xf32>, tensor<1x?x132xf32>, i1) -> ()
  }
  return
}

func.func @main() {
  %r1 = arith.constant 1 : index
  %r3 = arith.constant 3 : index
  %r4 = arith.constant 4 : index
  %r5 = arith.constant 5 : index
  %r67 = arith.constant 67 : index
  %r130 = arith.constant 130 : index
  %f = arith.constant false
  %t = arith.constant true
  func.call @check(%r1, %f) : (index, i1) -> ()
  func.call @check(%r3, %f) : (index, i1) -> ()
  func.call @check(%r4, %f) : (index, i1) -> ()
  func.call @check(%r5, %f) : (index, i1) -> ()
  func.call @check(%r67, %f) : (index, i1) -> ()
  func.call @check(%r130, %f) : (index, i1) -> ()
  func.call @check(%r1, %t) : (index, i1) -> ()
  func.call @check(%r67, %t) : (index, i1) -> ()
  func.call @check(%r130, %t) : (index, i1) -> ()
  return
}
