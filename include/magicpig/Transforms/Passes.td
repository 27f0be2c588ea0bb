//===- Passes.td - MagicPIG graph transformations -----------*- tablegen -*-===//

#ifndef MAGICPIG_TRANSFORMS_PASSES_TD
#define MAGICPIG_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MagicPIGRaiseAttention : Pass<"magicpig-raise-attention"> {
  let summary = "Replace exported softmax attention with magicpig.attention";
  let description = [{
    Finds softmax attention as frameworks export it (linalg on tensors from
    torch-mlir: batch_matmul / matmul / generic for Q.K^T, a scale on Q or on
    the scores, softmax as linalg.softmax or its decomposed max / subtract /
    exp / sum / divide chain, grouped-query heads via broadcast or
    expand + collapse; and the TOSA form) and replaces the whole chain with
    one `magicpig.attention`. Code that only looks like attention (softmax
    over the wrong dimension, an op between the pieces that changes the math,
    an additive mask) is left untouched, and a remark on the softmax says
    why it was declined; remarks are always emitted (they print on stderr and
    are checked with `-verify-diagnostics` as `expected-remark`).

    Example (torch-mlir export of `softmax(q @ k^T * 0.125) @ v`):

    ```mlir
    %s = linalg.batch_matmul ins(%q, %kT ...) ...   // + scale, max, sub,
    ...                                             //   exp, sum, div
    %o = linalg.batch_matmul ins(%p, %v ...) ...
    ```

    becomes

    ```mlir
    %o = magicpig.attention scale(1.250000e-01)
           ins(%q, %k, %v : ...) outs(%empty : ...) -> ...
    ```

    Grouped-query attention written as repeat_kv (expand + reshape of K and
    V) raises onto the pre-expansion `[B, Hkv, N, d]` tensors; a causal mask
    sets `causal` only when it equals the op's bottom-right causal mask
    exactly.
  }];
  let dependentDialects = [
    "::mlir::magicpig::MagicPIGDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def MagicPIGSparsify : Pass<"magicpig-sparsify", "::mlir::ModuleOp"> {
  let summary = "Rewrite exact decode attention into MagicPIG LSH sampling";
  let description = [{
    Rewrites each decode `magicpig.attention` (a query without a query-length
    dimension, or with a static query length of 1) whose layer is not listed
    in `dense-layers` into the MagicPIG graph:

    ```
    codes   = simhash(q, P)                          // P: d x (K*L), from seed
    cand, n = retrieve(codes, offsets, indices)      // >= T collisions
    oS, lS  = estimate(q, K, V, norms, mean, cand, n)
    oW, lW  = window_attention(q, K, V, sink, window_start)
    out, _  = merge(oS, lS, oW, lW)
    ```

    and adds the prefill-side index build after each prefill attention (a
    query-length dimension other than a static 1): `center_keys`, `key_norms`,
    `simhash` of the centered keys and `build_tables`. Layers are numbered by
    program order of the attention ops in each function, or by an integer
    `magicpig.layer` attribute on the op when present.

    State threading (documented in docs/ABI.md): for every sparse layer, in
    layer order, a prefill function returns four more results and a decode
    function takes four more arguments: the bucket offsets
    `[B, Hkv, L, 2^K + 1]` i32, the token indices `[B, Hkv, L, Np]` i32, the
    norms of the centered keys `[B, Hkv, Np]` f32 and the key mean
    `[B, Hkv, d]` f32, where `Np` is the prefill length. The K/V cache itself
    is unchanged (raw keys), so the exported model's own cache update stays
    valid.

    With `return-counts`, a decode function also returns, after everything
    else, the retrieve count of each sparse layer in layer order
    (`[B, Hq]` i32: the keys of the hashed middle each query head sampled),
    so that a caller can measure the fraction of keys touched.
  }];
  let dependentDialects = [
    "::mlir::magicpig::MagicPIGDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect",
  ];
  let options = [
    Option<"lshBits", "lsh-bits", "int64_t", /*default=*/"10",
           "Bits per SimHash table (K), 1..16">,
    Option<"lshTables", "lsh-tables", "int64_t", /*default=*/"150",
           "Number of SimHash tables (L), >= 1">,
    Option<"minCollisions", "min-collisions", "int64_t", /*default=*/"2",
           "Tables a key must share with the query to be retrieved (T), 1..L">,
    Option<"sinkTokens", "sink-tokens", "int64_t", /*default=*/"4",
           "Leading tokens always attended exactly">,
    Option<"windowTokens", "window-tokens", "int64_t", /*default=*/"64",
           "Trailing prefill tokens always attended exactly">,
    ListOption<"denseLayers", "dense-layers", "int64_t",
           "Layers that keep exact attention. Default: the first and the "
           "middle layer when there are at least 3 attention layers, none "
           "otherwise; -1 alone keeps no layer dense">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of the Gaussian SimHash projection">,
    Option<"maxCandidates", "max-candidates", "int64_t", /*default=*/"0",
           "Capacity of the retrieved set per head; 0 means the prefill "
           "length (never truncates)">,
    Option<"returnCounts", "return-counts", "bool", /*default=*/"false",
           "Decode functions also return each sparse layer's retrieve count "
           "[B, Hq] i32, after their other results">,
  ];
}

def MagicPIGContractionLoopOrder : Pass<"magicpig-contraction-loop-order"> {
  let summary = "Order matmul loops so the innermost one walks rows";
  let description = [{
    The model's projections and its output layer are `linalg.matmul` /
    `linalg.batch_matmul` ops; the CPU pipeline lowers them to loops in
    iterator order, which puts the reduction `k` innermost:
    `C[i, j] += A[i, k] * B[k, j]` then reads `B` down a column (one cache
    line per multiply-add) and is a floating-point reduction chain that
    LLVM may not vectorize without reassociation. This pass generalizes each
    of them into a `linalg.generic` and interchanges its loops to
    `(batch,) i, k, j`: the innermost loop then runs along a row of `B` and
    of `C`, independent iterations that LLVM vectorizes, with the same
    summation order as before (k ascending for each output element), so the
    results are bitwise unchanged.

    ```mlir
    %c = linalg.matmul ins(%a, %b : tensor<?x576xf32>, tensor<576x1536xf32>) ...
    ```

    becomes a `linalg.generic` with iterators
    `["parallel", "reduction", "parallel"]` and indexing maps
    `(i, k, j) -> (i, k)`, `(i, k, j) -> (k, j)`, `(i, k, j) -> (i, j)`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // MAGICPIG_TRANSFORMS_PASSES_TD
