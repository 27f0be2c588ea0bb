// RUN: magicpig-opt %s --magicpig-sparsify="lsh-bits=3 lsh-tables=2 dense-layers=1" | FileCheck %s --check-prefix=EXPLICIT
// RUN: magicpig-opt %s --magicpig-sparsify="dense-layers=-1" | FileCheck %s --check-prefix=NONE

// `dense-layers` counts attention ops in program order unless the op carries
// a `magicpig.layer` attribute; the index is threaded in layer order.

// EXPLICIT-LABEL: func.func @layers_by_attribute
//  EXPLICIT-SAME: tensor<1x2x2x9xi32> {magicpig.layer = 0 : i64}, %{{[a-z0-9]+}}: tensor<1x2x2x?xi32> {magicpig.layer = 0 : i64}, %{{[a-z0-9]+}}: tensor<1x2x?xf32> {magicpig.layer = 0 : i64}, %{{[a-z0-9]+}}: tensor<1x2x8xf32> {magicpig.layer = 0 : i64}) -> tensor<1x4x8xf32>
//       EXPLICIT: %[[DENSE:.+]] = magicpig.attention scale(2.500000e-01) {{.*}} {magicpig.layer = 1 : i64}
//       EXPLICIT: magicpig.estimate bits(3) tables(2) min_collisions(2) scale(5.000000e-01)
//   EXPLICIT-NOT: magicpig.attention
// NONE-LABEL: func.func @layers_by_attribute
//   NONE-NOT: magicpig.attention
// Layer 1 comes first in program order but its index is the second group of
// arguments (%arg7..%arg10); layer 0's is the first (%arg3..%arg6).
//       NONE: magicpig.estimate {{.*}}scale(2.500000e-01) ins({{[^:]*}}, %arg9, %arg10,
//       NONE: magicpig.estimate {{.*}}scale(5.000000e-01) ins({{[^:]*}}, %arg5, %arg6,
func.func @layers_by_attribute(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r0 = magicpig.attention scale(0.25) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) {magicpig.layer = 1} -> tensor<1x4x8xf32>
  %r1 = magicpig.attention scale(0.5) ins(%r0, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) {magicpig.layer = 0} -> tensor<1x4x8xf32>
  return %r1 : tensor<1x4x8xf32>
}

