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
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Lanes of the f32 vectors used for dot products and updates "
           "(16 fills an AVX-512 register, 8 an AVX2 one)">,
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

#endif // MAGICPIG_CONVERSION_PASSES_TD
