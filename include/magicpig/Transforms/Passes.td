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
    exactly, and `window = W` as well when it is that mask with a sliding
    window (each query sees only its last W keys, Gemma 3's local layers).
    A 0/-inf mask computed in the graph is evaluated: a constant at its
    shape; one of dynamic length at a set of lengths, including the ones
    just past each integer constant of its computation (so that a window
    longer than the fixed lengths shows); a decode mask computed from the
    `position` argument (`(position - j) >= W`) with the position equal to
    the query's, N - 1 (the decode ABI of docs/model-export.md: position is
    the cache length). A logit soft-cap (`c * tanh(s / c)`), a finite
    position bias (ALiBi) or any other mask is declined with its reason. Keys transposed straight from the `[B, N, H, d]` projection
    (GPT-2's `view` + `transpose(1, 2)` + `transpose(-1, -2)`, fused by the
    exporter into one transpose `[0, 2, 3, 1]`) raise onto that tensor
    transposed `[0, 2, 1, 3]`. Attention written in 3-D with `torch.bmm`
    (q merged to `[B*H, S, d]`, k and v to `[B*H, N, d]`, for GQA from the
    `[B, Hkv, G, N, d]` repetition, softmax over the last dim of the
    `[B*H, S, N]` scores, the P.V product split back to `[B, H, S, dv]`)
    raises onto the tensors before the merges, the mask read as that of
    `[1, B*H, S, N]` scores; merges that do not group batch with heads in
    the query's order (heads with tokens, another split of B*H, groups
    before kv heads) are declined.

    A decode batch of sequences of different lengths, padded into one
    cache, is raised with `lengths`: its mask reads a `[B]` integer
    argument and shows sequence b the keys `j < lengths[b]` and its own
    key (checked by evaluating the mask at several batches, lengths and
    cache sizes). A `tensor.reshape` of a computed shape that can only be
    a collapse (torch-mlir's form of a view with two dynamic sizes, as a
    head repetition with a dynamic batch is) is read as that collapse,
    its dynamic sizes asserted at run time.
  }];
  let dependentDialects = [
    "::mlir::magicpig::MagicPIGDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::linalg::LinalgDialect",
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
    `magicpig.layer` attribute on the op when present. An attention with a
    sliding `window` stays exact (its cost is already bounded by the window,
    and a sample over the hashed middle would ignore the window), with a
    remark that names its layer; it takes no index, and the layers after it
    keep their numbers.

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
    "::mlir::linalg::LinalgDialect",
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

def MagicPIGSplitAppendedKV : Pass<"magicpig-split-appended-kv"> {
  let summary = "Attend to the cache and the appended rows apart, not to their concat";
  let description = [{
    An exported decode step appends its new key and value rows to the layer's
    cache (`torch.cat`: `tensor.concat` along the token dimension) and
    attends to the result, so every step copies the whole cache of every
    layer. For a decode `magicpig.attention` whose key and value are both a
    two-operand `tensor.concat` along dim 2, this pass computes exact
    attention over the cache and over the appended rows separately
    (`magicpig.window_attention` with no sink and window start 0, which
    returns the log-sum-exp) and combines them with `magicpig.merge`:

    ```
    out = exp(lse_c - lse) * out_c + exp(lse_a - lse) * out_a,
    lse = logaddexp(lse_c, lse_a)
    ```

    which equals softmax attention over the union. Concatenations left
    without users are erased. `--magicpig-sparsify` does the same for the
    window part of the layers it samples; run this pass after it for the
    dense layers (magicpig-compile does).

    Example:

    ```mlir
    %k = tensor.concat dim(2) %cache_k, %new_k : (...) -> tensor<1x2x?x64xf32>
    %v = tensor.concat dim(2) %cache_v, %new_v : (...) -> tensor<1x2x?x64xf32>
    %o = magicpig.attention scale(0.125) ins(%q, %k, %v : ...) outs(...)
    ```

    becomes two `magicpig.window_attention sink(0) window_start(%c0)` (one
    on `%cache_k, %cache_v`, one on `%new_k, %new_v`) and a `magicpig.merge`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::magicpig::MagicPIGDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def MagicPIGStridedKVArguments
    : Pass<"magicpig-strided-kv-arguments", "::mlir::ModuleOp"> {
  let summary = "Let callers pass the K/V cache arguments as strided views";
  let description = [{
    A decode step reads the layer caches it takes as arguments
    (`[layers, B, Hkv, N, d]`) and appends nothing to them; the caller
    appends the step's new rows. With the identity layouts the CPU pipeline
    gives function arguments, the cache must be contiguous in N, so a caller
    that keeps one buffer for the whole generation must copy its filled
    part into a new array every step. This pass marks each argument of a
    public function that

    - has a ranked tensor type of rank 2 or more with a dynamic dimension,
    - is used only through `tensor.extract_slice`, `tensor.collapse_shape`,
      `tensor.expand_shape` and `tensor.dim`, ending as a read-only operand
      (`ins`) of `magicpig` ops, and reaches the key or value of at least
      one attention (`attention`, `window_attention`, `estimate`),

    with `bufferization.buffer_layout = strided<[?, ..., ?, 1], offset: ?>`.
    One-Shot Bufferize then gives it a memref with dynamic strides (the
    innermost stride stays 1, so rows are still read with vector loads),
    and the caller may pass a view of a larger buffer, e.g. the first N
    rows of a cache allocated for the whole generation. The magicpig ops
    already receive strided views of the cache (the per-layer slices), so
    their code is unchanged.

    Example: `%k_cache: tensor<30x1x3x?x64xf32>` gains
    `{bufferization.buffer_layout = strided<[?, ?, ?, ?, 1], offset: ?>}`
    and becomes `memref<30x1x3x?x64xf32, strided<[?, ?, ?, ?, 1], offset: ?>>`.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def MagicPIGNarrowKVCache
    : Pass<"magicpig-narrow-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Take the K/V cache arguments in bf16 or f16";
  let description = [{
    With long contexts and several sequences the K/V cache, not the
    weights, is what a decode step reads and what fills memory. This pass
    halves it: each f32 argument of a public function that
    magicpig-strided-kv-arguments would take (a rank >= 2 tensor with a
    dynamic size, used only through `tensor.extract_slice`,
    `collapse_shape`, `expand_shape` and `tensor.dim`) and whose every read
    is the key or value operand of `attention`, `window_attention` or
    `estimate` gets the element type `kv-type`, and so do the views taken
    of it. Those operands accept f32, f16 and bf16; their lowerings widen
    each row to f32 as they load it and accumulate in f32. Arguments read
    by anything else keep their type. The caller stores the cache rounded
    to that type (what prefill and decode return stays f32).

    Example: with `kv-type=bf16`, `%k_cache: tensor<30x1x3x?x64xf32>`
    becomes `tensor<30x1x3x?x64xbf16>`, and its per-layer
    `tensor.extract_slice` gives `tensor<1x3x?x64xbf16>`.
  }];
  let options = [
    Option<"kvType", "kv-type", "std::string", /*default=*/"\"bf16\"",
           "Element type of the cache: f32 (unchanged), bf16 or f16">,
  ];
}

def MagicPIGNarrowWeights
    : Pass<"magicpig-narrow-weights", "::mlir::ModuleOp"> {
  let summary = "Take the weight matrices as bf16 arguments, widened where "
                "they are read";
  let description = [{
    A decode step of a small model reads every weight once, so its time is
    the weights' bytes over the memory bandwidth. This pass halves those
    bytes: each argument of a public function that

    - is a statically shaped f32 tensor of rank 2 with at least
      `min-weight-elements` elements (a weight matrix; the norm vectors are
      rank 1, the caches have a dynamic size, and a decode step's
      activations are far smaller than its weights),
    - is only read: an `ins` operand of linalg ops, or the source of
      `tensor.extract` (an embedding lookup),

    becomes a bf16 tensor. Every linalg use reads it through its own
    widening `linalg.generic` (`arith.extf`, all-parallel, identity maps):
    folded at once into a consuming `linalg.generic`, and by
    `magicpig-contraction-loop-order` into the contraction that a named
    op (torch-mlir's weight transpose) feeds, so the widening happens as
    the weight is loaded and no f32 copy is made; an extract reads the bf16
    element and widens it.
    Accumulation stays f32. The caller passes the weights rounded to bf16
    (round to nearest even); the graph info reports them as `bf16`.

    Example: `%w: tensor<1536x576xf32>` read by a `linalg.transpose` becomes
    `%w: tensor<1536x576xbf16>`, and the transpose reads
    `linalg.generic {...} ins(%w) { arith.extf ... }`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"minWeightElements", "min-weight-elements", "int64_t",
           /*default=*/"65536",
           "Smallest argument (elements) taken for a weight matrix">,
  ];
}

def MagicPIGParallelContractions : Pass<"magicpig-parallel-contractions"> {
  let summary = "Split the output features of large contractions over threads";
  let description = [{
    A decode step of a small model is bound by reading its weights once:
    every matmul is a matrix-vector product. Lowered to sequential loops it
    reads them with one core. This pass tiles each linalg op on tensors that
    has a reduction loop, a parallel loop and an input of at least
    `min-weight-elements` static elements (a weight matrix) along its widest
    static parallel loop (the output features) into `chunks` tiles of an
    `scf.forall`. The CPU pipeline turns the forall into `scf.parallel`,
    hence an OpenMP loop; each tile is the same linalg op on a slice, so the
    loop order chosen by `--magicpig-contraction-loop-order` (run it first)
    and the vectorized innermost loop are kept.

    Example: `out[1, 1536] = x[1, 576] . W[1536, 576]^T` becomes an
    `scf.forall` of 16 tiles, each computing 96 output features from 96 rows
    of `W`.
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"16",
           "Tiles of the widest parallel loop (more than the thread count, "
           "so that OpenMP can balance them)">,
    Option<"minWeightElements", "min-weight-elements", "int64_t",
           /*default=*/"65536",
           "Smallest static input (elements) that makes a contraction worth "
           "splitting">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def MagicPIGContractionLoopOrder : Pass<"magicpig-contraction-loop-order"> {
  let summary = "Fold weight copies into matmuls and order their loops so "
                "the innermost one walks rows";
  let description = [{
    The model's projections and its output layer are `linalg.matmul` /
    `linalg.batch_matmul` ops; the CPU pipeline lowers them to loops in
    iterator order `(batch,) i, j, k`. torch-mlir exports `nn.Linear` as a
    `linalg.transpose` of the weight `[out, in]` and a broadcast to a batch
    of one feeding a `batch_matmul`: lowered as they are, every call copies
    every weight matrix twice before reading it. This pass generalizes each
    matmul into a `linalg.generic` and then:

    0. A batch_matmul of a dynamic batch of single rows (`[B, 1, K]`, a
       batched decode step's projection) against a broadcast weight is
       first read as the B rows of one batch (`[1, B, K]`), the form of a
       prefill's projections, so the weight is read once for the batch.

    1. Fuses each single-use producer of an input that only moves elements
       (`linalg.transpose`, `linalg.broadcast`, or an all-parallel generic
       whose body yields its input) into the contraction with upstream
       elementwise fusion: the contraction then reads the weight in place
       through the composed map `(b, i, j, k) -> (j, k)`. A copy with other
       users stays (fusing it would make the contraction yield the copy).
    2. Orders the loops by where the operands put the reduction `k`:
       - `B` indexed `(..., k, j)` (a plain matmul): loops become
         `(batch,) i, k, j`; the innermost loop runs along a row of `B` and
         `C`, independent iterations that LLVM vectorizes, with the same
         summation order as before (k ascending), so the results are
         bitwise unchanged.
       - `A` and `B` both indexed `(..., k)` (a folded weight transpose):
         `k` stays innermost, a dot product along rows of `A` and `B`; its
         `arith.mulf` / `arith.addf` get `fastmath<reassoc,contract>` so
         LLVM vectorizes the reduction (lane-wise partial sums, FMA). The
         summation order changes: results agree within f32 rounding.

    ```mlir
    %t = linalg.transpose ins(%w : tensor<1536x576xf32>) ... permutation = [1, 0]
    %b = linalg.generic {...} ins(%t : tensor<576x1536xf32>) -> tensor<1x576x1536xf32>
    %c = linalg.batch_matmul ins(%a, %b : tensor<1x?x576xf32>, tensor<1x576x1536xf32>) ...
    ```

    becomes one `linalg.generic` over `ins(%a, %w)` with maps
    `(b, i, j, k) -> (b, i, k)`, `(b, i, j, k) -> (j, k)`,
    `(b, i, j, k) -> (b, i, j)`, iterators
    `["parallel", "parallel", "parallel", "reduction"]` and a reassociable
    multiply-add body.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // MAGICPIG_TRANSFORMS_PASSES_TD
