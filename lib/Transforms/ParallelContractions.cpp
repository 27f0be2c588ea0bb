//===- ParallelContractions.cpp - magicpig-parallel-contractions ----------===//
//
// Splits the output features of the model's large contractions (the weight
// matmuls) into chunks of an scf.forall, which the CPU pipeline runs as an
// OpenMP loop. Each chunk keeps the contraction's loop order, so its
// innermost loop still vectorizes. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGPARALLELCONTRACTIONS
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

/// Elements of the largest statically shaped input, or 0.
static int64_t largestStaticInput(linalg::LinalgOp op) {
  int64_t largest = 0;
  for (OpOperand *input : op.getDpsInputOperands())
    if (auto type = dyn_cast<ShapedType>(input->get().getType());
        type && type.hasStaticShape())
      largest = std::max(largest, type.getNumElements());
  return largest;
}

/// The parallel loop with the largest static range (the output features of
/// a matmul), if any.
static std::optional<unsigned> widestParallelLoop(linalg::LinalgOp op) {
  std::optional<unsigned> widest;
  int64_t widestRange = 1;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // A static empty loop leaves nothing to split (and tiling an op with an
  // empty dimension is not defined upstream).
  if (llvm::is_contained(ranges, 0))
    return std::nullopt;
  for (auto [i, type] : llvm::enumerate(op.getIteratorTypesArray()))
    if (type == utils::IteratorType::parallel &&
        !ShapedType::isDynamic(ranges[i]) && ranges[i] > widestRange) {
      widest = i;
      widestRange = ranges[i];
    }
  return widest;
}

namespace {
struct ParallelContractionsPass
    : magicpig::impl::MagicPIGParallelContractionsBase<
          ParallelContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (chunks < 1) {
      getOperation()->emitError()
          << "magicpig-parallel-contractions: option 'chunks' must be >= 1, got "
          << static_cast<int64_t>(chunks);
      return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> contractions;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.getNumReductionLoops() > 0 &&
          op.getNumParallelLoops() > 0 &&
          largestStaticInput(op) >= minWeightElements &&
          !op->getParentOfType<scf::ForallOp>())
        contractions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions) {
      std::optional<unsigned> loop = widestParallelLoop(op);
      if (!loop)
        continue;
      int64_t range = op.getStaticLoopRanges()[*loop];
      int64_t chunk = llvm::divideCeil(range, chunks);
      SmallVector<OpFoldResult> tileSizes(op.getNumLoops(),
                                          rewriter.getIndexAttr(0));
      tileSizes[*loop] = rewriter.getIndexAttr(chunk);
      scf::SCFTilingOptions options;
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      options.setTileSizes(tileSizes);
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue; // left sequential
      rewriter.replaceOp(op, tiled->replacements);
    }
  }
};
} // namespace
