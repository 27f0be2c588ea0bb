//===- QueryBlockAttentionLowering.cpp - Many-query attention in blocks ---===//
//
// Lowers the memref form of attention with a query-length dim of S >= W
// positions (a prefill's self-attention; W = the vector width).
//
// The per-position lowering (DenseAttentionLowering.cpp) reads every K/V row
// once per query position: S * N rows, from L2/L3 once the cache outgrows
// L1, which bounds it by cache bandwidth. Here one task takes W consecutive
// positions of one kv head's group, R = G * W query rows, and every K/V row
// it reads serves all R of them, so both products become register-blocked
// outer products with no horizontal sums:
//
//   scf.parallel (b, g, t)          t -> query block qb; for `causal` the
//                                   blocks alternate cheap and expensive
//     Qt[i, r] = scale * q[head(r), pos(r), i]      row r = (r / W, r % W):
//                                   lane r % W of row vector r / W is
//                                   position qb * W + r % W of head r / W
//     for key block [kb, kb + KB) up to the block's last causal limit:
//       St[j, r] = sum_i K[kb + j, i] Qt[i, r]      tiles of keys x row
//                                                   vectors, K broadcast
//       online softmax per row, vectorized along r; keys past a row's
//       causal limit are masked
//       A[r, :] = alpha_r A[r, :] + sum_j St[j, r] V[kb + j, :]
//                                                   tiles of rows x dv chunks
//     out[head(r), pos(r), :] = A[r, :] / l_r    for the rows with pos < S
//
// K/V of f16/bf16 are extended to f32 as they are loaded; the output is
// truncated to its element type when it is stored.
//
//===----------------------------------------------------------------------===//

#include "AttentionMath.h"
#include "LoweringUtils.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::magicpig;

namespace {
/// The static sizes the blocked loops are specialized for.
struct QueryBlockShape {
  int64_t group;    // G = Hq / Hkv
  int64_t headDim;  // d
  int64_t valueDim; // dv, a multiple of the width
};
} // namespace

/// Stack scratch of one task above which the per-position loops are kept:
/// worker threads' stacks are a few MiB.
static constexpr int64_t kMaxScratchBytes = 1 << 20;

/// The shapes the blocked lowering takes: a query-length dim that is
/// dynamic or at least `width` long, static heads and head dims, a value
/// dim of whole vectors, and a task's scratch (queries, scores and outputs
/// of G * width rows) within kMaxScratchBytes. Anything else keeps the
/// per-position loops.
static std::optional<QueryBlockShape>
matchQueryBlocks(AttentionOp op, int64_t width, int64_t keyBlock) {
  auto query = cast<MemRefType>(op.getQuery().getType());
  auto key = cast<MemRefType>(op.getKey().getType());
  auto value = cast<MemRefType>(op.getValue().getType());
  if (width < 4 || !llvm::isPowerOf2_64(width) || query.getRank() != 4)
    return std::nullopt;
  int64_t length = query.getDimSize(2);
  if (!ShapedType::isDynamic(length) && length < width)
    return std::nullopt;
  int64_t heads = query.getDimSize(1), kvHeads = key.getDimSize(1);
  int64_t headDim = query.getDimSize(3), valueDim = value.getDimSize(3);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads) ||
      kvHeads < 1 || heads % kvHeads != 0 || ShapedType::isDynamic(headDim) ||
      headDim < 1 || ShapedType::isDynamic(valueDim) || valueDim < 1 ||
      valueDim % width != 0)
    return std::nullopt;
  // Each size is bounded before the product, which could overflow.
  int64_t group = heads / kvHeads;
  if (llvm::any_of(ArrayRef<int64_t>{group, headDim, valueDim, keyBlock},
                   [](int64_t size) { return size > kMaxScratchBytes; }))
    return std::nullopt;
  int64_t rows = group * width;
  if (rows * (headDim + keyBlock + valueDim) * 4 > kMaxScratchBytes)
    return std::nullopt;
  return QueryBlockShape{group, headDim, valueDim};
}

