//===- CacheArguments.cpp - K/V cache arguments read only by attention ----===//

#include "CacheArguments.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;
using namespace mlir::magicpig;

bool mlir::magicpig::isAttentionKeyOrValue(OpOperand &use) {
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

bool mlir::magicpig::allCacheUses(Value value,
                                  llvm::function_ref<bool(OpOperand &)> visit) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (isa<tensor::DimOp>(user))
      continue;
    if (isa<tensor::ExtractSliceOp, tensor::CollapseShapeOp,
            tensor::ExpandShapeOp>(user)) {
      if (!allCacheUses(user->getResult(0), visit))
        return false;
      continue;
    }
    if (!visit(use))
      return false;
  }
  return true;
}

bool mlir::magicpig::isAttentionOnlyCache(BlockArgument arg) {
  auto type = dyn_cast<RankedTensorType>(arg.getType());
  if (!type || type.getRank() < 2 || type.hasStaticShape())
    return false;
  bool reachesKV = false;
  bool onlyRead = allCacheUses(arg, [&](OpOperand &use) {
    Operation *user = use.getOwner();
    auto dps = dyn_cast<DestinationStyleOpInterface>(user);
    if (!dps || !isa<MagicPIGDialect>(user->getDialect()) ||
        !dps.isDpsInput(&use))
      return false;
    reachesKV |= isAttentionKeyOrValue(use);
    return true;
  });
  return onlyRead && reachesKV;
}
