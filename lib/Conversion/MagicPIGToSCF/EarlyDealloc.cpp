//===- EarlyDealloc.cpp - Free buffers right after their last use ---------===//
//
// Buffer deallocation frees every buffer at the end of its block; in a
// straight-line prefill of 30 layers that keeps every intermediate alive to
// the end (Passes.td, magicpig-early-dealloc).
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGEARLYDEALLOC
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

/// Whether `op` makes a view of `value` (its result aliases it and nothing
/// else).
static bool isViewOf(Operation *op, Value value) {
  if (auto cast = dyn_cast<memref::CastOp>(op))
    return cast.getSource() == value;
  auto view = dyn_cast<ViewLikeOpInterface>(op);
  return view && view.getViewSource() == value && op->getNumResults() == 1;
}

/// The last op of `block` that uses `buffer` or a view of it (nested uses
/// count at their ancestor in the block); null if some use may let the
/// buffer escape (an op returning a memref that is not a known view) or
/// lies outside the block.
static Operation *lastUse(Value buffer, memref::DeallocOp dealloc) {
  Block *block = dealloc->getBlock();
  SmallVector<Value> worklist = {buffer};
  Operation *last = buffer.getDefiningOp();
  if (!last || last->getBlock() != block)
    return nullptr;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user == dealloc)
        continue;
      if (isViewOf(user, value)) {
        worklist.push_back(user->getResult(0));
      } else if (llvm::any_of(user->getResultTypes(), [](Type t) {
                   return isa<BaseMemRefType>(t);
                 })) {
        return nullptr; // may return an alias
      } else if (isa<memref::DeallocOp>(user)) {
        return nullptr; // freed elsewhere through an alias
      }
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor)
        return nullptr;
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
  }
  return last;
}

namespace {
struct EarlyDeallocPass
    : magicpig::impl::MagicPIGEarlyDeallocBase<EarlyDeallocPass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation()->walk(
        [&](memref::DeallocOp op) { deallocs.push_back(op); });
    for (memref::DeallocOp dealloc : deallocs) {
      Value buffer = dealloc.getMemref();
      if (!buffer.getDefiningOp<memref::AllocOp>())
        continue;
      Operation *last = lastUse(buffer, dealloc);
      if (last && last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};
} // namespace