namespace {
class QueryBlockAttention {
public:
  QueryBlockAttention(ImplicitLocOpBuilder &b, const AttentionSpec &spec,
                      QueryBlockShape shape, int64_t width, int64_t keyBlock)
      : builder(b), spec(spec), shape(shape), width(width),
        keyBlock(keyBlock), rows(shape.group * width),
        // Register tiles: keys x row vectors of the scores, rows x value
        // chunks of the output; 16 accumulators fit the 32 registers of
        // AVX-512, 8 the 16 of AVX2.
        keysPerStep(4), rowVectorsPerStep(width >= 16 ? 4 : 2),
        rowsPerStep(4), chunksPerStep(width >= 16 ? 4 : 2) {}

  void build();

private:
  void buildTask(ImplicitLocOpBuilder &b, Value batch, Value group,
                 Value task);
  void buildScores(ImplicitLocOpBuilder &b, Value batch, Value group,
                   Value keyBegin, Value blockKeys);
  void buildScoreTile(ImplicitLocOpBuilder &b, Value batch, Value group,
                      Value keyBegin, Value j, int64_t keys,
                      int64_t firstVector, int64_t vectors);
  void buildSoftmax(ImplicitLocOpBuilder &b, Value keyBegin, Value blockKeys,
                    Value limits, Value lowLimits);
  void buildValues(ImplicitLocOpBuilder &b, Value batch, Value group,
                   Value keyBegin, Value blockKeys);
  void buildStore(ImplicitLocOpBuilder &b, Value batch, Value group,
                  Value firstPos);

  Value allocStack(ImplicitLocOpBuilder &b, ArrayRef<int64_t> sizes) {
    return memref::AllocaOp::create(
        b, MemRefType::get(sizes, b.getF32Type()), ValueRange{});
  }
  Value loadF32(ImplicitLocOpBuilder &b, Value memref, ValueRange indices) {
    Value x = memref::LoadOp::create(b, memref, indices);
    if (x.getType().isF32())
      return x;
    return arith::ExtFOp::create(b, b.getF32Type(), x);
  }
  Value loadVector(ImplicitLocOpBuilder &b, Value memref, ValueRange indices) {
    return vector::LoadOp::create(
        b, VectorType::get({width}, b.getF32Type()), memref, indices);
  }

  ImplicitLocOpBuilder &builder;
  const AttentionSpec &spec;
  QueryBlockShape shape;
  int64_t width, keyBlock, rows;
  int64_t keysPerStep, rowVectorsPerStep, rowsPerStep, chunksPerStep;

  Value zero, one, numKeys, queryLength, numBlocks;
  // Per task, on the stack: the scaled queries transposed [d, R], the
  // scores and then probabilities of a key block [KB, R], the unnormalized
  // outputs [R, dv], and per row the running max, sum and last rescale.
  Value queriesT, scores, outputs, rowMax, rowSum, rowAlpha;
};
} // namespace

void QueryBlockAttention::build() {
  ImplicitLocOpBuilder &b = builder;
  zero = constantIndex(b, 0);
  one = constantIndex(b, 1);
  numKeys = dimSize(b, spec.key, 2);
  queryLength = dimSize(b, spec.query, 2);
  numBlocks = ceilDivIndex(b, queryLength, constantIndex(b, width));
  buildParallel(b, {dimSize(b, spec.query, 0), dimSize(b, spec.key, 1),
                    numBlocks},
                [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
                  buildAllocaScope(ib, [&](ImplicitLocOpBuilder &sb) {
                    buildTask(sb, ivs[0], ivs[1], ivs[2]);
                  });
                });
}

