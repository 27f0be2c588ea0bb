// Forms of attention in transformers' modeling code as exported by
// magicpig.hf_export (torch.export + torch-mlir, dynamic lengths), reduced
// by hand to the attention chain. The second RUN line turns the named ops
// into generics first and must raise the same.

// RUN: magicpig-opt %s -split-input-file --magicpig-raise-attention 2>/dev/null | FileCheck %s
// RUN: magicpig-opt %s -split-input-file --linalg-generalize-named-ops --magicpig-raise-attention 2>/dev/null | FileCheck %s
// RUN: magicpig-opt %s -split-input-file --magicpig-raise-attention -mlir-print-op-on-diagnostic=false -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK --implicit-check-not=remark:

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>

// GPT-2 splits the key projection into heads and transposes it for Q.K^T
// (`view`, `transpose(1, 2)`, `transpose(-1, -2)`), which the exporter fuses
// into one transpose [0, 2, 3, 1] of the [B, N, H, d] projection: the
// attention reads that projection transposed [0, 2, 1, 3].
// CHECK-LABEL: func.func @gpt2_keys_tokens_first(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x16xf32>, %[[X:[a-z0-9]+]]: tensor<1x?x4x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x?x16xf32>)
//       CHECK:   %[[C1:.+]] = arith.constant 1 : index
//       CHECK:   %[[N:.+]] = tensor.dim %[[X]], %[[C1]]
//       CHECK:   %[[E:.+]] = tensor.empty(%[[N]]) : tensor<1x4x?x16xf32>
//       CHECK:   %[[K:.+]] = linalg.{{transpose|generic}}
//  CHECK-SAME:     %[[X]]
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(2.500000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   return
func.func @gpt2_keys_tokens_first(%q: tensor<1x4x1x16xf32>, %x: tensor<1x?x4x16xf32>, %v: tensor<1x4x?x16xf32>) -> tensor<1x4x1x16xf32> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.000000e+00 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant 2.500000e-01 : f32
  %n = tensor.dim %x, %c1 : tensor<1x?x4x16xf32>
  %e0 = tensor.empty(%n) : tensor<1x4x16x?xf32>
  %kt = linalg.transpose ins(%x : tensor<1x?x4x16xf32>) outs(%e0 : tensor<1x4x16x?xf32>) permutation = [0, 2, 3, 1]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x16x?xf32> into tensor<4x16x?xf32>
  %e1 = tensor.empty(%n) : tensor<4x1x?xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x16xf32>, tensor<4x16x?xf32>) outs(%f1 : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, %n] : tensor<4x1x?xf32> into tensor<1x4x1x?xf32>
  %e2 = tensor.empty(%n) : tensor<1x4x1x?xf32>
  %ss = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x1x?xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x?xf32>
  %e3 = tensor.empty() : tensor<1x4x1x1xf32>
  %fmax = linalg.fill ins(%ninf : f32) outs(%e3 : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ss : tensor<1x4x1x?xf32>) outs(%fmax : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x1xf32>
  %ex = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ss, %max : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<1x4x1x?xf32>
  %fsum = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<1x4x1x?xf32>) outs(%fsum : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<1x4x1x1xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %sum : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %sm: f32, %out: f32):
    %d = arith.divf %in, %sm : f32
    linalg.yield %d : f32
  } -> tensor<1x4x1x?xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<1x4x1x?xf32> into tensor<4x1x?xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x?x16xf32> into tensor<4x?x16xf32>
  %e4 = tensor.empty() : tensor<4x1x16xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x?xf32>, tensor<4x?x16xf32>) outs(%f4 : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>

// SDPA's all -inf row guard selects zeros that torch-mlir broadcasts from a
// rank-0 constant (a generic, not a fill) with dynamic key length: the guard
// never fires on unmasked scores and is dropped.
// CHECK-LABEL: func.func @sdpa_guard_broadcast_zeros(
//  CHECK-SAME:     %[[Q:[a-z0-9]+]]: tensor<1x4x1x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x4x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x?x16xf32>)
//       CHECK:   %[[OUT:.+]] = magicpig.attention scale(2.500000e-01) ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x1x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>)
//   CHECK-NOT:   linalg.
//       CHECK:   return
func.func @sdpa_guard_broadcast_zeros(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x?x16xf32>, %v: tensor<1x4x?x16xf32>) -> tensor<1x4x1x16xf32> {
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %ninf64 = arith.constant 0xFFF0000000000000 : f64
  %true = arith.constant true
  %scale = arith.constant 2.500000e-01 : f32
  %zeros0 = arith.constant dense<0.000000e+00> : tensor<f32>
  %n = tensor.dim %k, %c2 : tensor<1x4x?x16xf32>
  %e0 = tensor.empty(%n) : tensor<1x4x16x?xf32>
  %kt = linalg.transpose ins(%k : tensor<1x4x?x16xf32>) outs(%e0 : tensor<1x4x16x?xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %kt3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x4x16x?xf32> into tensor<4x16x?xf32>
  %e1 = tensor.empty(%n) : tensor<4x1x?xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s3 = linalg.batch_matmul ins(%q3, %kt3 : tensor<4x1x16xf32>, tensor<4x16x?xf32>) outs(%f1 : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 4, 1, %n] : tensor<4x1x?xf32> into tensor<1x4x1x?xf32>
  %e2 = tensor.empty(%n) : tensor<1x4x1x?xf32>
  %ss = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x1x?xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x?xf32>
  %e3 = tensor.empty() : tensor<1x4x1x1xf32>
  %fmax = linalg.fill ins(%ninf : f32) outs(%e3 : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ss : tensor<1x4x1x?xf32>) outs(%fmax : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x1xf32>
  %ex = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ss, %max : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<1x4x1x?xf32>
  %fsum = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<1x4x1x?xf32>) outs(%fsum : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<1x4x1x1xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %sum : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %sm: f32, %out: f32):
    %d = arith.divf %in, %sm : f32
    linalg.yield %d : f32
  } -> tensor<1x4x1x?xf32>
  %eb = tensor.empty(%n) : tensor<1x4x1x?xi1>
  %isninf = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ss : tensor<1x4x1x?xf32>) outs(%eb : tensor<1x4x1x?xi1>) {
  ^bb0(%in: f32, %out: i1):
    %w = arith.extf %in : f32 to f64
    %c = arith.cmpf oeq, %w, %ninf64 : f64
    linalg.yield %c : i1
  } -> tensor<1x4x1x?xi1>
  %eb1 = tensor.empty() : tensor<1x4x1x1xi1>
  %ftrue = linalg.fill ins(%true : i1) outs(%eb1 : tensor<1x4x1x1xi1>) -> tensor<1x4x1x1xi1>
  %all = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%isninf : tensor<1x4x1x?xi1>) outs(%ftrue : tensor<1x4x1x1xi1>) {
  ^bb0(%in: i1, %out: i1):
    %a = arith.andi %in, %out : i1
    linalg.yield %a : i1
  } -> tensor<1x4x1x1xi1>
  %zeros = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%zeros0 : tensor<f32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x1x?xf32>
  %guarded = linalg.generic {indexing_maps = [#row, #id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%all, %zeros, %p : tensor<1x4x1x1xi1>, tensor<1x4x1x?xf32>, tensor<1x4x1x?xf32>) outs(%e2 : tensor<1x4x1x?xf32>) {
  ^bb0(%c: i1, %z: f32, %x: f32, %out: f32):
    %r = arith.select %c, %z, %x : f32
    linalg.yield %r : f32
  } -> tensor<1x4x1x?xf32>
  %p3 = tensor.collapse_shape %guarded [[0, 1], [2], [3]] : tensor<1x4x1x?xf32> into tensor<4x1x?xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x?x16xf32> into tensor<4x?x16xf32>
  %e4 = tensor.empty() : tensor<4x1x16xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o3 = linalg.batch_matmul ins(%p3, %v3 : tensor<4x1x?xf32>, tensor<4x?x16xf32>) outs(%f4 : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#heads = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>

// A layer whose mask arrives as a function argument (nothing tells what it
// masks: sliding-window masks are raised only where they are computed in
// the graph, sliding-window.mlir) then a global one. The first layer is
// declined, named by its number (its attention-like chain's position in the
// function), and the global layer raised after it keeps the model's layer
// number 1, not 0.
// CHECK-LABEL: func.func @sliding_then_global(
//   CHECK-NOT:   magicpig.attention
//       CHECK:   magicpig.attention scale(2.500000e-01) ins(
//  CHECK-SAME:     {magicpig.layer = 1 : i64}
//   CHECK-NOT:   magicpig.attention
//       CHECK:   return
// REMARK: remark: magicpig-raise-attention: declined: an additive mask of dynamic shape is not computed from positions and constants of one sequence length (and at most decode's position); only a causal or sliding-window mask is recognized (layer 0 of @sliding_then_global: its attention stays as exported)
func.func @sliding_then_global(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x?x16xf32>, %v: tensor<1x4x?x16xf32>, %window: tensor<1x1x1x?xf32>, %q2: tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32> {
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant 2.500000e-01 : f32
  %n_a = tensor.dim %k, %c2 : tensor<1x4x?x16xf32>
  %e0_a = tensor.empty(%n_a) : tensor<1x4x16x?xf32>
  %kt_a = linalg.transpose ins(%k : tensor<1x4x?x16xf32>) outs(%e0_a : tensor<1x4x16x?xf32>) permutation = [0, 1, 3, 2]
  %q3_a = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %kt3_a = tensor.collapse_shape %kt_a [[0, 1], [2], [3]] : tensor<1x4x16x?xf32> into tensor<4x16x?xf32>
  %e1_a = tensor.empty(%n_a) : tensor<4x1x?xf32>
  %f1_a = linalg.fill ins(%zero : f32) outs(%e1_a : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s3_a = linalg.batch_matmul ins(%q3_a, %kt3_a : tensor<4x1x16xf32>, tensor<4x16x?xf32>) outs(%f1_a : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s_a = tensor.expand_shape %s3_a [[0, 1], [2], [3]] output_shape [1, 4, 1, %n_a] : tensor<4x1x?xf32> into tensor<1x4x1x?xf32>
  %e2_a = tensor.empty(%n_a) : tensor<1x4x1x?xf32>
  %ss_a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s_a : tensor<1x4x1x?xf32>) outs(%e2_a : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x?xf32>
  %sm_a = linalg.generic {indexing_maps = [#id, #heads, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ss_a, %window : tensor<1x4x1x?xf32>, tensor<1x1x1x?xf32>) outs(%e2_a : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %mk: f32, %out: f32):
    %a = arith.addf %in, %mk : f32
    linalg.yield %a : f32
  } -> tensor<1x4x1x?xf32>
  %e3_a = tensor.empty() : tensor<1x4x1x1xf32>
  %fmax_a = linalg.fill ins(%ninf : f32) outs(%e3_a : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %max_a = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%sm_a : tensor<1x4x1x?xf32>) outs(%fmax_a : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x1xf32>
  %ex_a = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sm_a, %max_a : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2_a : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<1x4x1x?xf32>
  %fsum_a = linalg.fill ins(%zero : f32) outs(%e3_a : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %sum_a = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex_a : tensor<1x4x1x?xf32>) outs(%fsum_a : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<1x4x1x1xf32>
  %p_a = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex_a, %sum_a : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2_a : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %sm: f32, %out: f32):
    %d = arith.divf %in, %sm : f32
    linalg.yield %d : f32
  } -> tensor<1x4x1x?xf32>
  %p3_a = tensor.collapse_shape %p_a [[0, 1], [2], [3]] : tensor<1x4x1x?xf32> into tensor<4x1x?xf32>
  %v3_a = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x?x16xf32> into tensor<4x?x16xf32>
  %e4_a = tensor.empty() : tensor<4x1x16xf32>
  %f4_a = linalg.fill ins(%zero : f32) outs(%e4_a : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o3_a = linalg.batch_matmul ins(%p3_a, %v3_a : tensor<4x1x?xf32>, tensor<4x?x16xf32>) outs(%f4_a : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o_a = tensor.expand_shape %o3_a [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %n_b = tensor.dim %k, %c2 : tensor<1x4x?x16xf32>
  %e0_b = tensor.empty(%n_b) : tensor<1x4x16x?xf32>
  %kt_b = linalg.transpose ins(%k : tensor<1x4x?x16xf32>) outs(%e0_b : tensor<1x4x16x?xf32>) permutation = [0, 1, 3, 2]
  %q3_b = tensor.collapse_shape %q2 [[0, 1], [2], [3]] : tensor<1x4x1x16xf32> into tensor<4x1x16xf32>
  %kt3_b = tensor.collapse_shape %kt_b [[0, 1], [2], [3]] : tensor<1x4x16x?xf32> into tensor<4x16x?xf32>
  %e1_b = tensor.empty(%n_b) : tensor<4x1x?xf32>
  %f1_b = linalg.fill ins(%zero : f32) outs(%e1_b : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s3_b = linalg.batch_matmul ins(%q3_b, %kt3_b : tensor<4x1x16xf32>, tensor<4x16x?xf32>) outs(%f1_b : tensor<4x1x?xf32>) -> tensor<4x1x?xf32>
  %s_b = tensor.expand_shape %s3_b [[0, 1], [2], [3]] output_shape [1, 4, 1, %n_b] : tensor<4x1x?xf32> into tensor<1x4x1x?xf32>
  %e2_b = tensor.empty(%n_b) : tensor<1x4x1x?xf32>
  %ss_b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s_b : tensor<1x4x1x?xf32>) outs(%e2_b : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x?xf32>
  %e3_b = tensor.empty() : tensor<1x4x1x1xf32>
  %fmax_b = linalg.fill ins(%ninf : f32) outs(%e3_b : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %max_b = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ss_b : tensor<1x4x1x?xf32>) outs(%fmax_b : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x1xf32>
  %ex_b = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ss_b, %max_b : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2_b : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<1x4x1x?xf32>
  %fsum_b = linalg.fill ins(%zero : f32) outs(%e3_b : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %sum_b = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex_b : tensor<1x4x1x?xf32>) outs(%fsum_b : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<1x4x1x1xf32>
  %p_b = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex_b, %sum_b : tensor<1x4x1x?xf32>, tensor<1x4x1x1xf32>) outs(%e2_b : tensor<1x4x1x?xf32>) {
  ^bb0(%in: f32, %sm: f32, %out: f32):
    %d = arith.divf %in, %sm : f32
    linalg.yield %d : f32
  } -> tensor<1x4x1x?xf32>
  %p3_b = tensor.collapse_shape %p_b [[0, 1], [2], [3]] : tensor<1x4x1x?xf32> into tensor<4x1x?xf32>
  %v3_b = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x4x?x16xf32> into tensor<4x?x16xf32>
  %e4_b = tensor.empty() : tensor<4x1x16xf32>
  %f4_b = linalg.fill ins(%zero : f32) outs(%e4_b : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o3_b = linalg.batch_matmul ins(%p3_b, %v3_b : tensor<4x1x?xf32>, tensor<4x?x16xf32>) outs(%f4_b : tensor<4x1x16xf32>) -> tensor<4x1x16xf32>
  %o_b = tensor.expand_shape %o3_b [[0, 1], [2], [3]] output_shape [1, 4, 1, 16] : tensor<4x1x16xf32> into tensor<1x4x1x16xf32>
  %sum = arith.addf %o_a, %o_b : tensor<1x4x1x16xf32>
  return %sum : tensor<1x4x1x16xf32>
}
