//===- AppendedKV.cpp - Attention over a cache with appended rows ---------===//

#include "AppendedKV.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::magicpig;

static tensor::ConcatOp tokenConcat(Value v) {
  auto concat = v.getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getDim() != 2 || concat.getInputs().size() != 2 ||
      cast<ShapedType>(v.getType()).getRank() != 4)
    return nullptr;
  return concat;
}

std::optional<AppendedKV> mlir::magicpig::matchAppendedKV(Value key,
                                                          Value value) {
  tensor::ConcatOp k = tokenConcat(key), v = tokenConcat(value);
  if (!k || !v)
    return std::nullopt;
  return AppendedKV{k.getInputs()[0], k.getInputs()[1], v.getInputs()[0],
                    v.getInputs()[1]};
}

bool mlir::magicpig::isDecodeAttention(AttentionOp op) {
  auto q = cast<ShapedType>(op.getQuery().getType());
  return q.getRank() == 3 || q.getDimSize(2) == 1;
}

static Value emptyLike(OpBuilder &b, Location loc, Value query, Value sizeOf,
                       int64_t dim, Type elementType, bool withLastDim) {
  SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, query, 0),
                                     tensor::getMixedSize(b, loc, query, 1)};
  if (withLastDim)
    sizes.push_back(tensor::getMixedSize(b, loc, sizeOf, dim));
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

std::pair<Value, Value>
mlir::magicpig::attendWithLse(OpBuilder &b, Location loc, Value query,
                              Value key, Value value, FloatAttr scale,
                              Value firstKey, Value keyLengths,
                              Value windowStarts) {
  Type f32 = b.getF32Type();
  Value out = emptyLike(b, loc, query, value, 3, f32, true);
  Value lse = emptyLike(b, loc, query, value, 3, f32, false);
  if (!firstKey)
    firstKey = arith::ConstantIndexOp::create(b, loc, 0);
  auto attended = WindowAttentionOp::create(
      b, loc, TypeRange{out.getType(), lse.getType()}, query, key, value,
      firstKey, out, lse, b.getI64IntegerAttr(0), scale, keyLengths,
      windowStarts);
  return {attended.getResult(0), attended.getResult(1)};
}

std::pair<Value, Value>
mlir::magicpig::mergePartials(OpBuilder &b, Location loc,
                              std::pair<Value, Value> first,
                              std::pair<Value, Value> second,
                              Type elementType) {
  Value out = emptyLike(b, loc, first.first, first.first, 2, elementType, true);
  Value lse = emptyLike(b, loc, first.first, first.first, 2, b.getF32Type(),
                        false);
  auto merged = MergeOp::create(
      b, loc, TypeRange{out.getType(), lse.getType()}, first.first,
      first.second, second.first, second.second, out, lse);
  return {merged.getResult(0), merged.getResult(1)};
}

Value mlir::magicpig::decodeQuery(OpBuilder &b, AttentionOp op) {
  if (!op.hasQueryLength())
    return op.getQuery();
  return tensor::CollapseShapeOp::create(
      b, op.getLoc(), op.getQuery(),
      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
}

void mlir::magicpig::replaceDecodeAttention(OpBuilder &b, AttentionOp op,
                                            Value result) {
  auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
  if (op.hasQueryLength())
    result = tensor::ExpandShapeOp::create(
        b, op.getLoc(), resultType, result,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  auto keyConcat = op.getKey().getDefiningOp<tensor::ConcatOp>();
  auto valueConcat = op.getValue().getDefiningOp<tensor::ConcatOp>();
  op.getResult(0).replaceAllUsesWith(result);
  op.erase();
  if (keyConcat && keyConcat->use_empty())
    keyConcat->erase();
  if (valueConcat && valueConcat != keyConcat && valueConcat->use_empty())
    valueConcat->erase();
}
