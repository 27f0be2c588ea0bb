//===- ConvertMagicPIGToSCF.cpp - The convert-magicpig-to-scf pass --------===//
//
// Composes the per-family lowering patterns; the lowerings themselves live
// in DenseAttentionLowering.cpp, QueryBlockAttentionLowering.cpp,
// HashLowering.cpp and SamplingLowering.cpp.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_CONVERTMAGICPIGTOSCF
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

namespace {
struct ConvertMagicPIGToSCFPass
    : magicpig::impl::ConvertMagicPIGToSCFBase<ConvertMagicPIGToSCFPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth < 1 || vectorWidth > kMaxVectorWidth) {
      getOperation()->emitError()
          << "convert-magicpig-to-scf: 'vector-width' must be in [1, "
          << kMaxVectorWidth << "], got "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    if (keysPerTask < 1 || keyBlock < 1) {
      getOperation()->emitError()
          << "convert-magicpig-to-scf: 'keys-per-task' and 'key-block' must "
             "be >= 1, got "
          << static_cast<int64_t>(keysPerTask) << " and "
          << static_cast<int64_t>(keyBlock);
      return signalPassFailure();
    }
    if (failed(checkBufferized(getOperation(), getArgument(),
                               "--magicpig-cpu-pipeline")))
      return signalPassFailure();

    LoweringOptions options;
    options.vectorWidth = vectorWidth;
    options.keysPerTask = keysPerTask;
    options.keyBlock = keyBlock;

    RewritePatternSet patterns(&getContext());
    populateQueryBlockAttentionLoweringPatterns(patterns, options);
    populateDenseAttentionLoweringPatterns(patterns, options);
    populateHashLoweringPatterns(patterns, options);
    populateSamplingLoweringPatterns(patterns, options);

    ConversionTarget target(getContext());
    target.addIllegalDialect<MagicPIGDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
