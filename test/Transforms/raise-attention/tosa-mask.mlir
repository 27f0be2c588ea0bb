// TOSA prefill with a constant mask (tosa.const, broadcast over batch and
// heads, added with the mask as the first operand) and GQA by reshape +
// tile, written by hand after torch-mlir's TOSA export: the exact causal
// mask raises, a shifted one is declined.

// RUN: magicpig-opt %s -split-input-file -verify-diagnostics --magicpig-raise-attention | FileCheck %s

// CHECK-LABEL: func.func @tosa_causal(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x8x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x8x8xf32>)
//   CHECK-NOT:   tosa.
//       CHECK:   %[[INIT:.+]] = tensor.empty() : tensor<1x4x4x8xf32>
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(5.000000e-01) causal ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x4x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) outs(%[[INIT]] : tensor<1x4x4x8xf32>)
//  CHECK-NEXT:   return %[[OUT]]
func.func @tosa_causal(%q: tensor<1x4x4x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x4x4x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %scale = "tosa.const"() <{values = dense<0.5> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %mask = "tosa.const"() <{values = dense<[[[[0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x4x8xf32>}> : () -> tensor<1x1x4x8xf32>
  %s5 = tosa.const_shape {values = dense<[1, 2, 1, 8, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %rep = tosa.const_shape {values = dense<[1, 1, 2, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %s4 = tosa.const_shape {values = dense<[1, 4, 8, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %q3s = tosa.const_shape {values = dense<[4, 4, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %k3s = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s4s = tosa.const_shape {values = dense<[1, 4, 4, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %k5 = tosa.reshape %k, %s5 : (tensor<1x2x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x1x8x8xf32>
  %kt5 = tosa.tile %k5, %rep : (tensor<1x2x1x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x2x8x8xf32>
  %k4 = tosa.reshape %kt5, %s4 : (tensor<1x2x2x8x8xf32>, !tosa.shape<4>) -> tensor<1x4x8x8xf32>
  %v5 = tosa.reshape %v, %s5 : (tensor<1x2x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x1x8x8xf32>
  %vt5 = tosa.tile %v5, %rep : (tensor<1x2x1x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x2x8x8xf32>
  %kt = tosa.transpose %k4 {perms = array<i32: 0, 1, 3, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %q3 = tosa.reshape %q, %q3s : (tensor<1x4x4x8xf32>, !tosa.shape<3>) -> tensor<4x4x8xf32>
  %kt3 = tosa.reshape %kt, %k3s : (tensor<1x4x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %s3 = tosa.matmul %q3, %kt3, %zp, %zp : (tensor<4x4x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x4x8xf32>
  %s = tosa.reshape %s3, %s4s : (tensor<4x4x8xf32>, !tosa.shape<4>) -> tensor<1x4x4x8xf32>
  %scaled = tosa.mul %s, %scale, %shift : (tensor<1x4x4x8xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x4x4x8xf32>
  %masked = tosa.add %mask, %scaled : (tensor<1x1x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %max = tosa.reduce_max %masked {axis = 3 : i32} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x1xf32>
  %sub = tosa.sub %masked, %max : (tensor<1x4x4x8xf32>, tensor<1x4x4x1xf32>) -> tensor<1x4x4x8xf32>
  %e = tosa.exp %sub : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %sum = tosa.reduce_sum %e {axis = 3 : i32} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32>
  %p = tosa.mul %e, %inv, %shift : (tensor<1x4x4x8xf32>, tensor<1x4x4x1xf32>, tensor<1xi8>) -> tensor<1x4x4x8xf32>
  %p3 = tosa.reshape %p, %q3s : (tensor<1x4x4x8xf32>, !tosa.shape<3>) -> tensor<4x4x8xf32>
  %v3 = tosa.reshape %vt5, %k3s : (tensor<1x2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %o3 = tosa.matmul %p3, %v3, %zp, %zp : (tensor<4x4x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x4x8xf32>
  %o = tosa.reshape %o3, %s4s : (tensor<4x4x8xf32>, !tosa.shape<4>) -> tensor<1x4x4x8xf32>
  return %o : tensor<1x4x4x8xf32>
}

// -----

// The mask lets query s see one key too many.
// CHECK-LABEL: func.func @tosa_mask_shifted(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   tosa.exp
func.func @tosa_mask_shifted(%q: tensor<1x4x4x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x4x4x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %scale = "tosa.const"() <{values = dense<0.5> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %mask = "tosa.const"() <{values = dense<[[[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x4x8xf32>}> : () -> tensor<1x1x4x8xf32>
  %s5 = tosa.const_shape {values = dense<[1, 2, 1, 8, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %rep = tosa.const_shape {values = dense<[1, 1, 2, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %s4 = tosa.const_shape {values = dense<[1, 4, 8, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %q3s = tosa.const_shape {values = dense<[4, 4, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %k3s = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s4s = tosa.const_shape {values = dense<[1, 4, 4, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %k5 = tosa.reshape %k, %s5 : (tensor<1x2x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x1x8x8xf32>
  %kt5 = tosa.tile %k5, %rep : (tensor<1x2x1x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x2x8x8xf32>
  %k4 = tosa.reshape %kt5, %s4 : (tensor<1x2x2x8x8xf32>, !tosa.shape<4>) -> tensor<1x4x8x8xf32>
  %v5 = tosa.reshape %v, %s5 : (tensor<1x2x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x1x8x8xf32>
  %vt5 = tosa.tile %v5, %rep : (tensor<1x2x1x8x8xf32>, !tosa.shape<5>) -> tensor<1x2x2x8x8xf32>
  %kt = tosa.transpose %k4 {perms = array<i32: 0, 1, 3, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %q3 = tosa.reshape %q, %q3s : (tensor<1x4x4x8xf32>, !tosa.shape<3>) -> tensor<4x4x8xf32>
  %kt3 = tosa.reshape %kt, %k3s : (tensor<1x4x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %s3 = tosa.matmul %q3, %kt3, %zp, %zp : (tensor<4x4x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x4x8xf32>
  %s = tosa.reshape %s3, %s4s : (tensor<4x4x8xf32>, !tosa.shape<4>) -> tensor<1x4x4x8xf32>
  %scaled = tosa.mul %s, %scale, %shift : (tensor<1x4x4x8xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x4x4x8xf32>
  %masked = tosa.add %mask, %scaled : (tensor<1x1x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %max = tosa.reduce_max %masked {axis = 3 : i32} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x1xf32>
  %sub = tosa.sub %masked, %max : (tensor<1x4x4x8xf32>, tensor<1x4x4x1xf32>) -> tensor<1x4x4x8xf32>
  %e = tosa.exp %sub : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %sum = tosa.reduce_sum %e {axis = 3 : i32} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32>
  %p = tosa.mul %e, %inv, %shift : (tensor<1x4x4x8xf32>, tensor<1x4x4x1xf32>, tensor<1xi8>) -> tensor<1x4x4x8xf32>
  %p3 = tosa.reshape %p, %q3s : (tensor<1x4x4x8xf32>, !tosa.shape<3>) -> tensor<4x4x8xf32>
  %v3 = tosa.reshape %vt5, %k3s : (tensor<1x2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{declined: the additive mask is not the causal mask}}
  %o3 = tosa.matmul %p3, %v3, %zp, %zp : (tensor<4x4x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x4x8xf32>
  %o = tosa.reshape %o3, %s4s : (tensor<4x4x8xf32>, !tosa.shape<4>) -> tensor<1x4x4x8xf32>
  return %o : tensor<1x4x4x8xf32>
}
