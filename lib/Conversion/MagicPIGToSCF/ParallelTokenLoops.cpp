//===- ParallelTokenLoops.cpp - Parallel tiles over the token dimension ---===//
//
// linalg ops on buffers with a dynamic parallel loop (a prefill's token
// rows) become scf.forall tiles along it (Passes.td,
// magicpig-parallel-token-loops).
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGPARALLELTOKENLOOPS
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

static std::optional<unsigned> firstDynamicParallelLoop(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // A static empty loop leaves nothing to run in parallel (and tiling an op
  // with an empty dimension is not defined upstream).
  if (llvm::is_contained(ranges, 0))
    return std::nullopt;
  for (auto [i, type] : llvm::enumerate(op.getIteratorTypesArray()))
    if (type == utils::IteratorType::parallel && ShapedType::isDynamic(ranges[i]))
      return i;
  return std::nullopt;
}

namespace {
struct ParallelTokenLoopsPass
    : magicpig::impl::MagicPIGParallelTokenLoopsBase<ParallelTokenLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (chunks < 1) {
      getOperation()->emitError(
          "magicpig-parallel-token-loops: chunks must be at least 1");
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::LinalgOp, unsigned>> candidates;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (!op.hasPureBufferSemantics() ||
          op->getParentOfType<scf::ForallOp>() ||
          op->getParentOfType<scf::ParallelOp>())
        return;
      if (std::optional<unsigned> loop = firstDynamicParallelLoop(op))
        candidates.emplace_back(op, *loop);
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, loop] : candidates) {
      rewriter.setInsertionPoint(op);
      Location loc = op.getLoc();
      // The loop's extent, from the operand dimension that defines it.
      SmallVector<Range> ranges = op.createLoopRanges(rewriter, loc);
      Value extent =
          getValueOrCreateConstantIndexOp(rewriter, loc, ranges[loop].size);
      AffineExpr s0 = rewriter.getAffineSymbolExpr(0);
      Value chunk = affine::AffineApplyOp::create(
          rewriter, loc, AffineMap::get(0, 1, s0.ceilDiv(chunks)),
          ValueRange{extent});
      // An empty extent gives chunk 0, which tiling reads as "do not tile
      // this loop": use at least 1.
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      chunk = arith::MaxUIOp::create(rewriter, loc, chunk, one);
      SmallVector<OpFoldResult> tileSizes(op.getNumLoops(),
                                          rewriter.getIndexAttr(0));
      tileSizes[loop] = chunk;
      scf::SCFTilingOptions options;
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      options.setTileSizes(tileSizes);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue; // left sequential
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
