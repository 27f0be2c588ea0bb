//===- RaiseAttention.cpp - The magicpig-raise-attention pass -------------===//
//
// Composes the per-family raising patterns (RaiseLinalgAttention.cpp,
// RaiseTosaAttention.cpp; the shared matcher is RaiseAttentionMatcher.cpp)
// and runs them greedily, so the dead pieces of each raised chain go with
// the driver's DCE. Chains that still look like attention afterwards were
// declined: each gets one remark that says why. The remark is emitted here,
// once, rather than from the patterns, which the driver may try many times.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Transforms/Passes.h"

#include "AttentionMatchers.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGRAISEATTENTION
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

namespace {

struct MagicPIGRaiseAttentionPass
    : magicpig::impl::MagicPIGRaiseAttentionBase<MagicPIGRaiseAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateRaiseLinalgAttentionPatterns(patterns);
    populateRaiseTosaAttentionPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    remarkDeclined();
  }

  /// Every P.V-like matmul left over that reads a softmax was declined.
  void remarkDeclined() {
    getOperation()->walk([](Operation *op) {
      if (op->getNumResults() != 1)
        return;
      for (StepClassifier classify : {StepClassifier(classifyLinalgStep),
                                      StepClassifier(classifyTosaStep)}) {
        if (classify(op->getResult(0)).kind != StepKind::Matmul)
          continue;
        MatchDecline decline;
        if (failed(matchAttention(op, classify, decline)) &&
            decline.attentionLike)
          op->emitRemark() << "magicpig-raise-attention: declined: "
                           << decline.reason;
      }
    });
  }
};

} // namespace
