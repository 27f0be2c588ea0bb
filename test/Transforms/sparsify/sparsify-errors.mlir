// RUN: magicpig-opt %s -split-input-file -verify-diagnostics --magicpig-sparsify


// The index cannot be threaded through a call.
// expected-error @+1 {{magicpig-sparsify: cannot thread the index through calls to 'callee'; sparsify entry points only}}
func.func @callee(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}
func.func @caller(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %r = func.call @callee(%q, %k, %v) : (tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @dynamic_head_dim(%q: tensor<1x4x?xf32>, %k: tensor<1x2x16x?xf32>, %v: tensor<1x2x16x?xf32>, %o: tensor<1x4x?xf32>) -> tensor<1x4x?xf32> {
  // expected-error @+1 {{magicpig-sparsify: the head dim must be static to build the SimHash projection}}
  %r = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x?xf32>, tensor<1x2x16x?xf32>, tensor<1x2x16x?xf32>) outs(%o : tensor<1x4x?xf32>) -> tensor<1x4x?xf32>
  return %r : tensor<1x4x?xf32>
}
