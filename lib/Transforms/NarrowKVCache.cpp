//===- NarrowKVCache.cpp - The magicpig-narrow-kv-cache pass --------------===//
//
// Takes the K/V cache arguments that only attention reads in bf16 or f16;
// the attention, window and estimate lowerings widen each row as they load
// it (Passes.td).
//
//===----------------------------------------------------------------------===//

#include "CacheArguments.h"

#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGNARROWKVCACHE
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

/// An f32 cache whose every read is an attention's key or value: those
/// operands take any float element type, so the cache may narrow.
static bool isNarrowableCache(BlockArgument arg) {
  if (!isAttentionOnlyCache(arg) ||
      !cast<RankedTensorType>(arg.getType()).getElementType().isF32())
    return false;
  return allCacheUses(arg, isAttentionKeyOrValue);
}

/// Gives `value` and the views taken of it the element type `element`.
static void narrowViews(Value value, Type element) {
  value.setType(cast<RankedTensorType>(value.getType()).clone(element));
  for (Operation *user : value.getUsers())
    if (isa<tensor::ExtractSliceOp, tensor::CollapseShapeOp,
            tensor::ExpandShapeOp>(user))
      narrowViews(user->getResult(0), element);
}

namespace {
struct NarrowKVCachePass
    : magicpig::impl::MagicPIGNarrowKVCacheBase<NarrowKVCachePass> {
  using Base::Base;
  void runOnOperation() override {
    Builder b(&getContext());
    Type element;
    if (kvType == "bf16")
      element = b.getBF16Type();
    else if (kvType == "f16")
      element = b.getF16Type();
    else if (kvType != "f32") {
      getOperation().emitError()
          << "magicpig-narrow-kv-cache: kv-type must be f32, bf16 or f16, got '"
          << kvType << "'";
      return signalPassFailure();
    }
    if (!element)
      return;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      bool changed = false;
      for (BlockArgument arg : func.getArguments())
        if (isNarrowableCache(arg)) {
          narrowViews(arg, element);
          changed = true;
        }
      if (changed)
        func.setType(FunctionType::get(&getContext(),
                                       func.front().getArgumentTypes(),
                                       func.getResultTypes()));
    }
  }
};
} // namespace
