//===- LoweringUtils.cpp - Building blocks of the magicpig lowerings ------===//

#include "LoweringUtils.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::magicpig;

LogicalResult mlir::magicpig::checkBufferized(Operation *root, StringRef pass,
                                             StringRef pipeline) {
  WalkResult unbufferized = root->walk([&](Operation *op) {
    auto dps = dyn_cast<DestinationStyleOpInterface>(op);
    if (!dps || !isa<MagicPIGDialect>(op->getDialect()) ||
        dps.hasPureBufferSemantics())
      return WalkResult::advance();
    op->emitOpError() << "must be bufferized before " << pass
                      << " (run one-shot-bufferize, or the whole " << pipeline
                      << ")";
    return WalkResult::interrupt();
  });
  return failure(unbufferized.wasInterrupted());
}

Value mlir::magicpig::constantIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value mlir::magicpig::constantF32(ImplicitLocOpBuilder &b, float value) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
}

Value mlir::magicpig::dimSize(ImplicitLocOpBuilder &b, Value memref,
                              int64_t dim) {
  int64_t size = cast<MemRefType>(memref.getType()).getDimSize(dim);
  if (!ShapedType::isDynamic(size))
    return constantIndex(b, size);
  return memref::DimOp::create(b, memref, dim);
}

Value mlir::magicpig::addIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return b.createOrFold<arith::AddIOp>(lhs, rhs);
}
Value mlir::magicpig::subIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return b.createOrFold<arith::SubIOp>(lhs, rhs);
}
Value mlir::magicpig::mulIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return b.createOrFold<arith::MulIOp>(lhs, rhs);
}
Value mlir::magicpig::minIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return b.createOrFold<arith::MinSIOp>(lhs, rhs);
}
Value mlir::magicpig::maxIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return b.createOrFold<arith::MaxSIOp>(lhs, rhs);
}
Value mlir::magicpig::ceilDivIndex(ImplicitLocOpBuilder &b, Value lhs,
                                   Value rhs) {
  return b.createOrFold<arith::CeilDivUIOp>(lhs, rhs);
}

SmallVector<Value> mlir::magicpig::buildFor(ImplicitLocOpBuilder &b, Value lb,
                                            Value ub, Value step,
                                            ValueRange init, LoopBody body) {
  auto loop = scf::ForOp::create(
      b, lb, ub, step, init,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange carried) {
        ImplicitLocOpBuilder ib(loc, nested);
        scf::YieldOp::create(ib, body(ib, iv, carried));
      });
  return SmallVector<Value>(loop.getResults());
}

void mlir::magicpig::buildIf(
    ImplicitLocOpBuilder &b, Value cond,
    llvm::function_ref<void(ImplicitLocOpBuilder &b)> body) {
  scf::IfOp::create(b, cond, [&](OpBuilder &nested, Location loc) {
    ImplicitLocOpBuilder ib(loc, nested);
    body(ib);
    scf::YieldOp::create(ib);
  });
}

void mlir::magicpig::buildAllocaScope(
    ImplicitLocOpBuilder &b,
    llvm::function_ref<void(ImplicitLocOpBuilder &)> body) {
  auto scope = memref::AllocaScopeOp::create(b, TypeRange{});
  Block *block = &scope.getBodyRegion().emplaceBlock();
  auto inner =
      ImplicitLocOpBuilder::atBlockBegin(b.getLoc(), block, b.getListener());
  body(inner);
  memref::AllocaScopeReturnOp::create(inner, ValueRange{});
}

void mlir::magicpig::buildParallel(
    ImplicitLocOpBuilder &b, ValueRange upperBounds,
    llvm::function_ref<void(ImplicitLocOpBuilder &b, ValueRange ivs)> body) {
  SmallVector<Value> zeros(upperBounds.size(), constantIndex(b, 0));
  SmallVector<Value> ones(upperBounds.size(), constantIndex(b, 1));
  scf::ParallelOp::create(b, zeros, upperBounds, ones,
                          [&](OpBuilder &nested, Location loc, ValueRange ivs) {
                            ImplicitLocOpBuilder ib(loc, nested);
                            body(ib, ivs);
                          });
}

