// magicpig-compile checks, after sparsify, that prefill returns the MagicPIG
// index decode takes (docs/CompiledGraphABI.md): the same layers, buffers of
// the same types. Otherwise a caller passing one to the other would crash.
// RUN: split-file %s %t
// RUN: not magicpig-compile %t/missing-layer.mlir --dense-layers=-1 --emit=mlir -o %t.out --quiet 2>&1 | FileCheck %s --check-prefix=LAYER
// RUN: not magicpig-compile %t/heads.mlir --dense-layers=-1 --emit=mlir -o %t.out --quiet 2>&1 | FileCheck %s --check-prefix=TYPES

// LAYER: missing-layer.mlir:10:{{[0-9]+}}: error: magicpig-compile: 'decode' takes the MagicPIG index of layer 1, which 'prefill' does not return (its attention there was not raised, or is dense)
// TYPES: heads.mlir:9:{{[0-9]+}}: error: magicpig-compile: layer 0: 'decode' takes the index buffer 'offsets' as 'tensor<1x1x150x1025xi32>', but 'prefill' returns 'tensor<1x2x150x1025xi32>'

//--- missing-layer.mlir
// Layer 1 of prefill was not raised (here: is not attention at all).
func.func @prefill(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = tensor.empty() : tensor<1x4x16x8xf32>
  %r = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x16x8xf32>) {magicpig.layer = 0} -> tensor<1x4x16x8xf32>
  return %r : tensor<1x4x16x8xf32>
}
func.func @decode(%q: tensor<1x4x8xf32>, %k: tensor<1x2x17x8xf32>, %v: tensor<1x2x17x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r0 = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x17x8xf32>, tensor<1x2x17x8xf32>) outs(%o : tensor<1x4x8xf32>) {magicpig.layer = 0} -> tensor<1x4x8xf32>
  %r1 = magicpig.attention scale(0.25) ins(%r0, %k, %v : tensor<1x4x8xf32>, tensor<1x2x17x8xf32>, tensor<1x2x17x8xf32>) outs(%o : tensor<1x4x8xf32>) {magicpig.layer = 1} -> tensor<1x4x8xf32>
  return %r1 : tensor<1x4x8xf32>
}

//--- heads.mlir
// Decode reads a cache with one kv head, prefill builds the index of two.
func.func @prefill(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %o = tensor.empty() : tensor<1x4x16x8xf32>
  %r = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %r : tensor<1x4x16x8xf32>
}
func.func @decode(%q: tensor<1x4x8xf32>, %k: tensor<1x1x17x8xf32>, %v: tensor<1x1x17x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x1x17x8xf32>, tensor<1x1x17x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}