void QueryBlockAttention::buildTask(ImplicitLocOpBuilder &b, Value batch,
                                    Value group, Value task) {
  // With a causal mask block qb costs ~qb key blocks; ordering the tasks
  // 0, n-1, 1, n-2, ... gives every contiguous range of tasks (what a static
  // OpenMP schedule hands a thread) a fair share of the work.
  Value block = task;
  if (spec.causal) {
    Value two = constantIndex(b, 2);
    Value half = arith::DivUIOp::create(b, task, two);
    Value odd = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                      arith::RemUIOp::create(b, task, two),
                                      zero);
    block = arith::SelectOp::create(
        b, odd, subIndex(b, subIndex(b, numBlocks, one), half), half);
  }
  Value firstPos = mulIndex(b, block, constantIndex(b, width));
  Value lastPos =
      subIndex(b, minIndex(b, addIndex(b, firstPos, constantIndex(b, width)),
                           queryLength),
               one);

  queriesT = allocStack(b, {shape.headDim, rows});
  scores = allocStack(b, {keyBlock, rows});
  outputs = allocStack(b, {rows, shape.valueDim});
  rowMax = allocStack(b, {rows});
  rowSum = allocStack(b, {rows});
  rowAlpha = allocStack(b, {rows});

  // Qt, and the initial state: A = 0, max = -inf, sum = 0. Rows past the
  // last position repeat it (their results are not stored).
  Value scale = constantF32(b, spec.scale);
  Value zeroF = constantF32(b, 0.0f);
  Value negInf = constantF32(b, -std::numeric_limits<float>::infinity());
  Value firstHead = mulIndex(b, group, constantIndex(b, shape.group));
  Value zeroVector = splatF32(b, width, zeroF);
  buildFor(b, zero, constantIndex(b, rows), one, {},
           [&](ImplicitLocOpBuilder &b, Value r, ValueRange) {
             Value w = constantIndex(b, width);
             Value head =
                 addIndex(b, firstHead, arith::DivUIOp::create(b, r, w));
             Value pos = minIndex(
                 b, addIndex(b, firstPos, arith::RemUIOp::create(b, r, w)),
                 lastPos);
             buildFor(b, zero, constantIndex(b, shape.headDim), one, {},
                      [&](ImplicitLocOpBuilder &b, Value i, ValueRange) {
                        Value q = loadF32(b, spec.query, {batch, head, pos, i});
                        memref::StoreOp::create(
                            b, arith::MulFOp::create(b, q, scale), queriesT,
                            ValueRange{i, r});
                        return SmallVector<Value>{};
                      });
             for (int64_t c = 0; c < shape.valueDim; c += width)
               vector::StoreOp::create(b, zeroVector, outputs,
                                       ValueRange{r, constantIndex(b, c)});
             memref::StoreOp::create(b, negInf, rowMax, r);
             memref::StoreOp::create(b, zeroF, rowSum, r);
             return SmallVector<Value>{};
           });

  // Lane p of a row vector is position firstPos + p, which sees keys
  // j < N - S + firstPos + p + 1 (bottom-right aligned); the block needs the
  // keys below its last position's limit.
  Value keysBegin = zero, keysEnd = numKeys;
  Value limits, lowLimits;
  if (spec.causal) {
    Value offset = subIndex(b, numKeys, queryLength);
    keysEnd = minIndex(b, addIndex(b, offset, addIndex(b, lastPos, one)),
                       numKeys);
    auto i32 = b.getI32Type();
    auto laneType = VectorType::get({width}, i32);
    SmallVector<int32_t> lanes(width);
    for (int64_t p = 0; p < width; ++p)
      lanes[p] = static_cast<int32_t>(p);
    Value iota = arith::ConstantOp::create(
        b, DenseElementsAttr::get(laneType, ArrayRef<int32_t>(lanes)));
    Value first = arith::IndexCastOp::create(
        b, i32, addIndex(b, offset, addIndex(b, firstPos, one)));
    limits = arith::AddIOp::create(
        b, vector::BroadcastOp::create(b, laneType, first), iota);
    // A sliding window: lane p sees keys j >= limit_p - W, and the block
    // starts at its first position's window, so it reads G * W + W - 1
    // keys per block, not N.
    if (spec.window) {
      keysBegin =
          buildQueryKeyRange(b, spec, numKeys, queryLength, firstPos).begin;
      Value w = arith::ConstantOp::create(
          b, DenseElementsAttr::get(
                 laneType, static_cast<int32_t>(spec.window)));
      lowLimits = arith::SubIOp::create(b, limits, w);
    }
  }
  keysEnd = maxIndex(b, keysEnd, keysBegin);

  Value step = constantIndex(b, keyBlock);
  buildFor(b, keysBegin, keysEnd, step, {},
           [&](ImplicitLocOpBuilder &b, Value keyBegin, ValueRange) {
             Value blockKeys =
                 minIndex(b, step, subIndex(b, keysEnd, keyBegin));
             buildScores(b, batch, group, keyBegin, blockKeys);
             buildSoftmax(b, keyBegin, blockKeys, limits, lowLimits);
             buildValues(b, batch, group, keyBegin, blockKeys);
             return SmallVector<Value>{};
           });
  buildStore(b, batch, group, firstPos);
}

