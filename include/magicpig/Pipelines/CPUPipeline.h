//===- CPUPipeline.h - magicpig IR to LLVM for the host CPU ---*- C++ -*-===//
//
// `--magicpig-cpu-pipeline`: tensor-form magicpig IR (with linalg/tensor
// glue) to the LLVM dialect, vectorized and OpenMP-parallel, ready for
// mlir-runner / magicpig-run or mlir-translate --mlir-to-llvmir.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_PIPELINES_CPUPIPELINE_H
#define MAGICPIG_PIPELINES_CPUPIPELINE_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace magicpig {

struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc(
          "Lanes of the f32 vectors of the generated kernels. 16 fills an "
          "AVX-512 register; use 8 on AVX2-only CPUs. Deliberately not taken "
          "from the compiling machine, so the output is reproducible."),
      llvm::cl::init(16)};
  PassOptions::Option<int64_t> keysPerTask{
      *this, "keys-per-task",
      llvm::cl::desc("Keys of one parallel attention task per query "
                     "position (see convert-magicpig-to-scf)"),
      llvm::cl::init(2048)};
  PassOptions::Option<int64_t> keyBlock{
      *this, "key-block",
      llvm::cl::desc("Keys per online-softmax block of attention"),
      llvm::cl::init(64)};
  PassOptions::Option<bool> enableOpenMP{
      *this, "enable-openmp",
      llvm::cl::desc("Run scf.parallel loops as OpenMP parallel loops (the "
                     "program then needs libomp); otherwise sequentially"),
      llvm::cl::init(true)};
  PassOptions::Option<unsigned> numThreads{
      *this, "num-threads",
      llvm::cl::desc("Threads of each OpenMP parallel loop; 0 leaves the "
                     "choice to the OpenMP runtime (OMP_NUM_THREADS, else "
                     "all cores)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> approximateVectorMath{
      *this, "approximate-vector-math",
      llvm::cl::desc("Evaluate f32 vector exp/log/acos/... with polynomial "
                     "approximations instead of one libm call per lane"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> outlineOps{
      *this, "outline-ops",
      llvm::cl::desc("Run magicpig-outline-ops: repeated magicpig ops (one "
                     "per layer) are lowered once, in a shared function"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> parallelTokenLoops{
      *this, "parallel-token-loops",
      llvm::cl::desc("Run magicpig-parallel-token-loops: linalg ops over a "
                     "dynamic token dimension (a prefill's rows) become "
                     "OpenMP loops"),
      llvm::cl::init(true)};
};

/// Bufferizes the module (function boundaries included, identity layouts)
/// and frees the buffers it allocates; with `freeEarly`, right after their
/// last use (magicpig-early-dealloc) instead of at the end of their block.
void buildCPUBufferizationPipeline(OpPassManager &pm, bool freeEarly = false);

/// Lowers magicpig and linalg ops on memrefs to scf/vector/memref loops.
void buildCPULoopLoweringPipeline(OpPassManager &pm,
                                  const CPUPipelineOptions &options);

/// Converts the host loops (OpenMP for scf.parallel) and the other host ops
/// to the LLVM dialect, without reconciling the casts left at the boundary
/// with ops still to be converted (the gpu ops of the CUDA pipeline).
void buildHostToLLVMConversions(OpPassManager &pm,
                                const CPUPipelineOptions &options);

/// Lowers the loops (OpenMP for scf.parallel) to the LLVM dialect.
void buildCPUToLLVMPipeline(OpPassManager &pm,
                            const CPUPipelineOptions &options);

/// The three stages above, in order.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers `--magicpig-cpu-pipeline`.
void registerCPUPipeline();

} // namespace magicpig
} // namespace mlir

#endif // MAGICPIG_PIPELINES_CPUPIPELINE_H
