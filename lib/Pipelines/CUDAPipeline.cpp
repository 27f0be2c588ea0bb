//===- CUDAPipeline.cpp - magicpig IR to host LLVM + a CUDA binary --------===//
//
// The device chain is the one checked on these machines (TOOLCHAIN.md):
// gpu-kernel-outlining, nvvm-attach-target with an explicit PTX version
// (the defaults, sm_50 / +ptx60, fail with CUDA 13), convert-gpu-to-nvvm on
// the gpu.module, gpu-to-llvm for the host side, gpu-module-to-binary last.
// The host half reuses the stages of --magicpig-cpu-pipeline.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Pipelines/CUDAPipeline.h"

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Pipelines/CPUPipeline.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::magicpig;

std::string mlir::magicpig::defaultPTXFeatures(StringRef chip) {
  StringRef digits = chip;
  int64_t capability = 0;
  if (!digits.consume_front("sm_") ||
      digits.take_while(llvm::isDigit).getAsInteger(10, capability))
    return "+ptx80"; // convert-magicpig-to-gpu reports the bad chip.
  // The lowest PTX ISA that supports the chip (PTX ISA release notes).
  if (capability >= 120)
    return "+ptx87";
  if (capability >= 100)
    return "+ptx86";
  return "+ptx80";
}

/// The host-side options, in the CPU pipeline's terms.
static void setHostOptions(CPUPipelineOptions &host,
                           const CUDAPipelineOptions &options) {
  host.vectorWidth = options.vectorWidth;
  host.enableOpenMP = options.enableOpenMP;
  host.numThreads = options.numThreads;
  // The host ops stay inline and sequential, between the kernel launches
  // and the waits that the overlap placed around them.
  host.outlineOps = false;
  host.parallelTokenLoops = false;
}

void mlir::magicpig::buildCUDAPlacementPipeline(
    OpPassManager &pm, const CUDAPipelineOptions &options) {
  if (options.overlapHost)
    pm.addPass(createMagicPIGSinkHostOps());
  buildCPUBufferizationPipeline(pm);
  ConvertMagicPIGToGPUOptions toGPU;
  toGPU.chip = options.chip;
  toGPU.threadsPerBlock = options.threadsPerBlock;
  toGPU.overlapHost = options.overlapHost;
  pm.addPass(createConvertMagicPIGToGPU(toGPU));
  CPUPipelineOptions host;
  setHostOptions(host, options);
  buildCPULoopLoweringPipeline(pm, host);
}

void mlir::magicpig::buildCUDAKernelPipeline(
    OpPassManager &pm, const CUDAPipelineOptions &options) {
  pm.addPass(createGpuKernelOutliningPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features.empty()
                        ? defaultPTXFeatures(options.chip)
                        : std::string(options.features);
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::magicpig::buildCUDAHostAndBinaryPipeline(
    OpPassManager &pm, const CUDAPipelineOptions &options) {
  CPUPipelineOptions host;
  setHostOptions(host, options);
  buildHostToLLVMConversions(pm, host);
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mlir::magicpig::buildCUDAPipeline(OpPassManager &pm,
                                       const CUDAPipelineOptions &options) {
  buildCUDAPlacementPipeline(pm, options);
  buildCUDAKernelPipeline(pm, options);
  buildCUDAHostAndBinaryPipeline(pm, options);
}

void mlir::magicpig::registerCUDAPipeline() {
  PassPipelineRegistration<CUDAPipelineOptions>(
      "magicpig-cuda-pipeline",
      "Lower tensor-form magicpig IR to the LLVM dialect for the host plus a "
      "gpu.binary for an NVIDIA GPU: device ops (simhash, window_attention, "
      "merge, attention) become kernels with their transfers, host ops "
      "(retrieve, estimate, build_tables, ...) the vectorized CPU loops, and "
      "host sampling overlaps the device window attention",
      buildCUDAPipeline);
}