void QueryBlockAttention::buildScoreTile(ImplicitLocOpBuilder &b, Value batch,
                                         Value group, Value keyBegin, Value j,
                                         int64_t keys, int64_t firstVector,
                                         int64_t vectors) {
  SmallVector<Value> keyIndex;
  for (int64_t c = 0; c < keys; ++c)
    keyIndex.push_back(addIndex(b, keyBegin, addIndex(b, j, constantIndex(b, c))));
  SmallVector<Value> columns;
  for (int64_t v = 0; v < vectors; ++v)
    columns.push_back(constantIndex(b, (firstVector + v) * width));

  // Accumulator c * vectors + v: the scores of key c for row vector v.
  Value zeroVector = splatF32(b, width, constantF32(b, 0.0f));
  SmallVector<Value> init(keys * vectors, zeroVector);
  SmallVector<Value> sums = buildFor(
      b, zero, constantIndex(b, shape.headDim), one, init,
      [&](ImplicitLocOpBuilder &b, Value i, ValueRange acc) {
        SmallVector<Value> q;
        for (int64_t v = 0; v < vectors; ++v)
          q.push_back(loadVector(b, queriesT, {i, columns[v]}));
        SmallVector<Value> next(acc);
        for (int64_t c = 0; c < keys; ++c) {
          Value k = splatF32(
              b, width, loadF32(b, spec.key, {batch, group, keyIndex[c], i}));
          for (int64_t v = 0; v < vectors; ++v)
            next[c * vectors + v] =
                vector::FMAOp::create(b, k, q[v], acc[c * vectors + v]);
        }
        return next;
      });
  for (int64_t c = 0; c < keys; ++c) {
    Value row = addIndex(b, j, constantIndex(b, c));
    for (int64_t v = 0; v < vectors; ++v)
      vector::StoreOp::create(b, sums[c * vectors + v], scores,
                              ValueRange{row, columns[v]});
  }
}

void QueryBlockAttention::buildScores(ImplicitLocOpBuilder &b, Value batch,
                                      Value group, Value keyBegin,
                                      Value blockKeys) {
  Value stepValue = constantIndex(b, keysPerStep);
  Value steppedEnd = mulIndex(
      b, arith::DivUIOp::create(b, blockKeys, stepValue), stepValue);
  auto sweep = [&](Value from, Value to, int64_t keys) {
    buildFor(b, from, to, constantIndex(b, keys), {},
             [&](ImplicitLocOpBuilder &b, Value j, ValueRange) {
               for (int64_t v = 0; v < shape.group; v += rowVectorsPerStep)
                 buildScoreTile(b, batch, group, keyBegin, j, keys, v,
                                std::min(rowVectorsPerStep, shape.group - v));
               return SmallVector<Value>{};
             });
  };
  sweep(zero, steppedEnd, keysPerStep);
  sweep(steppedEnd, blockKeys, 1);
}

