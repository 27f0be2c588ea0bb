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
  Value query = decodeQuery(b, op);
  auto cached = attendWithLse(b, loc, query, kv.cacheKey, kv.cacheValue,
                              op.getScaleAttr());
  auto appended = attendWithLse(b, loc, query, kv.appendedKey,
                                kv.appendedValue, op.getScaleAttr());
  Type element =
      cast<ShapedType>(op.getResult(0).getType()).getElementType();
  replaceDecodeAttention(
      b, op, mergePartials(b, loc, cached, appended, element).first);
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
    for (auto &[op, kv] : splits)
      splitAttention(op, kv);
  }
};
} // namespace
