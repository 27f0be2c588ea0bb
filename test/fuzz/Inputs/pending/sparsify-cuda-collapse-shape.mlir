// Unattributed (found by the long run, seed 2): --magicpig-sparsify then the
// CUDA pipeline segfault in upstream One-Shot Bufferize, in
// computeCollapsedLayoutMap (memref::CollapseShapeOp::isGuaranteedCollapsible
// from tensor.collapse_shape's bufferization). The IR it bufferizes holds
// magicpig ops, so upstream mlir-opt cannot rerun it: likely upstream, not
// confirmed.
//   magicpig-opt --magicpig-sparsify '--magicpig-cuda-pipeline=chip=sm_90 format=isa' sparsify-cuda-collapse-shape.mlir
func.func @decode(%q: tensor<1x4x16xf32>, %kc: tensor<2x1x2x?x16xf32>,
                  %vc: tensor<2x1x2x?x16xf32>) -> tensor<1x4x16xf32> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %kc, %c3 : tensor<2x1x2x?x16xf32>
  %ks = tensor.extract_slice %kc[1, 0, 0, 0, 0] [1, 1, 2, %n, 16] [1, 1, 1, 1, 1] : tensor<2x1x2x?x16xf32> to tensor<1x1x2x?x16xf32>
  %k = tensor.collapse_shape %ks [[4294967296, 1], [2], [3], [4]] : tensor<1x1x2x?x16xf32> into tensor<1x2x?x16xf32>
  %vs = tensor.extract_slice %vc[1, 0, 0, 0, 0] [1, 1, 2, %n, 16] [1, 1, 1, 1, 1] : tensor<2x1x2x?x16xf32> to tensor<1x1x2x?x16xf32>
  %v = tensor.collapse_shape %vs [[0, 1], [2], [3], [4]] : tensor<1x1x2x?x16xf32> into tensor<1x2x?x16xf32>
  %o = tensor.empty() : tensor<1x4x16xf32>
  %l = tensor.empty() : tensor<1x4xf32>
  %r:2 = magicpig.window_attention sink(0) window_start(%c0) scale(0.25) ins(%q, %k, %v : tensor<1x4x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%o, %l : tensor<1x4x16xf32>, tensor<1x4xf32>) -> tensor<1x4x16xf32>, tensor<1x4xf32>
  return %r#0 : tensor<1x4x16xf32>
}