SmallVector<Value> mlir::magicpig::forEachChunk(ImplicitLocOpBuilder &b,
                                                Value length, int64_t width,
                                                ValueRange init,
                                                ChunkBody body) {
  Value widthValue = constantIndex(b, width);
  std::optional<int64_t> staticLength = getConstantIntValue(length);

  // Full chunks end at the largest multiple of the width.
  Value fullEnd = mulIndex(
      b, b.createOrFold<arith::DivUIOp>(length, widthValue), widthValue);
  SmallVector<Value> carried(init);
  if (getConstantIntValue(fullEnd) != 0)
    carried =
        buildFor(b, constantIndex(b, 0), fullEnd, widthValue, init,
                 [&](ImplicitLocOpBuilder &ib, Value offset, ValueRange args) {
                   return body(ib, VectorChunk{offset, Value()}, args);
                 });

  if (staticLength && *staticLength % width == 0)
    return carried;
  auto maskType = VectorType::get({width}, b.getI1Type());
  Value mask = vector::CreateMaskOp::create(
      b, maskType, ValueRange{subIndex(b, length, fullEnd)});
  return body(b, VectorChunk{fullEnd, mask}, carried);
}

/// Indices of the chunk: the row, then the chunk offset.
static SmallVector<Value> chunkIndices(ValueRange row, VectorChunk chunk) {
  SmallVector<Value> indices(row);
  indices.push_back(chunk.offset);
  return indices;
}

Value mlir::magicpig::readChunkF32(ImplicitLocOpBuilder &b, Value memref,
                                   ValueRange row, VectorChunk chunk,
                                   int64_t width, float padding) {
  auto type = cast<MemRefType>(memref.getType());
  Type elementType = type.getElementType();
  auto vectorType = VectorType::get({width}, elementType);
  Value pad = arith::ConstantOp::create(
      b, b.getFloatAttr(elementType, static_cast<double>(padding)));
  // The mask, not the bounds, keeps the tail chunk inside the row.
  Value read = vector::TransferReadOp::create(
      b, vectorType, memref, chunkIndices(row, chunk),
      AffineMap::getMinorIdentityMap(type.getRank(), 1, b.getContext()), pad,
      chunk.mask, b.getBoolArrayAttr({true}));
  if (elementType.isF32())
    return read;
  return arith::ExtFOp::create(b, VectorType::get({width}, b.getF32Type()),
                               read);
}

void mlir::magicpig::writeChunkF32(ImplicitLocOpBuilder &b, Value value,
                                   Value memref, ValueRange row,
                                   VectorChunk chunk) {
  auto type = cast<MemRefType>(memref.getType());
  auto vectorType = cast<VectorType>(value.getType());
  Type elementType = type.getElementType();
  if (!elementType.isF32())
    value = arith::TruncFOp::create(
        b, VectorType::get(vectorType.getShape(), elementType), value);
  vector::TransferWriteOp::create(
      b, /*result=*/Type(), value, memref, chunkIndices(row, chunk),
      AffineMap::getMinorIdentityMap(type.getRank(), 1, b.getContext()),
      chunk.mask, b.getBoolArrayAttr({true}));
}

Value mlir::magicpig::splatF32(ImplicitLocOpBuilder &b, int64_t width,
                               Value value) {
  return vector::BroadcastOp::create(
      b, VectorType::get({width}, b.getF32Type()), value);
}

Value mlir::magicpig::buildRowDot(ImplicitLocOpBuilder &b, Value lhs,
                                  ValueRange lhsRow, Value rhs,
                                  ValueRange rhsRow, Value length,
                                  int64_t width) {
  Value zero = splatF32(b, width, constantF32(b, 0.0f));
  Value sum = forEachChunk(
      b, length, width, zero,
      [&](ImplicitLocOpBuilder &ib, VectorChunk chunk, ValueRange acc) {
        Value x = readChunkF32(ib, lhs, lhsRow, chunk, width);
        Value y = readChunkF32(ib, rhs, rhsRow, chunk, width);
        return SmallVector<Value>{vector::FMAOp::create(ib, x, y, acc[0])};
      })[0];
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum);
}

