// RUN: magicpig-opt %s --magicpig-parallel-contractions --split-input-file | FileCheck %s
// RUN: magicpig-opt %s --magicpig-parallel-contractions="chunks=4 min-weight-elements=1000" --split-input-file \
// RUN: | FileCheck %s --check-prefix=SMALL
// chunks=0 divided by zero (a fuzzer finding); it is rejected.
// RUN: not magicpig-opt %s --magicpig-parallel-contractions=chunks=0 --split-input-file 2>&1 \
// RUN: | FileCheck %s --check-prefix=CHUNKS
// CHUNKS: error: magicpig-parallel-contractions: option 'chunks' must be >= 1, got 0

#a = affine_map<(i, n, k) -> (i, k)>
#w = affine_map<(i, n, k) -> (n, k)>
#o = affine_map<(i, n, k) -> (i, n)>

// A decode matmul with a 1536 x 576 weight: 16 tiles of 96 output
// features, each the same generic on 96 rows of the weight.
// CHECK-LABEL: func.func @gemv(
// CHECK-SAME:    %[[X:.+]]: tensor<1x576xf32>, %[[W:.+]]: tensor<1536x576xf32>)
// CHECK:         %[[FILL:.+]] = linalg.fill
// CHECK:         %[[R:.+]] = scf.forall (%[[N:.+]]) = (0) to (1536) step (96) shared_outs(%[[OUT:.+]] = %[[FILL]])
// CHECK:           %[[WS:.+]] = tensor.extract_slice %[[W]][%[[N]], 0] [96, 576] [1, 1]
// CHECK:           %[[OS:.+]] = tensor.extract_slice %[[OUT]][0, %[[N]]] [1, 96] [1, 1]
// CHECK:           %[[T:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}}, %[[WS]] : tensor<1x576xf32>, tensor<96x576xf32>) outs(%[[OS]] : tensor<1x96xf32>)
// CHECK:           tensor.parallel_insert_slice %[[T]] into %[[OUT]][0, %[[N]]] [1, 96] [1, 1]
// CHECK:         return %[[R]]
// SMALL-LABEL: func.func @gemv(
// SMALL:         scf.forall (%{{.+}}) = (0) to (1536) step (384)
func.func @gemv(%x: tensor<1x576xf32>, %w: tensor<1536x576xf32>) -> tensor<1x1536xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1536xf32>
  %init = linalg.fill ins(%z : f32) outs(%e : tensor<1x1536xf32>) -> tensor<1x1536xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x576xf32>, tensor<1536x576xf32>) outs(%init : tensor<1x1536xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1536xf32>
  return %r : tensor<1x1536xf32>
}

// -----

// A prefill matmul (dynamic token count): tiled along the static output
// features, not the tokens.
// CHECK-LABEL: func.func @prefill(
// CHECK:         scf.forall (%{{.+}}) = (0) to (576) step (36)
// CHECK:           linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<?x1536xf32>, tensor<1536x36xf32>) outs(%{{.+}} : tensor<?x36xf32>)
func.func @prefill(%x: tensor<?x1536xf32>, %w: tensor<1536x576xf32>, %init: tensor<?x576xf32>) -> tensor<?x576xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<?x1536xf32>, tensor<1536x576xf32>) outs(%init : tensor<?x576xf32>) -> tensor<?x576xf32>
  return %r : tensor<?x576xf32>
}

// -----

// Left alone: a contraction with a small weight (64 x 64 < 65536
// elements), an elementwise op, a contraction with no static parallel loop.
// CHECK-LABEL: func.func @declined(
// CHECK-NOT:     = scf.forall
// SMALL-LABEL: func.func @declined(
// SMALL:         scf.forall (%{{.+}}) = (0) to (64) step (16)
// SMALL-NOT:     = scf.forall
func.func @declined(%x: tensor<1x64xf32>, %w: tensor<64x64xf32>, %init: tensor<1x64xf32>,
                    %big: tensor<1024x1024xf32>, %dx: tensor<?x?xf32>, %dinit: tensor<?x?xf32>)
    -> (tensor<1x64xf32>, tensor<1024x1024xf32>, tensor<?x?xf32>) {
  %a = linalg.matmul ins(%x, %w : tensor<1x64xf32>, tensor<64x64xf32>) outs(%init : tensor<1x64xf32>) -> tensor<1x64xf32>
  %b = linalg.add ins(%big, %big : tensor<1024x1024xf32>, tensor<1024x1024xf32>) outs(%big : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %c = linalg.matmul ins(%dx, %dx : tensor<?x?xf32>, tensor<?x?xf32>) outs(%dinit : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %a, %b, %c : tensor<1x64xf32>, tensor<1024x1024xf32>, tensor<?x?xf32>
}

// -----

// No rows (a static 0): nothing to split; the contraction stays whole
// (tiling it crashed in the upstream tile-size computation).
#a0 = affine_map<(i, n, k) -> (i, k)>
#w0 = affine_map<(i, n, k) -> (n, k)>
#o0 = affine_map<(i, n, k) -> (i, n)>
// CHECK-LABEL: func.func @no_rows(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.generic
func.func @no_rows(%x: tensor<0x576xf32>, %w: tensor<1536x576xf32>, %init: tensor<0x1536xf32>) -> tensor<0x1536xf32> {
  %r = linalg.generic {indexing_maps = [#a0, #w0, #o0], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<0x576xf32>, tensor<1536x576xf32>) outs(%init : tensor<0x1536xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<0x1536xf32>
  return %r : tensor<0x1536xf32>
}