void QueryBlockAttention::buildSoftmax(ImplicitLocOpBuilder &b, Value keyBegin,
                                       Value blockKeys, Value limits,
                                       Value lowLimits) {
  Value zeroF = constantF32(b, 0.0f);
  Value negInf = constantF32(b, -std::numeric_limits<float>::infinity());
  Value zeroVector = splatF32(b, width, zeroF);
  Value negInfVector = splatF32(b, width, negInf);
  // Lanes whose position may see key keyBegin + j (all, without a mask).
  auto visible = [&](ImplicitLocOpBuilder &b, Value j) -> Value {
    if (!limits)
      return {};
    Value key = arith::IndexCastOp::create(b, b.getI32Type(),
                                           addIndex(b, keyBegin, j));
    Value keys = vector::BroadcastOp::create(
        b, VectorType::get({width}, b.getI32Type()), key);
    Value below =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, keys, limits);
    if (!lowLimits)
      return below;
    return arith::AndIOp::create(
        b, below,
        arith::CmpIOp::create(b, arith::CmpIPredicate::sge, keys, lowLimits));
  };

  for (int64_t v = 0; v < shape.group; ++v) {
    Value column = constantIndex(b, v * width);
    Value blockMax =
        buildFor(b, zero, blockKeys, one, negInfVector,
                 [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) {
                   Value s = loadVector(b, scores, {j, column});
                   if (Value mask = visible(b, j))
                     s = arith::SelectOp::create(b, mask, s, negInfVector);
                   // One vmaxps; a NaN score still reaches the output
                   // through its exp below.
                   Value greater = arith::CmpFOp::create(
                       b, arith::CmpFPredicate::OGT, acc[0], s);
                   return SmallVector<Value>{
                       arith::SelectOp::create(b, greater, acc[0], s)};
                 })[0];
    Value oldMax = loadVector(b, rowMax, {column});
    Value newMax = arith::MaximumFOp::create(b, oldMax, blockMax);
    // A row that has seen no key yet keeps max -inf: exponents are taken
    // against 0 there, and its rescale of the (zero) state is 0.
    Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax,
                                        negInfVector);
    Value base = arith::SelectOp::create(b, empty, zeroVector, newMax);
    Value unseen = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, oldMax,
                                         negInfVector);
    Value alpha = arith::SelectOp::create(
        b, unseen, zeroVector,
        math::ExpOp::create(b, arith::SubFOp::create(b, oldMax, base)));
    Value blockSum = buildFor(
        b, zero, blockKeys, one, zeroVector,
        [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) {
          Value s = loadVector(b, scores, {j, column});
          Value p = math::ExpOp::create(b, arith::SubFOp::create(b, s, base));
          if (Value mask = visible(b, j))
            p = arith::SelectOp::create(b, mask, p, zeroVector);
          vector::StoreOp::create(b, p, scores, ValueRange{j, column});
          return SmallVector<Value>{arith::AddFOp::create(b, acc[0], p)};
        })[0];
    Value oldSum = loadVector(b, rowSum, {column});
    vector::StoreOp::create(b, newMax, rowMax, column);
    vector::StoreOp::create(b, vector::FMAOp::create(b, oldSum, alpha, blockSum),
                            rowSum, column);
    vector::StoreOp::create(b, alpha, rowAlpha, column);
  }
}

