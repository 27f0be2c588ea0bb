//===- ConvertMagicPIGToGPU.cpp - The convert-magicpig-to-gpu pass --------===//
//
// Checks the target options, composes the per-family device patterns
// (AttentionKernel.cpp, MergeKernel.cpp, SimHashKernel.cpp) and reports the
// device ops that could not be placed.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "../MagicPIGToSCF/LoweringUtils.h"

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_CONVERTMAGICPIGTOGPU
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

void mlir::magicpig::populateMagicPIGToGPUPatterns(
    RewritePatternSet &patterns, const GPULoweringOptions &options) {
  populateAttentionToGPUPatterns(patterns, options);
  populateMergeToGPUPatterns(patterns, options);
  populateSimHashToGPUPatterns(patterns, options);
}

/// The ops this pass moves to the device.
static bool isDeviceOp(Operation *op) {
  if (auto simhash = dyn_cast<SimHashOp>(op))
    return isDeviceSimHash(simhash);
  return isa<AttentionOp, WindowAttentionOp, MergeOp>(op);
}

namespace {
struct ConvertMagicPIGToGPUPass
    : magicpig::impl::ConvertMagicPIGToGPUBase<ConvertMagicPIGToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    Operation *root = getOperation();
    std::string error;
    FailureOr<GPUTargetInfo> target = GPUTargetInfo::forChip(chip, error);
    if (failed(target)) {
      root->emitError() << "convert-magicpig-to-gpu: " << error;
      return signalPassFailure();
    }
    if (threadsPerBlock < target->warpSize ||
        threadsPerBlock % target->warpSize != 0 ||
        threadsPerBlock > target->maxThreadsPerBlock) {
      root->emitError() << "convert-magicpig-to-gpu: 'threads-per-block' "
                           "must be a multiple of the warp size ("
                        << target->warpSize << ") between "
                        << target->warpSize << " and "
                        << target->maxThreadsPerBlock << ", got "
                        << static_cast<int64_t>(threadsPerBlock);
      return signalPassFailure();
    }

    // The device kernels take one key range for the whole batch.
    WalkResult padded = root->walk([](Operation *op) {
      auto attention = dyn_cast<AttentionOp>(op);
      auto window = dyn_cast<WindowAttentionOp>(op);
      if ((attention && attention.getKeyLengths()) ||
          (window && (window.getKeyLengths() || window.getWindowStarts()))) {
        op->emitOpError() << "convert-magicpig-to-gpu: per-sequence "
                             "'lengths' and 'starts' (a padded batch) are "
                             "not supported on the device yet";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (padded.wasInterrupted())
      return signalPassFailure();

    if (failed(checkBufferized(root, getArgument(),
                               "--magicpig-cuda-pipeline")))
      return signalPassFailure();

    GPULoweringOptions options;
    options.target = *target;
    options.threadsPerBlock = threadsPerBlock;
    options.overlapHost = overlapHost;
    RewritePatternSet patterns(&getContext());
    populateMagicPIGToGPUPatterns(patterns, options);
    walkAndApplyPatterns(root, std::move(patterns));

    WalkResult left = root->walk([](Operation *op) {
      if (!isDeviceOp(op))
        return WalkResult::advance();
      op->emitOpError() << "could not be placed on the device: its memrefs "
                           "must be host buffers (default memory space)";
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
