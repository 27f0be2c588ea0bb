// RUN: not magicpig-opt %s -split-input-file 2>&1 | FileCheck %s
// Malformed magicpig syntax is reported with a location and a non-zero exit.

func.func @bits_not_an_integer(%x: tensor<4x8xf32>, %p: tensor<8x12xf32>, %c: tensor<4x3xi32>) {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: expected attribute value
  %r = magicpig.simhash bits(four) tables(3) ins(%x, %p : tensor<4x8xf32>, tensor<8x12xf32>) outs(%c : tensor<4x3xi32>) -> tensor<4x3xi32>
  return
}

// -----

func.func @missing_outs(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>) {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: custom op 'magicpig.attention' expected 'outs'
  %r = magicpig.attention scale(0.125) ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @unknown_op(%x: tensor<4xf32>) {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: custom op 'magicpig.softmax' is unknown
  %r = magicpig.softmax %x : tensor<4xf32>
  return
}

// -----

func.func @scale_not_float(%q: tensor<1x8x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xf16>, %o: tensor<1x8x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: custom op 'magicpig.attention' invalid kind of attribute specified
  %r = magicpig.attention scale("big") ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) outs(%o : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return
}