void QueryBlockAttention::buildValues(ImplicitLocOpBuilder &b, Value batch,
                                      Value group, Value keyBegin,
                                      Value blockKeys) {
  int64_t chunks = shape.valueDim / width;
  Value rowsEnd = constantIndex(b, rows);
  Value rowsStep = constantIndex(b, rowsPerStep);
  buildFor(
      b, zero, rowsEnd, rowsStep, {},
      [&](ImplicitLocOpBuilder &b, Value firstRow, ValueRange) {
        SmallVector<Value> rowIndex, alpha;
        for (int64_t r = 0; r < rowsPerStep; ++r) {
          rowIndex.push_back(addIndex(b, firstRow, constantIndex(b, r)));
          alpha.push_back(splatF32(
              b, width, memref::LoadOp::create(b, rowAlpha, rowIndex.back())));
        }
        for (int64_t c0 = 0; c0 < chunks; c0 += chunksPerStep) {
          int64_t count = std::min(chunksPerStep, chunks - c0);
          SmallVector<Value> columns;
          for (int64_t c = 0; c < count; ++c)
            columns.push_back(constantIndex(b, (c0 + c) * width));
          // Accumulator r * count + c: row r, value chunk c.
          SmallVector<Value> init;
          for (int64_t r = 0; r < rowsPerStep; ++r)
            for (int64_t c = 0; c < count; ++c)
              init.push_back(arith::MulFOp::create(
                  b, loadVector(b, outputs, {rowIndex[r], columns[c]}),
                  alpha[r]));
          SmallVector<Value> sums = buildFor(
              b, zero, blockKeys, one, init,
              [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) {
                Value key = addIndex(b, keyBegin, j);
                SmallVector<Value> values;
                for (int64_t c = 0; c < count; ++c)
                  values.push_back(readChunkF32(b, spec.value,
                                                {batch, group, key},
                                                {columns[c], Value()}, width));
                SmallVector<Value> next(acc);
                for (int64_t r = 0; r < rowsPerStep; ++r) {
                  Value p = splatF32(
                      b, width,
                      memref::LoadOp::create(b, scores,
                                             ValueRange{j, rowIndex[r]}));
                  for (int64_t c = 0; c < count; ++c)
                    next[r * count + c] = vector::FMAOp::create(
                        b, p, values[c], acc[r * count + c]);
                }
                return next;
              });
          for (int64_t r = 0; r < rowsPerStep; ++r)
            for (int64_t c = 0; c < count; ++c)
              vector::StoreOp::create(b, sums[r * count + c], outputs,
                                      ValueRange{rowIndex[r], columns[c]});
        }
        return SmallVector<Value>{};
      });
}

void QueryBlockAttention::buildStore(ImplicitLocOpBuilder &b, Value batch,
                                     Value group, Value firstPos) {
  Value zeroF = constantF32(b, 0.0f);
  Value w = constantIndex(b, width);
  Value firstHead = mulIndex(b, group, constantIndex(b, shape.group));
  buildFor(
      b, zero, constantIndex(b, rows), one, {},
      [&](ImplicitLocOpBuilder &b, Value r, ValueRange) {
        Value pos = addIndex(b, firstPos, arith::RemUIOp::create(b, r, w));
        Value inside =
            arith::CmpIOp::create(b, arith::CmpIPredicate::ult, pos,
                                  queryLength);
        buildIf(b, inside, [&](ImplicitLocOpBuilder &b) {
          Value head = addIndex(b, firstHead, arith::DivUIOp::create(b, r, w));
          Value sum = memref::LoadOp::create(b, rowSum, r);
          Value nonEmpty =
              arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zeroF);
          Value inverse = splatF32(
              b, width,
              arith::SelectOp::create(
                  b, nonEmpty,
                  arith::DivFOp::create(b, constantF32(b, 1.0f), sum), zeroF));
          for (int64_t c = 0; c < shape.valueDim; c += width) {
            Value column = constantIndex(b, c);
            Value out = arith::MulFOp::create(
                b, loadVector(b, outputs, {r, column}), inverse);
            writeChunkF32(b, out, spec.output, {batch, head, pos},
                          {column, Value()});
          }
        });
        return SmallVector<Value>{};
      });
}

namespace {
/// attention over many query positions; benefit 2 so that it is tried
/// before the per-position lowering, which takes what it declines.
struct QueryBlockAttentionLowering
    : MemRefOpPattern<AttentionOp, LoweringOptions> {
  QueryBlockAttentionLowering(MLIRContext *context,
                              const LoweringOptions &options)
      : MemRefOpPattern(context, options, /*benefit=*/2) {}

  LogicalResult rewriteMemRefOp(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<QueryBlockShape> shape =
        matchQueryBlocks(op, options.vectorWidth, options.keyBlock);
    if (!shape)
      return rewriter.notifyMatchFailure(op, "not a many-query attention");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    buildRuntimeSizeChecks(b, op);
    AttentionSpec spec = getAttentionSpec(op);
    QueryBlockAttention(b, spec, *shape, options.vectorWidth,
                        options.keyBlock)
        .build();
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void mlir::magicpig::populateQueryBlockAttentionLoweringPatterns(
    RewritePatternSet &patterns, const LoweringOptions &options) {
  patterns.add<QueryBlockAttentionLowering>(patterns.getContext(), options);
}
