//===- StridedKVArguments.cpp - The magicpig-strided-kv-arguments pass ----===//
//
// Marks the cache arguments that only attention reads with a strided buffer
// layout, so that a caller may pass a view of a larger buffer instead of a
// contiguous copy (Passes.td).
//
//===----------------------------------------------------------------------===//

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGSTRIDEDKVARGUMENTS
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

/// Whether `use` is the key or value operand of an attention-family op.
static bool isAttentionKeyOrValue(OpOperand &use) {
  Operation *op = use.getOwner();
  auto is = [&](Value key, Value value) {
    return use.get() == key || use.get() == value;
  };
  if (auto a = dyn_cast<AttentionOp>(op))
    return is(a.getKey(), a.getValue());
  if (auto w = dyn_cast<WindowAttentionOp>(op))
    return is(w.getKey(), w.getValue());
  if (auto e = dyn_cast<EstimateOp>(op))
    return is(e.getKey(), e.getValue());
  return false;
}

/// Walks the uses of `value` through view-like tensor ops. Returns false if
/// any use may write it or is not a magicpig op's input; sets `reachesKV`
/// when some use is the key or value of an attention.
static bool onlyReadByMagicPIG(Value value, bool &reachesKV) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (isa<tensor::DimOp>(user))
      continue;
    if (isa<tensor::ExtractSliceOp, tensor::CollapseShapeOp,
            tensor::ExpandShapeOp>(user)) {
      if (!onlyReadByMagicPIG(user->getResult(0), reachesKV))
        return false;
      continue;
    }
    auto dps = dyn_cast<DestinationStyleOpInterface>(user);
    if (!dps || !isa<MagicPIGDialect>(user->getDialect()) ||
        !dps.isDpsInput(&use))
      return false;
    reachesKV |= isAttentionKeyOrValue(use);
  }
  return true;
}

static bool isStridableCache(BlockArgument arg) {
  auto type = dyn_cast<RankedTensorType>(arg.getType());
  if (!type || type.getRank() < 2 || type.hasStaticShape())
    return false;
  bool reachesKV = false;
  return onlyReadByMagicPIG(arg, reachesKV) && reachesKV;
}

namespace {
struct StridedKVArgumentsPass
    : magicpig::impl::MagicPIGStridedKVArgumentsBase<StridedKVArgumentsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    auto layoutName = StringAttr::get(
        context, bufferization::BufferizationDialect::kBufferLayoutAttrName);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      for (BlockArgument arg : func.getArguments()) {
        if (!isStridableCache(arg))
          continue;
        int64_t rank = cast<RankedTensorType>(arg.getType()).getRank();
        SmallVector<int64_t> strides(rank, ShapedType::kDynamic);
        strides.back() = 1;
        func.setArgAttr(arg.getArgNumber(), layoutName,
                        StridedLayoutAttr::get(context, ShapedType::kDynamic,
                                               strides));
      }
    }
  }
};
} // namespace
