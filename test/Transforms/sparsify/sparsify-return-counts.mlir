// With return-counts, each decode function also returns the retrieve count
// of every sparse layer, in layer order, after its other results; without
// it the signature gains only the index arguments. Prefill functions are
// unchanged by the option.
// RUN: magicpig-opt %s --magicpig-sparsify="return-counts=1 dense-layers=-1" | FileCheck %s
// RUN: magicpig-opt %s --magicpig-sparsify="dense-layers=-1" | FileCheck %s --check-prefix=NOCOUNT
// RUN: magicpig-opt %s --magicpig-sparsify="return-counts=1 dense-layers=1" | FileCheck %s --check-prefix=ONE

// CHECK-LABEL: func.func @decode
// CHECK-SAME: -> (tensor<1x4x8xf32>, tensor<1x4xi32>, tensor<1x4xi32>)
// CHECK: %[[C0:.+]]:2 = magicpig.retrieve
// CHECK: %[[C1:.+]]:2 = magicpig.retrieve
// CHECK: return %{{.+}}, %[[C0]]#1, %[[C1]]#1 : tensor<1x4x8xf32>, tensor<1x4xi32>, tensor<1x4xi32>

// NOCOUNT-LABEL: func.func @decode
// NOCOUNT-SAME: -> tensor<1x4x8xf32>
// NOCOUNT: return %{{.+}} : tensor<1x4x8xf32>

// ONE-LABEL: func.func @decode
// ONE-SAME: -> (tensor<1x4x8xf32>, tensor<1x4xi32>)

func.func @decode(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r0 = magicpig.attention scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %r1 = magicpig.attention scale(0.35) ins(%r0, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r1 : tensor<1x4x8xf32>
}
