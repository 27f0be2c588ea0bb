//===- CPUPipeline.cpp - magicpig IR to LLVM for the host CPU -------------===//
//
// The stages and their order follow what was checked on the target
// machines (docs in TOOLCHAIN.md): finalize-memref-to-llvm must run before
// convert-scf-to-cf, and convert-openmp-to-llvm after both.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Pipelines/CPUPipeline.h"

#include "magicpig/Conversion/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::magicpig;

void mlir::magicpig::buildCPUBufferizationPipeline(OpPassManager &pm,
                                                   bool freeEarly) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Identity layouts keep every memref contiguous, so the vector loads of
  // the kernels become plain (masked) loads, and C callers pass ordinary
  // descriptors.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.unknownTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  if (freeEarly)
    pm.addPass(createMagicPIGEarlyDealloc());
}

void mlir::magicpig::buildCPULoopLoweringPipeline(
    OpPassManager &pm, const CPUPipelineOptions &options) {
  pm.addPass(createMagicPIGExpandStridedCopies());
  MagicPIGLowerRowContractionsOptions rowContractions;
  rowContractions.vectorWidth = options.vectorWidth;
  pm.addPass(createMagicPIGLowerRowContractions(rowContractions));
  // Outlined first, so that each shared function gets one parallel loop.
  if (options.outlineOps)
    pm.addPass(createMagicPIGOutlineOps());
  if (options.parallelTokenLoops)
    pm.addPass(createMagicPIGParallelTokenLoops());
  // magicpig-parallel-contractions' and the token loops' tiles, as OpenMP
  // loops.
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertLinalgToLoopsPass());
  ConvertMagicPIGToSCFOptions toSCF;
  toSCF.vectorWidth = options.vectorWidth;
  toSCF.keysPerTask = options.keysPerTask;
  toSCF.keyBlock = options.keyBlock;
  pm.addPass(createConvertMagicPIGToSCF(toSCF));
  if (options.approximateVectorMath)
    pm.addPass(createMagicPIGApproximateVectorMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::magicpig::buildHostToLLVMConversions(
    OpPassManager &pm, const CPUPipelineOptions &options) {
  if (options.enableOpenMP) {
    ConvertSCFToOpenMPPassOptions openmp;
    openmp.numThreads = options.numThreads;
    pm.addPass(createConvertSCFToOpenMPPass(openmp));
  }
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  if (options.enableOpenMP)
    pm.addPass(createConvertOpenMPToLLVMPass());

  ConvertVectorToLLVMPassOptions vectorToLLVM;
  // Horizontal sums of dot products as a tree, not lane by lane.
  vectorToLLVM.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertMathToLLVMPass());
  // What convert-math-to-llvm leaves (erf, atan2, ...) becomes libm calls,
  // which the JIT resolves in the running process.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(arith::createArithExpandOpsPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
}

void mlir::magicpig::buildCPUToLLVMPipeline(OpPassManager &pm,
                                            const CPUPipelineOptions &options) {
  buildHostToLLVMConversions(pm, options);
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::magicpig::buildCPUPipeline(OpPassManager &pm,
                                      const CPUPipelineOptions &options) {
  buildCPUBufferizationPipeline(pm, /*freeEarly=*/true);
  buildCPULoopLoweringPipeline(pm, options);
  buildCPUToLLVMPipeline(pm, options);
}

void mlir::magicpig::registerCPUPipeline() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "magicpig-cpu-pipeline",
      "Lower tensor-form magicpig IR (and linalg/tensor glue) to the LLVM "
      "dialect for the host CPU: One-Shot Bufferize, convert-magicpig-to-scf "
      "(vectorized kernels), OpenMP for scf.parallel, then the upstream "
      "conversions to LLVM",
      buildCPUPipeline);
}
