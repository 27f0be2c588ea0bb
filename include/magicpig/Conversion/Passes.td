//===- Passes.td - MagicPIG conversion passes ----------------*- tablegen -*-===//

#ifndef MAGICPIG_CONVERSION_PASSES_TD
#define MAGICPIG_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMagicPIGToSCF : Pass<"convert-magicpig-to-scf"> {
  let summary = "Lower bufferized magicpig ops to scf, vector, memref and math";
  let description = [{
    Lowers every `magicpig` op in memref form (after bufferization) to loops:
    an `scf.parallel` over the independent (batch, head) pairs, which
    `convert-scf-to-openmp` turns into an OpenMP parallel loop, and inner
    `scf.for` loops whose dot products, axpy updates and reductions run on
    `vector` values of `vector-width` lanes with a masked tail, so that head
    dims that are not a multiple of the width stay correct. Accumulation is
    in f32 whatever the storage type of K and V.

    Example: a bufferized

    ```mlir
    magicpig.key_norms ins(%k : memref<1x2x128x64xbf16>)
                       outs(%n : memref<1x2x128xf32>)
    ```

    becomes an `scf.parallel` over (b, g, j) whose body reads `%k[b, g, j, :]`
    with `vector.transfer_read`, extends it to f32, and stores
    `sqrt(vector.reduction <add> (x * x))` into `%n[b, g, j]`.

    `attention` takes one of two loop forms. Decode (no query-length dim, or
    fewer positions than `vector-width`) runs one task per query position
    and chunk of `keys-per-task` keys, the group's query heads against each
    key row, partial results merged by log-sum-exp. Many positions (a
    prefill: a dynamic query length or at least `vector-width` positions,
    static heads and head dims, a value dim of whole vectors, and at most
    1 MiB of stack scratch per task) run one task
    per block of `vector-width` positions of a kv head's group, so every
    K/V row read serves the block's G * `vector-width` query rows: scores
    and values are register-blocked outer products over blocks of
    `key-block` keys, and causal blocks are interleaved so that a static
    schedule balances them.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Lanes of the f32 vectors used for dot products and updates "
           "(16 fills an AVX-512 register, 8 an AVX2 one; at most 64)">,
    Option<"keysPerTask", "keys-per-task", "int64_t", /*default=*/"2048",
           "Keys of one parallel task of attention per query position; "
           "longer contexts are split into tasks merged by log-sum-exp">,
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"64",
           "Keys whose scores are computed, exponentiated and accumulated "
           "together in attention (the online-softmax block)">,
  ];
}

