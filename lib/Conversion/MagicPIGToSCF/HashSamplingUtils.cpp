//===- HashSamplingUtils.cpp - Shared by the hash and sampling lowerings --===//

#include "HashSamplingUtils.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::magicpig;

Value mlir::magicpig::bucketOfCode(ImplicitLocOpBuilder &b, Value code,
                                   int64_t bits) {
  auto type = cast<IntegerType>(code.getType());
  if (type.getWidth() > static_cast<unsigned>(bits)) {
    Value mask = arith::ConstantOp::create(
        b, b.getIntegerAttr(type, (int64_t(1) << bits) - 1));
    code = arith::AndIOp::create(b, code, mask);
  }
  return arith::IndexCastUIOp::create(b, b.getIndexType(), code);
}

Value mlir::magicpig::indexOfStored(ImplicitLocOpBuilder &b, Value stored) {
  return arith::IndexCastOp::create(b, b.getIndexType(), stored);
}

Value mlir::magicpig::storedOfIndex(ImplicitLocOpBuilder &b, Value index,
                                    Type type) {
  return arith::IndexCastOp::create(b, type, index);
}

int64_t mlir::magicpig::integerLanes(Type integerType, int64_t f32Lanes) {
  int64_t width = integerType.getIntOrFloatBitWidth();
  return std::clamp<int64_t>(f32Lanes * 32 / width, 1, 64);
}

void mlir::magicpig::fillIntegerRange(ImplicitLocOpBuilder &b, Value memref,
                                      ValueRange row, Value begin, Value end,
                                      int64_t value, int64_t f32Lanes) {
  auto type = cast<MemRefType>(memref.getType());
  Type elementType = type.getElementType();
  int64_t lanes = integerLanes(elementType, f32Lanes);
  auto vectorType = VectorType::get({lanes}, elementType);
  Value splat = arith::ConstantOp::create(
      b,
      DenseElementsAttr::get(vectorType, b.getIntegerAttr(elementType, value)));
  Value span = subIndex(b, end, begin);
  Value length = maxIndex(b, span, constantIndex(b, 0));
  AffineMap minorIdentity =
      AffineMap::getMinorIdentityMap(type.getRank(), 1, b.getContext());
  forEachChunk(b, length, lanes, {},
               [&](ImplicitLocOpBuilder &ib, VectorChunk chunk, ValueRange) {
                 SmallVector<Value> indices(row);
                 indices.push_back(addIndex(ib, begin, chunk.offset));
                 vector::TransferWriteOp::create(
                     ib, /*result=*/Type(), splat, memref, indices,
                     minorIdentity, chunk.mask, ib.getBoolArrayAttr({true}));
                 return SmallVector<Value>{};
               });
}
