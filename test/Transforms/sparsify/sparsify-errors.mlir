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

// -----

// The [d, K*L] projection is a constant: a huge head dim is declined (the
// fuzzer's head dim 2^32 ran the pass out of memory).
func.func @huge_head_dim(%q: tensor<1x4x4294967296xf32>, %k: tensor<1x2x16x4294967296xf32>, %v: tensor<1x2x16x4294967296xf32>, %o: tensor<1x4x4294967296xf32>) -> tensor<1x4x4294967296xf32> {
  // expected-error @+1 {{magicpig-sparsify: the SimHash projection [head dim 4294967296, lsh-bits * lsh-tables] = [4294967296, 10 * 150] exceeds 67108864 elements}}
  %r = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x4294967296xf32>, tensor<1x2x16x4294967296xf32>, tensor<1x2x16x4294967296xf32>) outs(%o : tensor<1x4x4294967296xf32>) -> tensor<1x4x4294967296xf32>
  return %r : tensor<1x4x4294967296xf32>
}
