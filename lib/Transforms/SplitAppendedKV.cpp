//===- SplitAppendedKV.cpp - The magicpig-split-appended-kv pass ----------===//
//
// Decode attention over concat(cache, new rows) becomes attention over the
// cache and over the new rows, merged by log-sum-exp (AppendedKV.h), so the
// concatenation and its copy of the cache disappear.
//
//===----------------------------------------------------------------------===//

#include "AppendedKV.h"

#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGSPLITAPPENDEDKV
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

/// starts[b] = max(0, lengths[b] + appended - window) as the i32 `[B]`
/// tensor window_attention's `starts` takes.
static Value windowStartsOfLengths(OpBuilder &b, Location loc, Value lengths,
                                   Value appended, int64_t window) {
  auto type = cast<RankedTensorType>(lengths.getType());
  Type i32 = b.getI32Type();
  SmallVector<Value> dynamic;
  if (type.isDynamicDim(0))
    dynamic.push_back(tensor::DimOp::create(b, loc, lengths, 0));
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), i32, dynamic);
  AffineMap id = b.getMultiDimIdentityMap(1);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{lengths}, ValueRange{init},
      ArrayRef<AffineMap>{id, id},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Type element = args[0].getType();
        Value zero =
            arith::ConstantOp::create(nb, nloc, nb.getIntegerAttr(element, 0));
        Value length = arith::MaxSIOp::create(nb, nloc, args[0], zero);
        Value rows = arith::IndexCastOp::create(nb, nloc, element, appended);
        Value w =
            arith::ConstantOp::create(nb, nloc, nb.getIntegerAttr(element, window));
        Value shift = arith::SubIOp::create(nb, nloc, rows, w);
        Value sum = arith::AddIOp::create(nb, nloc, length, shift);
        Value first = arith::MaxSIOp::create(nb, nloc, sum, zero);
        Value narrow =
            element == i32 ? first
                           : arith::TruncIOp::create(nb, nloc, i32, first)
                                 .getResult();
        linalg::YieldOp::create(nb, nloc, narrow);
      });
  return generic.getResult(0);
}

static void splitAttention(AttentionOp op, const AppendedKV &kv) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value query = decodeQuery(b, op);
  // With a sliding window the query (the last of the M + A keys) sees keys
  // j >= M + A - W: the cache from max(0, M + A - W), the appended rows
  // from max(0, A - W).
  Value cacheFirst, appendedFirst, cacheStarts;
  if (op.getKeyLengths() && op.getWindow()) {
    // A padded batch: sequence b's query is at position l[b], so its cache
    // keys start at max(0, l[b] + A - W), per sequence.
    cacheStarts = windowStartsOfLengths(
        b, loc, op.getKeyLengths(),
        tensor::DimOp::create(b, loc, kv.appendedKey, 2), *op.getWindow());
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value w = arith::ConstantIndexOp::create(b, loc, *op.getWindow());
    Value appended = tensor::DimOp::create(b, loc, kv.appendedKey, 2);
    appendedFirst = arith::MaxSIOp::create(
        b, loc, arith::SubIOp::create(b, loc, appended, w), zero);
  } else if (std::optional<int64_t> window = op.getWindow()) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value w = arith::ConstantIndexOp::create(b, loc, *window);
    Value cached = tensor::DimOp::create(b, loc, kv.cacheKey, 2);
    Value appended = tensor::DimOp::create(b, loc, kv.appendedKey, 2);
    Value fromEnd = arith::SubIOp::create(b, loc, appended, w);
    cacheFirst = arith::MaxSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, cached, fromEnd), zero);
    appendedFirst = arith::MaxSIOp::create(b, loc, fromEnd, zero);
  }
  // The padding of a batch is in the cache part; the appended rows are
  // every sequence's own.
  auto cached = attendWithLse(b, loc, query, kv.cacheKey, kv.cacheValue,
                              op.getScaleAttr(), cacheFirst,
                              op.getKeyLengths(), cacheStarts);
  auto appended = attendWithLse(b, loc, query, kv.appendedKey,
                                kv.appendedValue, op.getScaleAttr(),
                                appendedFirst);
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
