//===- CUDAPipeline.h - magicpig IR to host LLVM + a CUDA binary -*- C++ -*-===//
//
// `--magicpig-cuda-pipeline`: tensor-form magicpig IR (with linalg/tensor
// glue) to the LLVM dialect for the host, whose device ops launch kernels
// from a gpu.binary (PTX / cubin / fatbin for the chosen NVIDIA chip), ready
// for magicpig-run (which loads libmagicpig_cuda_runtime) or
// mlir-translate --mlir-to-llvmir.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_PIPELINES_CUDAPIPELINE_H
#define MAGICPIG_PIPELINES_CUDAPIPELINE_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace magicpig {

struct CUDAPipelineOptions : public PassPipelineOptions<CUDAPipelineOptions> {
  // Device.
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("NVIDIA chip of the kernels (sm_80, sm_90, sm_90a, "
                     "sm_100, sm_120; CUDA 13 dropped sm_70 and older)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features for nvvm-attach-target; empty picks the "
                     "lowest PTX ISA the chip needs (+ptx80 up to sm_90a, "
                     "+ptx86 for sm_100, +ptx87 for sm_120)"),
      llvm::cl::init("")};
  PassOptions::Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("Optimization level of the device code (0-3)"),
      llvm::cl::init(3)};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu-module-to-binary embeds: isa (PTX text, no "
                     "tools needed), bin (cubin, runs ptxas), fatbin (cubin "
                     "+ PTX, runs ptxas and fatbinary)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit holding ptxas, fatbinary and libdevice"),
      llvm::cl::init("/usr/local/cuda")};
  PassOptions::Option<int64_t> threadsPerBlock{
      *this, "threads-per-block",
      llvm::cl::desc("Threads of one block of every kernel (a multiple of "
                     "32, at most 1024)"),
      llvm::cl::init(128)};
  PassOptions::Option<bool> overlapHost{
      *this, "overlap-host",
      llvm::cl::desc("Issue the device ops of a layer before its host "
                     "retrieve/estimate and wait for them only where their "
                     "results are needed, so host and device work overlap"),
      llvm::cl::init(true)};

  // Host (as in --magicpig-cpu-pipeline).
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Lanes of the f32 vectors of the host kernels (16: "
                     "AVX-512, 8: AVX2)"),
      llvm::cl::init(16)};
  PassOptions::Option<bool> enableOpenMP{
      *this, "enable-openmp",
      llvm::cl::desc("Run the host's scf.parallel loops with OpenMP"),
      llvm::cl::init(true)};
  PassOptions::Option<unsigned> numThreads{
      *this, "num-threads",
      llvm::cl::desc("Threads of each host OpenMP loop; 0 leaves the choice "
                     "to the OpenMP runtime"),
      llvm::cl::init(0)};
};

/// The nvvm-attach-target features for `chip` when `features` is empty.
std::string defaultPTXFeatures(StringRef chip);

/// Places the device ops on the GPU (with their transfers) and lowers the
/// host ops to loops: bufferization, convert-magicpig-to-gpu,
/// convert-magicpig-to-scf.
void buildCUDAPlacementPipeline(OpPassManager &pm,
                                const CUDAPipelineOptions &options);

/// Outlines the kernels and lowers them to NVVM for the chosen chip.
void buildCUDAKernelPipeline(OpPassManager &pm,
                             const CUDAPipelineOptions &options);

/// Lowers the host code (gpu runtime calls included) to the LLVM dialect and
/// serializes the kernels into a gpu.binary.
void buildCUDAHostAndBinaryPipeline(OpPassManager &pm,
                                    const CUDAPipelineOptions &options);

/// The three stages above, in order.
void buildCUDAPipeline(OpPassManager &pm, const CUDAPipelineOptions &options);

/// Registers `--magicpig-cuda-pipeline`.
void registerCUDAPipeline();

} // namespace magicpig
} // namespace mlir

#endif // MAGICPIG_PIPELINES_CUDAPIPELINE_H