def MagicPIGApproximateVectorMath : Pass<"magicpig-approximate-vector-math"> {
  let summary = "Replace f32 vector math (exp, log, acos, ...) by polynomials";
  let description = [{
    LLVM has no vector `exp` or `log` on x86 without a vector math library:
    `convert-math-to-llvm` gives `llvm.exp` on `vector<16xf32>`, which the
    backend splits into 16 calls to `expf`. The softmax of decode attention
    evaluates one `exp` per key and query head, so those calls would cost
    more than reading the keys. This pass rewrites the math ops whose result
    is a vector into the polynomial approximations of the upstream `math`
    dialect (`populateMathPolynomialApproximationPatterns`: range reduction
    plus a minimax polynomial, a few ulp from libm), which stay in vector
    registers. Scalar math ops are left alone: they become exact libm calls.

    Example:

    ```mlir
    %e = math.exp %x : vector<16xf32>
    ```

    becomes `arith`/`math.fma` code on `vector<16xf32>` with no call.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def MagicPIGExpandStridedCopies : Pass<"magicpig-expand-strided-copies"> {
  let summary = "Turn memref.copy of non-contiguous memrefs into linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` between two contiguous
    memrefs to `llvm.memcpy`, but any other copy to a call of the runtime's
    generic `memrefCopy`, which walks the elements one by one through their
    strides. Bufferized `tensor.concat` produces exactly such copies: a
    decode step appends the new key row to a layer's cache by copying the
    cache into a strided subview of a buffer one row longer, about 1 ns per
    element. This pass rewrites every `memref.copy` with an operand whose
    layout is not the identity into `linalg.copy`, which
    `convert-linalg-to-loops` then turns into a loop nest whose innermost,
    unit-stride loop LLVM vectorizes. Contiguous copies are left to
    `llvm.memcpy`.

    Example:

    ```mlir
    memref.copy %cache, %subview
        : memref<1x3x?x64xf32> to memref<1x3x?x64xf32, strided<[?, ?, 64, 1]>>
    ```

    becomes `linalg.copy ins(%cache : ...) outs(%subview : ...)`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def MagicPIGLowerRowContractions
    : Pass<"magicpig-lower-row-contractions", "::mlir::ModuleOp"> {
  let summary = "Lower many-row weight contractions to register-blocked, "
                "parallel vector loops";
  let description = [{
    A prefill step multiplies N token rows by every weight matrix:
    `C[b, i, j] += sum_k A[b, i, k] * W[j, k]`, the `linalg.generic` that
    `--magicpig-contraction-loop-order` makes of `nn.Linear` (both operands
    read along rows, `fastmath<reassoc>`). `convert-linalg-to-loops` turns it
    into one dot product per output element: every row of A streams all of W
    again, two loads per multiply-add and one core. This pass rewrites such
    an op on memrefs, when its row count is dynamic or at least
    `min-rows`, `W` is a static `[N, K]` with `K` a multiple of
    `vector-width` and `N` a multiple of 4, and the rows of A, W and C are
    contiguous, into:

    - an `scf.parallel` (OpenMP) over blocks of 64 rows of A;
    - in each, blocks of 64 rows of W (kept in L2 across the row block);
    - a register block of 4 rows of A x 4 rows of W: 16 vector
      accumulators updated with `vector.fma` over `K` in steps of
      `vector-width` (8 loads per 16 FMAs), then reduced together
      (transposed sums) and added to the 4 x 4 block of C;
    - the last rows of a block (fewer than 4) one at a time against 4 rows
      of W.

    The loops are built once per shape (batch rank, N, K) in a private
    function `__magicpig_row_contraction_b<batch>_n<N>_k<K>` whose operands
    have dynamic sizes (but K and N) and strides; each op becomes a
    `func.call` with `memref.cast`s, so a 30-layer model compiles four
    kernels, not 210.

    The summation order changes (lane-wise partial sums), which the op's
    `reassoc` flags allow; without them the op is left alone, as are the
    decode step's one-row products (memory-bound on W, already vectorized
    by LLVM). Inside an existing `scf.parallel` or `scf.forall` the row
    blocks are an `scf.for`.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (16: AVX-512, 8: AVX2)">,
    Option<"minRows", "min-rows", "int64_t", /*default=*/"8",
           "Smallest static row count rewritten (dynamic counts always are)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def MagicPIGEarlyDealloc : Pass<"magicpig-early-dealloc"> {
  let summary = "Free heap buffers right after their last use";
  let description = [{
    The buffer deallocation pipeline frees each buffer at the end of the
    block that owns it. An exported prefill is one block of 30 layers, so
    every intermediate of every layer stays allocated until the function
    returns (6.8 GB of peak memory for SmolLM2 at 4K tokens), and each
    allocation touches fresh pages instead of reusing freed ones. This pass
    moves each `memref.dealloc` of a `memref.alloc` to just after the last
    op of its block that uses the buffer or a view of it (`memref.cast` and
    view-like ops such as `memref.subview` and `memref.collapse_shape`);
    uses inside regions count at their ancestor in the block. A buffer that
    may escape (an op other than a view returning a memref from it), is
    used outside the block, or is also freed through a view keeps its
    dealloc where it is.

    Example: an `%alloc` written by a `linalg.fill` and read by one
    `linalg.generic` is freed right after that generic, not at the end of
    the function.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def MagicPIGOutlineOps : Pass<"magicpig-outline-ops", "::mlir::ModuleOp"> {
  let summary = "Make repeated magicpig and linalg ops on buffers calls of "
                "one function";
  let description = [{
    A compiled model repeats every op once per layer: each `window_attention`,
    `estimate`, `simhash`, ... and each norm, RoPE, transpose and
    element-wise `linalg` op, with the same attributes, body and operand
    types. Lowered in place, each copy becomes its own loop nest (and OpenMP
    region) for LLVM to optimize, 30 times over. This pass moves each group
    of two or more equivalent ops on buffers into one private function,
    `__magicpig_outlined_<op>_<n>`, taking the operands as arguments, and
    replaces every op of the group with a `func.call`; the loop lowerings
    then run once per function. Equivalent means: same name, attributes and
    operand types, and regions that are the same up to renaming
    (`OperationEquivalence`), reading only constants from above, with equal
    values (cloned into the function). Ops that occur once, ops in tensor
    form, and ops whose regions read other values from above stay in place.

    Example: 28 `magicpig.estimate` ops of one signature become 28 calls of
    `@__magicpig_outlined_magicpig_estimate_0`, whose body is one
    `magicpig.estimate` on its arguments.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def MagicPIGParallelTokenLoops : Pass<"magicpig-parallel-token-loops"> {
  let summary = "Split linalg ops on buffers over their dynamic parallel loop "
                "into parallel tiles";
  let description = [{
    A prefill step's element-wise ops, norms, transposes and copies run over
    every token row (`[1, N, 576]` and larger for SmolLM2); lowered by
    `convert-linalg-to-loops` they use one core while the other waits.
    This pass tiles each linalg op with buffer semantics that has a parallel
    loop of dynamic extent (the token dimension) into `chunks` tiles of an
    `scf.forall` along the first such loop; the CPU pipeline makes the
    forall an OpenMP loop. Each tile is the same op on subviews, so the
    inner loops keep their order and LLVM still vectorizes the innermost one.
    Ops with only static loops (a decode step's one-row ops) and ops already
    inside an `scf.forall` or `scf.parallel` are left alone.

    Example: a SiLU over `memref<1x?x1536xf32>` becomes an `scf.forall` of
    16 tiles, each over `ceil(N / 16)` rows.
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"16",
           "Tiles of the dynamic loop (more than the thread count, so that "
           "OpenMP can balance them)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def ConvertMagicPIGToGPU : Pass<"convert-magicpig-to-gpu"> {
  let summary = "Lower the device-side magicpig ops (memref form) to gpu.launch";
  let description = [{
    The device half of the heterogeneous decode graph (DESIGN.md section 2,
    placement): `simhash`, `window_attention`, `merge` and exact `attention`
    in memref form become `gpu.launch` kernels; `retrieve`, `estimate`,
    `build_tables`, `center_keys` and `key_norms` are left for
    `convert-magicpig-to-scf` (the host). A `simhash` whose projection width
    is dynamic also stays on the host, which checks the width at run time.

    Each device op gets its own transfers and async chain (one CUDA stream):
    `gpu.alloc` + `gpu.memcpy` of what it reads, `gpu.alloc` of what it
    writes, the launch, then the copies back, `gpu.dealloc` and a blocking
    `gpu.wait`. With `overlap-host` the copies back and the wait move down to
    just before the first later op that may touch the op's buffers (by
    memory effects and local alias analysis), so host ops in between (the
    retrieve and estimate of the sparse layer) run while the device works.
    Strided host views are staged through contiguous host buffers. A grid
    with a dynamic size is guarded by `scf.if` (CUDA rejects empty grids).

    Kernel mappings (`threads-per-block` threads, a multiple of the warp
    size; block reductions by `gpu.shuffle xor` within a warp and shared
    memory across warps, the only hardware-specific code, in TargetInfo):
    - attention / window_attention: grid (S, Hq, B); an online softmax over
      chunks of `threads-per-block` keys (one key per thread for the scores,
      then the threads stride over the value dim), probabilities in shared
      memory, an f32 accumulator row per block.
    - merge: grid (Hq, B); threads stride over the value dim.
    - simhash: one block per hashed row; threads stride over the tables.

    Example: a bufferized

    ```mlir
    magicpig.merge ins(%oa, %la, %ob, %lb : ...) outs(%o, %l : ...)
    ```

    becomes

    ```mlir
    %t0 = gpu.wait async
    %d0, %t1 = gpu.alloc async [%t0] () : memref<1x4x8xf32>
    %t2 = gpu.memcpy async [%t1] %d0, %oa : ...
    ...
    %t9 = gpu.launch async [%t8] blocks(%bx, %by, %bz) in (%gx = %c4, ...)
              threads(%tx, %ty, %tz) in (%sx = %c128, ...)
              workgroup(%red : memref<32xf32, #gpu.address_space<workgroup>>) {
      ...
    }
    %t10 = gpu.memcpy async [%t9] %o, %d4 : ...
    ...
    gpu.wait [%t15]
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "NVIDIA chip the kernels are built for (sm_80 or newer)">,
    Option<"threadsPerBlock", "threads-per-block", "int64_t",
           /*default=*/"128",
           "Threads of one block of every kernel (a multiple of the warp "
           "size, at most 1024)">,
    Option<"overlapHost", "overlap-host", "bool", /*default=*/"false",
           "Wait for a device op's results only before the first later op "
           "that may touch its buffers, so host work in between overlaps "
           "the device work">,
  ];
}

def MagicPIGSinkHostOps : Pass<"magicpig-sink-host-ops"> {
  let summary = "Move host-only magicpig ops down to their first user";
  let description = [{
    In the heterogeneous target the host ops (`retrieve`, `estimate`,
    `build_tables`, `center_keys`, `key_norms`) run on the CPU while the
    device ops run on the GPU. `magicpig-sparsify` emits a decode layer as
    `simhash, retrieve, estimate, window_attention, merge`; issued in that
    order, the window attention would start only after the host finished.
    This pass moves each host op (tensor form, so only SSA dependences
    matter) down to just before the first op of its block that uses one of
    its results, which gives

    ```mlir
    %qc = magicpig.simhash ...           // device
    %ow, %lw = magicpig.window_attention // device, not waited for yet
    %c, %n = magicpig.retrieve ...       // host, overlapping it
    %os, %ls = magicpig.estimate ...     // host
    %o, %l = magicpig.merge ...          // device, waits for both
    ```

    Together with `convert-magicpig-to-gpu{overlap-host}` the window
    attention then runs while the host samples. Ops in memref form are left
    in place (moving them would need a memory dependence analysis).
  }];
}

#endif // MAGICPIG_CONVERSION_PASSES_TD
