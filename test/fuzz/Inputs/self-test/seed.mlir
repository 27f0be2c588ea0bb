// The corpus of the fuzzer's self-test (fake-opt.py).
// RUN: magicpig-opt %s --magicpig-fake
func.func @f(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = arith.constant 16 : i32
  %d = arith.constant 3 : index
  return %a : tensor<4x8xf32>
}
