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
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
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
    rewriteComputedReshapes(getOperation());
    numberLayers();
    RewritePatternSet patterns(&getContext());
    populateRaiseLinalgAttentionPatterns(patterns);
    populateRaiseTosaAttentionPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Sizes that the exported code read from the raised chains (a computed
    // reshape's shape, asserts) are read from what those chains were
    // computed from, so the chains die; a dead concatenation of the cache
    // kept alive by a tensor.dim would still copy the cache.
    RewritePatternSet sizes(&getContext());
    memref::populateResolveRankedShapedTypeResultDimsPatterns(sizes);
    if (failed(applyPatternsGreedily(getOperation(), std::move(sizes))))
      return signalPassFailure();
    remarkDeclined();
    getOperation()->walk([](Operation *op) {
      op->removeAttr(kOrdinalAttr);
      if (!isa<AttentionOp>(op))
        op->removeAttr(kLayerAttr);
    });
  }

  /// Whether `op` ends an attention-like chain (raisable or not), and if so
  /// whether it is raisable.
  static bool attentionLike(Operation *op, bool &raisable) {
    if (op->getNumResults() != 1)
      return false;
    for (StepClassifier classify : {StepClassifier(classifyLinalgStep),
                                    StepClassifier(classifyTosaStep)}) {
      if (classify(op->getResult(0)).kind != StepKind::Matmul)
        continue;
      MatchDecline decline;
      raisable = succeeded(matchAttention(op, classify, decline));
      if (raisable || decline.attentionLike)
        return true;
    }
    return false;
  }

  /// Numbers the attention-like chains of each function in program order:
  /// a model's layers, one attention each. Where a function declines some,
  /// the raised ones keep their number as `magicpig.layer`, so a declined
  /// layer (a sliding window, say) does not shift the layers after it.
  void numberLayers() {
    Builder b(&getContext());
    getOperation()->walk([&](FunctionOpInterface func) {
      SmallVector<std::pair<Operation *, bool>> chains;
      func->walk([&](Operation *op) {
        bool raisable = false;
        if (attentionLike(op, raisable))
          chains.push_back({op, raisable});
      });
      bool anyDeclined = llvm::any_of(chains, [](auto &c) { return !c.second; });
      for (auto [i, chain] : llvm::enumerate(chains)) {
        chain.first->setAttr(kOrdinalAttr, b.getI64IntegerAttr(i));
        if (anyDeclined)
          chain.first->setAttr(kLayerAttr, b.getI64IntegerAttr(i));
      }
    });
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
            decline.attentionLike) {
          InFlightDiagnostic remark = op->emitRemark()
                                      << "magicpig-raise-attention: declined: "
                                      << decline.reason;
          auto ordinal = op->getAttrOfType<IntegerAttr>(kOrdinalAttr);
          auto func = op->getParentOfType<FunctionOpInterface>();
          if (ordinal && func)
            remark << " (layer " << ordinal.getInt() << " of @"
                   << func.getName() << ": its attention stays as exported)";
        }
      }
    });
  }
};

} // namespace
