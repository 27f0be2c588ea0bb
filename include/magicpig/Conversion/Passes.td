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
  ];
}

#endif // MAGICPIG_CONVERSION_PASSES_TD
