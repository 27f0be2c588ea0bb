//===- SplitAppendedKV.cpp - The magicpig-split-appended-kv pass ----------===//
//
// Decode attention over concat(cache, new rows) becomes attention over the
// cache and over the new rows, merged by log-sum-exp (AppendedKV.h), so the
// concatenation and its copy of the cache disappear.
//
//===----------------------------------------------------------------------===//

#include "AppendedKV.h"

#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGSPLITAPPENDEDKV
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

static void splitAttention(AttentionOp op, const AppendedKV &kv) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value query = op.getQuery();
  auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
  bool hasLength = op.hasQueryLength();
  if (hasLength) // [B, Hq, 1, d] -> [B, Hq, d]
    query = tensor::CollapseShapeOp::create(
        b, loc, query, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  auto cached = attendWithLse(b, loc, query, kv.cacheKey, kv.cacheValue,
                              op.getScaleAttr());
  auto appended = attendWithLse(b, loc, query, kv.appendedKey,
                                kv.appendedValue, op.getScaleAttr());
  Value result =
      mergePartials(b, loc, cached, appended, resultType.getElementType())
          .first;
  if (hasLength)
    result = tensor::ExpandShapeOp::create(
        b, loc, resultType, result,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  op.getResult(0).replaceAllUsesWith(result);
  op.erase();
}

namespace {
struct SplitAppendedKVPass
    : magicpig::impl::MagicPIGSplitAppendedKVBase<SplitAppendedKVPass> {
  void runOnOperation() override {
    SmallVector<std::pair<AttentionOp, AppendedKV>> splits;
    getOperation()->walk([&](AttentionOp op) {
      if (!isDecodeAttention(op))
        return;
      if (auto kv = matchAppendedKV(op.getKey(), op.getValue()))
        splits.emplace_back(op, *kv);
    });
    for (auto &[op, kv] : splits) {
      Operation *keyConcat = op.getKey().getDefiningOp();
      Operation *valueConcat = op.getValue().getDefiningOp();
      splitAttention(op, kv);
      // The concatenations are usually left without users: drop them now,
      // before bufferization would copy the cache into them.
      if (keyConcat->use_empty())
        keyConcat->erase();
      if (valueConcat != keyConcat && valueConcat->use_empty())
        valueConcat->erase();
    }
  }
};
} // namespace