void mlir::magicpig::prefetchRow(ImplicitLocOpBuilder &b, Value memref,
                                 ValueRange row, Value length,
                                 int64_t locality) {
  constexpr int64_t kCacheLineBytes = 64;
  auto type = cast<MemRefType>(memref.getType());
  int64_t elementBytes =
      std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
  int64_t lineElements = std::max<int64_t>(1, kCacheLineBytes / elementBytes);
  auto prefetchAt = [&](ImplicitLocOpBuilder &ib, Value offset) {
    SmallVector<Value> indices(row);
    indices.push_back(offset);
    memref::PrefetchOp::create(ib, memref, indices, ib.getBoolAttr(false),
                               ib.getI32IntegerAttr(locality),
                               ib.getBoolAttr(true));
  };
  // A short static row gets straight-line prefetches; a longer one a loop,
  // so the emitted code does not grow with the row length.
  constexpr int64_t kMaxUnrolledLines = 16;
  std::optional<int64_t> n = getConstantIntValue(length);
  if (n && *n <= kMaxUnrolledLines * lineElements) {
    for (int64_t offset = 0; offset < *n; offset += lineElements)
      prefetchAt(b, constantIndex(b, offset));
    return;
  }
  Value begin = constantIndex(b, 0);
  Value step = constantIndex(b, lineElements);
  buildFor(b, begin, length, step, {},
           [&](ImplicitLocOpBuilder &ib, Value offset, ValueRange) {
             prefetchAt(ib, offset);
             return SmallVector<Value>{};
           });
}

/// Shuffle mask taking, from every region of `region` lanes of the
/// `operands` (1 or 2) inputs of `width` lanes, its first half (or second
/// half): regions keep their order, first operand first.
static SmallVector<int64_t> halfRegionMask(int64_t width, int64_t region,
                                           int64_t operands, bool second) {
  SmallVector<int64_t> mask;
  for (int64_t operand = 0; operand < operands; ++operand)
    for (int64_t start = 0; start < width; start += region)
      for (int64_t lane = 0; lane < region / 2; ++lane)
        mask.push_back(operand * width + start + lane +
                       (second ? region / 2 : 0));
  return mask;
}

Value mlir::magicpig::buildTransposedSums(ImplicitLocOpBuilder &b,
                                          ArrayRef<Value> vectors) {
  [[maybe_unused]] int64_t count = vectors.size();
  int64_t width = cast<VectorType>(vectors.front().getType()).getNumElements();
  assert(llvm::isPowerOf2_64(count) && llvm::isPowerOf2_64(width) &&
         count <= width && "transposed sums need powers of two, M <= width");
  // Pairwise: each output holds both inputs' sources with half the lanes
  // per source. After log2(M) levels one vector holds all M sources.
  SmallVector<Value> level(vectors);
  int64_t region = width;
  while (level.size() > 1) {
    SmallVector<int64_t> first = halfRegionMask(width, region, 2, false);
    SmallVector<int64_t> second = halfRegionMask(width, region, 2, true);
    SmallVector<Value> next;
    for (size_t i = 0; i < level.size(); i += 2) {
      Value lo = vector::ShuffleOp::create(b, level[i], level[i + 1], first);
      Value hi = vector::ShuffleOp::create(b, level[i], level[i + 1], second);
      next.push_back(arith::AddFOp::create(b, lo, hi));
    }
    level = std::move(next);
    region /= 2;
  }
  // Fold every source's remaining lanes onto one lane, halving the vector.
  Value sums = level.front();
  int64_t lanes = width;
  while (region > 1) {
    Value lo = vector::ShuffleOp::create(
        b, sums, sums, halfRegionMask(lanes, region, 1, false));
    Value hi = vector::ShuffleOp::create(
        b, sums, sums, halfRegionMask(lanes, region, 1, true));
    sums = arith::AddFOp::create(b, lo, hi);
    lanes /= 2;
    region /= 2;
  }
  return sums;
}
