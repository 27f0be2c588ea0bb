// magicpig-narrow-weights: static rank-2 f32 arguments of public functions
// that are only read (linalg inputs, tensor.extract) become bf16; each
// linalg use reads its own widening generic, an extract widens the element.
// (Weights are those of at least min-weight-elements = 32 elements here: the
// [1, 8] activation stays f32.)
// With magicpig-contraction-loop-order after it, the widening folds into the
// contraction, which then reads the bf16 weight in place.
//
// RUN: magicpig-opt %s --magicpig-narrow-weights=min-weight-elements=32 | FileCheck %s
// RUN: magicpig-opt %s --magicpig-narrow-weights=min-weight-elements=32 \
// RUN:   --magicpig-contraction-loop-order | FileCheck %s --check-prefix=FOLD

// CHECK-LABEL: func.func @step(
// CHECK-SAME:    %[[EMB:[a-z0-9]+]]: tensor<16x8xbf16>
// CHECK-SAME:    %[[NORM:[a-z0-9]+]]: tensor<8xf32>
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<4x8xbf16>
// CHECK-SAME:    %[[CACHE:[a-z0-9]+]]: tensor<?x8xf32>
// CHECK-SAME:    %[[TOK:[a-z0-9]+]]: index
// CHECK-SAME:    -> tensor<1x4xf32>
// The embedding lookup reads bf16 and widens the element.
// CHECK:         %[[E:.+]] = tensor.extract %[[EMB]][%[[TOK]], %{{.+}}] : tensor<16x8xbf16>
// CHECK:         arith.extf %[[E]] : bf16 to f32
// The weight is widened by a generic of its own before the transpose.
// CHECK:         %[[WIDE:.+]] = linalg.generic {{.+}} ins(%[[W]] : tensor<4x8xbf16>) outs(%{{.+}} : tensor<4x8xf32>)
// CHECK:           arith.extf %{{.+}} : bf16 to f32
// CHECK:         linalg.transpose ins(%[[WIDE]] : tensor<4x8xf32>)

// After the loop order pass: one contraction reading A and the bf16 W.
// FOLD-LABEL: func.func @step(
// FOLD-SAME:    %[[W:[a-z0-9]+]]: tensor<4x8xbf16>
// FOLD:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}}, %[[W]] : tensor<1x8xf32>, tensor<4x8xbf16>)
// FOLD-NEXT:    ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: bf16, %[[ACC:.+]]: f32):
// FOLD-NEXT:      %[[YW:.+]] = arith.extf %[[Y]]
// FOLD-NEXT:      %[[M:.+]] = arith.mulf %[[X]], %[[YW]]
// FOLD-NEXT:      arith.addf %[[ACC]], %[[M]]
// FOLD-NOT:     linalg.transpose
// FOLD-LABEL: func.func @written(
func.func @step(%emb: tensor<16x8xf32>, %norm: tensor<8xf32>, %w: tensor<4x8xf32>,
                %cache: tensor<?x8xf32>, %tok: index) -> tensor<1x4xf32> {
  %e0 = tensor.empty() : tensor<1x8xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%norm : tensor<8xf32>) outs(%e0 : tensor<1x8xf32>) {
  ^bb0(%n: f32, %out: f32):
    %j = linalg.index 1 : index
    %v = tensor.extract %emb[%tok, %j] : tensor<16x8xf32>
    %s = arith.mulf %v, %n : f32
    linalg.yield %s : f32
  } -> tensor<1x8xf32>
  %e1 = tensor.empty() : tensor<8x4xf32>
  %t = linalg.transpose ins(%w : tensor<4x8xf32>) outs(%e1 : tensor<8x4xf32>) permutation = [1, 0]
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %t : tensor<1x8xf32>, tensor<8x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// A weight read by a linalg.generic: the widening is folded into it at
// once, which then reads the bf16 argument itself.
// CHECK-LABEL: func.func @generic_reader(
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<4x8xbf16>
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %[[W]] : tensor<1x8xf32>, tensor<4x8xbf16>)
// CHECK:           arith.extf
// CHECK-NOT:     linalg.generic
// CHECK:         return

// The same weight read twice by one generic: both widenings fold into it.
// CHECK-LABEL: func.func @read_twice(
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<4x8xbf16>
// CHECK:         linalg.generic {{.+}} ins(%[[W]], %[[W]] : tensor<4x8xbf16>, tensor<4x8xbf16>)
// CHECK-COUNT-2:   arith.extf
// CHECK-NOT:     linalg.generic
// CHECK:         return

// Left alone: a weight that is also written (an outs operand), one passed
// to a call, every argument of a private function, and a matrix below
// min-weight-elements.
// CHECK-LABEL: func.func @written(
// CHECK-SAME:    tensor<4x8xf32>
// CHECK-LABEL: func.func @passed_on(
// CHECK-SAME:    tensor<4x8xf32>
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME:    tensor<4x8xf32>
// CHECK-LABEL: func.func @small(
// CHECK-SAME:    tensor<2x8xf32>
func.func @generic_reader(%x: tensor<1x8xf32>, %w: tensor<4x8xf32>) -> tensor<1x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (j, k)>,
                                        affine_map<(i, j, k) -> (i, j)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x8xf32>, tensor<4x8xf32>) outs(%z : tensor<1x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

func.func @read_twice(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%w, %w : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

func.func @written(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %one = arith.constant 1.0 : f32
  %r = linalg.fill ins(%one : f32) outs(%w : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func @passed_on(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = func.call @helper(%w) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func private @helper(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<8x4xf32>
  %t = linalg.transpose ins(%w : tensor<4x8xf32>) outs(%e : tensor<8x4xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<4x8xf32>
  %u = linalg.transpose ins(%t : tensor<8x4xf32>) outs(%e2 : tensor<4x8xf32>) permutation = [1, 0]
  return %u : tensor<4x8xf32>
}
func.func @small(%w: tensor<2x8xf32>) -> tensor<8x2xf32> {
  %e = tensor.empty() : tensor<8x2xf32>
  %t = linalg.transpose ins(%w : tensor<2x8xf32>) outs(%e : tensor<8x2xf32>) permutation = [1, 0]
  return %t : tensor<8x2xf32>
}
