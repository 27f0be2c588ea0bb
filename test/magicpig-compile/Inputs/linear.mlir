// y = x W^T as torch-mlir exports nn.Linear (a transpose of the weight
// feeding a matmul); the weight is a static rank-2 f32 argument of 64K
// elements (magicpig-narrow-weights' default least size).
func.func @linear(%w: tensor<256x256xf32>, %x: tensor<1x256xf32>) -> tensor<1x256xf32> {
  %e = tensor.empty() : tensor<256x256xf32>
  %t = linalg.transpose ins(%w : tensor<256x256xf32>) outs(%e : tensor<256x256xf32>) permutation = [1, 0]
  %zero = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x256xf32>
  %z = linalg.fill ins(%zero : f32) outs(%o : tensor<1x256xf32>) -> tensor<1x256xf32>
  %y = linalg.matmul ins(%x, %t : tensor<1x256xf32>, tensor<256x256xf32>) outs(%z : tensor<1x256xf32>) -> tensor<1x256xf32>
  return %y : tensor<1x256xf32>
}
