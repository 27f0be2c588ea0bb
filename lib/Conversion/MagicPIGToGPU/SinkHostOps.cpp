//===- SinkHostOps.cpp - Issue device work before host work ---------------===//
//
// magicpig-sink-host-ops: a host op (tensor form) moves down to just before
// its first user in the block, so that independent device ops that came
// after it are issued first and overlap it.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGSINKHOSTOPS
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

/// The ops of the host half of the heterogeneous graph.
static bool isHostOp(Operation *op) {
  return isa<RetrieveOp, EstimateOp, BuildTablesOp, CenterKeysOp, KeyNormsOp>(
      op);
}

/// The first op of `op`'s block that uses a result of `op` (itself or
/// through an op nested in it); null when nothing in the block does.
static Operation *findFirstUser(Operation *op) {
  Block *block = op->getBlock();
  Operation *first = nullptr;
  for (Operation *user : op->getUsers()) {
    Operation *inBlock = block->findAncestorOpInBlock(*user);
    if (inBlock && (!first || inBlock->isBeforeInBlock(first)))
      first = inBlock;
  }
  return first;
}

static void sinkHostOps(Block &block) {
  // Last to first, so that a host op feeding another host op follows it
  // down (retrieve behind estimate).
  SmallVector<Operation *> hostOps;
  for (Operation &op : block)
    if (isHostOp(&op) &&
        cast<DestinationStyleOpInterface>(op).hasPureTensorSemantics())
      hostOps.push_back(&op);
  for (Operation *op : llvm::reverse(hostOps))
    if (Operation *user = findFirstUser(op); user && user != op->getNextNode())
      op->moveBefore(user);
}

namespace {
struct MagicPIGSinkHostOpsPass
    : magicpig::impl::MagicPIGSinkHostOpsBase<MagicPIGSinkHostOpsPass> {
  void runOnOperation() override {
    getOperation()->walk([](Block *block) { sinkHostOps(*block); });
  }
};
} // namespace
