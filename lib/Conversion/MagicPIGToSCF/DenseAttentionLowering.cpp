//===- DenseAttentionLowering.cpp - Exact attention ops to loops ----------===//
//
// Lowers the memref forms of attention, window_attention and merge.
//
// Decode attention is memory bound: every key and value row is read once
// per kv head, and the G = Hq / Hkv query heads of the group are processed
// together against each row. The loop nest (flash-decoding style):
//
//   scf.parallel (b, g, s, t)              one task = keys [begin, end) of
//                                          kv head g for query position s
//     q[G, d] = scale * query rows of the group (f32, on the stack)
//     for block of `keyBlock` keys in [begin, end):
//       for tile of R query rows (R = G when G is static and small):
//         scores[R, block] = q . k_j            k_j read once, R FMAs/lane
//         online softmax: m' = max(m, max(scores)), alpha = exp(m - m'),
//                         p = exp(scores - m'), l' = alpha * l + sum(p)
//         acc[R, dv] = alpha * acc + sum_j p_j v_j   v_j read once
//   scf.parallel (b, h, s)                  merge the tasks' (acc, m, l)
//     out = sum_t exp(m_t - M) acc_t / L,   lse = M + log L
//
// Splitting N into tasks of `keysPerTask` keys gives the OpenMP loop enough
// iterations when B * Hkv is smaller than the thread count. The d- and
// dv-loops run on vector<W x f32> with a masked tail; K/V are extended to f32
// as they are loaded, and the output is truncated to its element type when
// it is stored.
//
//===----------------------------------------------------------------------===//

#include "AttentionMath.h"
#include "LoweringUtils.h"

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::magicpig;

/// Query rows whose scores against one key are computed in registers at
/// once; more would spill the accumulators of an AVX2 machine.
static constexpr int64_t kMaxRowsPerTile = 8;

/// Keys whose scores are computed in one step of the score loop: R * keys
/// accumulators stay in registers (16 with R = 4).
static constexpr int64_t kMaxKeysPerStep = 4;

/// memref.prefetch locality of the K/V rows fetched ahead (2: into L2).
static constexpr int64_t kPrefetchLocality = 2;

static Value negInfF32(ImplicitLocOpBuilder &b) {
  return constantF32(b, -std::numeric_limits<float>::infinity());
}

/// An f32 buffer of the given sizes (static where the size is a constant),
/// on the heap or on the stack.
static Value allocF32(ImplicitLocOpBuilder &b, ArrayRef<Value> sizes,
                      bool onStack) {
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicSizes;
  for (Value size : sizes) {
    if (std::optional<int64_t> c = getConstantIntValue(size)) {
      shape.push_back(*c);
    } else {
      shape.push_back(ShapedType::kDynamic);
      dynamicSizes.push_back(size);
    }
  }
  auto type = MemRefType::get(shape, b.getF32Type());
  if (onStack)
    return memref::AllocaOp::create(b, type, dynamicSizes);
  return memref::AllocOp::create(b, type, dynamicSizes);
}

/// Runs `body(iv)` for iv in [0, count); inline when count is the constant 1.
static void
forEachIndex(ImplicitLocOpBuilder &b, Value count,
             llvm::function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  if (getConstantIntValue(count) == 1) {
    body(b, constantIndex(b, 0));
    return;
  }
  Value begin = constantIndex(b, 0);
  Value step = constantIndex(b, 1);
  buildFor(b, begin, count, step, {},
           [&](ImplicitLocOpBuilder &ib, Value iv, ValueRange) {
             body(ib, iv);
             return SmallVector<Value>{};
           });
}

//===----------------------------------------------------------------------===//
// attention and window_attention
//===----------------------------------------------------------------------===//

/// Element `batch` of a per-sequence `[B]` integer memref as an index, at
/// least 0.
static Value loadSequenceBound(ImplicitLocOpBuilder &b, Value bounds,
                               Value batch) {
  Value raw = memref::LoadOp::create(b, bounds, ValueRange{batch});
  Value index = arith::IndexCastOp::create(b, b.getIndexType(), raw);
  return maxIndex(b, index, constantIndex(b, 0));
}

namespace {
/// Sizes and buffers shared by the task loop and the merge loop.
class AttentionLowering {
public:
  AttentionLowering(ImplicitLocOpBuilder &b, const AttentionSpec &spec,
                    const LoweringOptions &options)
      : builder(b), spec(spec), width(options.vectorWidth),
        keysPerTask(options.keysPerTask), keyBlock(options.keyBlock) {}

  void build();

private:
  void computeSizes();
  void buildTask(ImplicitLocOpBuilder &b, Value batch, Value group, Value pos,
                 Value task);
  void buildKeyBlock(ImplicitLocOpBuilder &b, Value batch, Value group,
                     Value pos, Value task, Value blockBegin, Value blockKeys,
                     Value queries, Value scores, Value firstRow);
  void buildMerge(ImplicitLocOpBuilder &b, Value batch, Value head, Value pos);

  /// Index of query position `pos` in a query/output row, if the op has a
  /// query-length dim.
  SmallVector<Value> queryRow(Value batch, Value head, Value pos) const {
    if (hasQueryLength)
      return {batch, head, pos};
    return {batch, head};
  }

  ImplicitLocOpBuilder &builder;
  const AttentionSpec &spec;
  int64_t width, keysPerTask, keyBlock;

  bool hasQueryLength = false;
  Value zero, one;
  Value batchSize, queryHeads, queryLength, headDim, kvHeads, numKeys, valueDim,
      groupSize;
  // Query rows per register tile and tiles per group.
  int64_t rowsPerTile = 1;
  Value numTiles;
  // Tasks: segment 0 is [0, seg0End), segment 1 is [seg1Begin, N).
  Value seg0End, seg1Begin, keysInTask, seg0Tasks, numTasks;
  // Per task and query row: unnormalized output, running max and sum.
  Value partialOut, partialMax, partialSum;
};
} // namespace

void AttentionLowering::computeSizes() {
  ImplicitLocOpBuilder &b = builder;
  auto queryType = cast<MemRefType>(spec.query.getType());
  hasQueryLength = queryType.getRank() == 4;
  zero = constantIndex(b, 0);
  one = constantIndex(b, 1);
  batchSize = dimSize(b, spec.query, 0);
  queryHeads = dimSize(b, spec.query, 1);
  queryLength = hasQueryLength ? dimSize(b, spec.query, 2) : one;
  headDim = dimSize(b, spec.query, queryType.getRank() - 1);
  kvHeads = dimSize(b, spec.key, 1);
  numKeys = dimSize(b, spec.key, 2);
  valueDim = dimSize(b, spec.value, 3);
  groupSize =
      b.createOrFold<arith::DivUIOp>(queryHeads, maxIndex(b, kvHeads, one));

  // A static group is unrolled into register tiles of R rows (R divides G).
  if (std::optional<int64_t> g = getConstantIntValue(groupSize); g && *g > 0)
    for (int64_t r = std::min(*g, kMaxRowsPerTile); r >= 1; --r)
      if (*g % r == 0) {
        rowsPerTile = r;
        break;
      }
  numTiles =
      b.createOrFold<arith::DivUIOp>(groupSize, constantIndex(b, rowsPerTile));

  if (spec.windowStart) {
    WindowSegments segments =
        buildWindowSegments(b, numKeys, spec.windowStart, spec.sinkTokens);
    seg0End = segments.firstEnd;
    seg1Begin = segments.secondBegin;
  } else if (spec.keyLengths) {
    // A padded batch: segment 0 is the cache [0, N - 1), cut to each
    // sequence's length in its tasks, segment 1 the step's own key.
    seg0End = subIndex(b, numKeys, minIndex(b, numKeys, one));
    seg1Begin = seg0End;
  } else if (spec.window) {
    // Only keys some query's window reaches: from the first query's,
    // max(0, N - S + 1 - W), so the tasks cover S + W - 1 keys, not N.
    seg0End = zero;
    seg1Begin =
        buildQueryKeyRange(b, spec, numKeys, queryLength, zero).begin;
  } else {
    seg0End = zero;
    seg1Begin = zero;
  }
  // With S query positions, a task takes S times as many keys, so the
  // partial results stay as large as for a single decode query.
  Value perTask = constantIndex(b, keysPerTask);
  keysInTask = mulIndex(b, perTask, maxIndex(b, queryLength, one));
  seg0Tasks = ceilDivIndex(b, seg0End, keysInTask);
  numTasks =
      addIndex(b, seg0Tasks,
               ceilDivIndex(b, subIndex(b, numKeys, seg1Begin), keysInTask));
}

void AttentionLowering::build() {
  ImplicitLocOpBuilder &b = builder;
  computeSizes();
  partialOut = allocF32(
      b, {batchSize, queryHeads, queryLength, numTasks, valueDim}, false);
  partialMax =
      allocF32(b, {batchSize, queryHeads, queryLength, numTasks}, false);
  partialSum =
      allocF32(b, {batchSize, queryHeads, queryLength, numTasks}, false);

  buildParallel(b, {batchSize, kvHeads, queryLength, numTasks},
                [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
                  buildAllocaScope(ib, [&](ImplicitLocOpBuilder &sb) {
                    buildTask(sb, ivs[0], ivs[1], ivs[2], ivs[3]);
                  });
                });
  buildParallel(b, {batchSize, queryHeads, queryLength},
                [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
                  buildMerge(ib, ivs[0], ivs[1], ivs[2]);
                });

  memref::DeallocOp::create(b, partialOut);
  memref::DeallocOp::create(b, partialMax);
  memref::DeallocOp::create(b, partialSum);
}

void AttentionLowering::buildTask(ImplicitLocOpBuilder &b, Value batch,
                                  Value group, Value pos, Value task) {
  // The task's keys: chunk `local` of its segment.
  Value inSeg0 =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, task, seg0Tasks);
  Value local =
      arith::SelectOp::create(b, inSeg0, task, subIndex(b, task, seg0Tasks));
  Value segBegin = arith::SelectOp::create(b, inSeg0, zero, seg1Begin);
  Value segEnd = arith::SelectOp::create(b, inSeg0, seg0End, numKeys);
  Value begin = addIndex(b, segBegin, mulIndex(b, local, keysInTask));
  Value end = minIndex(b, addIndex(b, begin, keysInTask), segEnd);
  if (!spec.windowStart && !spec.keyLengths &&
      (spec.window || (spec.causal && hasQueryLength))) {
    QueryKeyRange range = buildQueryKeyRange(
        b, spec, numKeys, queryLength, hasQueryLength ? pos : zero);
    if (spec.window)
      begin = maxIndex(b, begin, range.begin);
    end = minIndex(b, end, range.end);
  }
  if (spec.keyLengths) {
    // Keys from the sequence's length on are padding (an attention's own
    // key N - 1, in segment 1, is not).
    Value length = loadSequenceBound(b, spec.keyLengths, batch);
    Value cut = minIndex(b, end, length);
    end = spec.lse ? cut : arith::SelectOp::create(b, inSeg0, cut, end);
    if (spec.window && !spec.lse) {
      // A sliding window: the query at position l sees its cache keys
      // j > l - W (and its own key, segment 1).
      Value w = constantIndex(b, spec.window);
      Value first = subIndex(b, maxIndex(b, addIndex(b, length, one), w), w);
      begin = arith::SelectOp::create(b, inSeg0, maxIndex(b, begin, first),
                                      begin);
    }
  }
  if (spec.windowStarts) {
    Value start = loadSequenceBound(b, spec.windowStarts, batch);
    begin = arith::SelectOp::create(b, inSeg0, begin, maxIndex(b, begin, start));
  }
  end = maxIndex(b, end, begin);

  Value firstHead = mulIndex(b, group, groupSize);
  Value scale = constantF32(b, spec.scale);
  Value zeroVector = splatF32(b, width, constantF32(b, 0.0f));

  // The group's queries, scaled once, in f32.
  Value queries = allocF32(b, {groupSize, headDim}, true);
  forEachIndex(b, groupSize, [&](ImplicitLocOpBuilder &b, Value row) {
    Value head = addIndex(b, firstHead, row);
    forEachChunk(b, headDim, width, {},
                 [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                   Value q = readChunkF32(
                       b, spec.query, queryRow(batch, head, pos), chunk, width);
                   Value scaled =
                       arith::MulFOp::create(b, q, splatF32(b, width, scale));
                   writeChunkF32(b, scaled, queries, {row}, chunk);
                   return SmallVector<Value>{};
                 });
    // An empty task contributes (0, -inf, 0).
    SmallVector<Value> partial = {batch, head, pos, task};
    memref::StoreOp::create(b, negInfF32(b), partialMax, partial);
    memref::StoreOp::create(b, constantF32(b, 0.0f), partialSum, partial);
    forEachChunk(b, valueDim, width, {},
                 [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                   writeChunkF32(b, zeroVector, partialOut, partial, chunk);
                   return SmallVector<Value>{};
                 });
  });

  Value scores = allocF32(
      b, {constantIndex(b, rowsPerTile), constantIndex(b, keyBlock)}, true);
  Value blockStep = constantIndex(b, keyBlock);
  buildFor(
      b, begin, end, blockStep, {},
      [&](ImplicitLocOpBuilder &b, Value blockBegin, ValueRange) {
        Value blockKeys = minIndex(b, blockStep, subIndex(b, end, blockBegin));
        forEachIndex(b, numTiles, [&](ImplicitLocOpBuilder &b, Value tile) {
          Value firstRow = mulIndex(b, tile, constantIndex(b, rowsPerTile));
          buildKeyBlock(b, batch, group, pos, task, blockBegin, blockKeys,
                        queries, scores, firstRow);
        });
        return SmallVector<Value>{};
      });
}

void AttentionLowering::buildKeyBlock(ImplicitLocOpBuilder &b, Value batch,
                                      Value group, Value pos, Value task,
                                      Value blockBegin, Value blockKeys,
                                      Value queries, Value scores,
                                      Value firstRow) {
  Value zeroVector = splatF32(b, width, constantF32(b, 0.0f));
  SmallVector<Value> rows, heads;
  for (int64_t r = 0; r < rowsPerTile; ++r) {
    rows.push_back(addIndex(b, firstRow, constantIndex(b, r)));
    Value head = addIndex(b, mulIndex(b, group, groupSize), rows.back());
    heads.push_back(head);
  }

  // scores[r, j] = q_r . k_j for `count` consecutive keys: each chunk of a
  // key row is loaded once for the R rows, and the R * count dot products
  // are reduced together when the shapes allow a transposed sum.
  bool transposed = llvm::isPowerOf2_64(rowsPerTile) &&
                    llvm::isPowerOf2_64(width) && rowsPerTile <= width;
  auto scoreKeys = [&](ImplicitLocOpBuilder &b, Value j, int64_t count) {
    SmallVector<SmallVector<Value>> keyRows;
    for (int64_t c = 0; c < count; ++c) {
      Value key = addIndex(b, blockBegin, addIndex(b, j, constantIndex(b, c)));
      keyRows.push_back({batch, group, key});
      // The value pass below walks the block's V rows one dv-chunk at a
      // time, and the next block's K rows follow; without fetching them now
      // the kernel stalls on memory instead of overlapping it with the FMAs.
      // Into L2, not L1: the block's K and V rows plus the next block's
      // would overflow a 32 KiB L1 (measured: L1 prefetches were slower
      // than none, L2 prefetches ~40% faster on a Zen 4 core).
      prefetchRow(b, spec.value, keyRows.back(), valueDim, kPrefetchLocality);
      Value nextBlock = addIndex(b, key, constantIndex(b, keyBlock));
      Value lastKey = subIndex(b, numKeys, one);
      Value ahead = minIndex(b, nextBlock, lastKey);
      prefetchRow(b, spec.key, {batch, group, ahead}, headDim,
                  kPrefetchLocality);
    }
    // Accumulator r * count + c holds q_r . k_(j + c).
    SmallVector<Value> init(rowsPerTile * count, zeroVector);
    SmallVector<Value> dots = forEachChunk(
        b, headDim, width, init,
        [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange acc) {
          SmallVector<Value> keys;
          for (int64_t c = 0; c < count; ++c)
            keys.push_back(readChunkF32(b, spec.key, keyRows[c], chunk, width));
          SmallVector<Value> next(acc);
          for (int64_t r = 0; r < rowsPerTile; ++r) {
            Value q = readChunkF32(b, queries, {rows[r]}, chunk, width);
            for (int64_t c = 0; c < count; ++c)
              next[r * count + c] =
                  vector::FMAOp::create(b, q, keys[c], acc[r * count + c]);
          }
          return next;
        });
    if (!transposed) {
      for (int64_t r = 0; r < rowsPerTile; ++r) {
        Value dot =
            vector::ReductionOp::create(b, vector::CombiningKind::ADD, dots[r]);
        memref::StoreOp::create(b, dot, scores,
                                ValueRange{constantIndex(b, r), j});
      }
      return;
    }
    // Lanes [r * count, (r + 1) * count) are row r's scores for the keys.
    Value sums = buildTransposedSums(b, dots);
    for (int64_t r = 0; r < rowsPerTile; ++r) {
      SmallVector<Value> at = {constantIndex(b, r), j};
      if (count == 1) {
        memref::StoreOp::create(
            b, vector::ExtractOp::create(b, sums, ArrayRef<int64_t>{r}), scores,
            at);
        continue;
      }
      Value rowSums = vector::ExtractStridedSliceOp::create(
          b, sums, ArrayRef<int64_t>{r * count}, ArrayRef<int64_t>{count},
          ArrayRef<int64_t>{1});
      vector::StoreOp::create(b, rowSums, scores, at);
    }
  };

  // Several keys per step share the q loads and the reduction tree; a key
  // count that is not a multiple of the step ends with single keys.
  int64_t keysPerStep =
      transposed ? std::min<int64_t>(kMaxKeysPerStep, width / rowsPerTile) : 1;
  Value stepValue = constantIndex(b, keysPerStep);
  Value steppedEnd = zero;
  if (keysPerStep > 1) {
    steppedEnd = mulIndex(
        b, b.createOrFold<arith::DivUIOp>(blockKeys, stepValue), stepValue);
    buildFor(b, zero, steppedEnd, stepValue, {},
             [&](ImplicitLocOpBuilder &b, Value j, ValueRange) {
               scoreKeys(b, j, keysPerStep);
               return SmallVector<Value>{};
             });
  }
  buildFor(b, steppedEnd, blockKeys, one, {},
           [&](ImplicitLocOpBuilder &b, Value j, ValueRange) {
             scoreKeys(b, j, 1);
             return SmallVector<Value>{};
           });

  // Online softmax: fold the block into each row's running max and sum and
  // turn the scores into probabilities relative to the new max.
  Value negInf = negInfF32(b);
  SmallVector<Value> rescale;
  for (int64_t r = 0; r < rowsPerTile; ++r) {
    Value scoreRow = constantIndex(b, r);
    Value blockMaxVec = forEachChunk(
        b, blockKeys, width, splatF32(b, width, negInf),
        [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange acc) {
          Value s =
              readChunkF32(b, scores, {scoreRow}, chunk, width, /*padding=*/
                           -std::numeric_limits<float>::infinity());
          // a > b ? a : b is one vmaxps; arith.maximumf adds NaN and
          // signed-zero fixups. A NaN score still reaches the output
          // through its exp below.
          Value greater =
              arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, acc[0], s);
          return SmallVector<Value>{
              arith::SelectOp::create(b, greater, acc[0], s)};
        })[0];
    Value blockMax = vector::ReductionOp::create(
        b, vector::CombiningKind::MAXIMUMF, blockMaxVec);

    SmallVector<Value> partial = {batch, heads[r], pos, task};
    Value oldMax = memref::LoadOp::create(b, partialMax, partial);
    Value oldSum = memref::LoadOp::create(b, partialSum, partial);
    Value newMax = arith::MaximumFOp::create(b, oldMax, blockMax);
    // exp(-inf - m') = 0 drops the (empty) state before the first block.
    Value alpha =
        math::ExpOp::create(b, arith::SubFOp::create(b, oldMax, newMax));
    Value newMaxVec = splatF32(b, width, newMax);
    Value sumVec = forEachChunk(
        b, blockKeys, width, zeroVector,
        [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange acc) {
          Value s = readChunkF32(b, scores, {scoreRow}, chunk, width);
          Value p =
              math::ExpOp::create(b, arith::SubFOp::create(b, s, newMaxVec));
          if (chunk.mask)
            p = arith::SelectOp::create(b, chunk.mask, p, zeroVector);
          writeChunkF32(b, p, scores, {scoreRow}, chunk);
          return SmallVector<Value>{arith::AddFOp::create(b, acc[0], p)};
        })[0];
    Value blockSum =
        vector::ReductionOp::create(b, vector::CombiningKind::ADD, sumVec);
    Value newSum = math::FmaOp::create(b, oldSum, alpha, blockSum);
    memref::StoreOp::create(b, newMax, partialMax, partial);
    memref::StoreOp::create(b, newSum, partialSum, partial);
    rescale.push_back(splatF32(b, width, alpha));
  }

  // acc_r = alpha_r * acc_r + sum_j p[r, j] v_j, one dv-chunk at a time so
  // the R accumulators stay in registers across the block's keys.
  forEachChunk(
      b, valueDim, width, {},
      [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
        SmallVector<Value> init;
        for (int64_t r = 0; r < rowsPerTile; ++r) {
          Value acc = readChunkF32(b, partialOut, {batch, heads[r], pos, task},
                                   chunk, width);
          init.push_back(arith::MulFOp::create(b, acc, rescale[r]));
        }
        SmallVector<Value> accs = buildFor(
            b, zero, blockKeys, one, init,
            [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) {
              Value v = readChunkF32(b, spec.value,
                                     {batch, group, addIndex(b, blockBegin, j)},
                                     chunk, width);
              SmallVector<Value> next;
              for (int64_t r = 0; r < rowsPerTile; ++r) {
                Value p = memref::LoadOp::create(
                    b, scores, ValueRange{constantIndex(b, r), j});
                next.push_back(
                    vector::FMAOp::create(b, splatF32(b, width, p), v, acc[r]));
              }
              return next;
            });
        for (int64_t r = 0; r < rowsPerTile; ++r)
          writeChunkF32(b, accs[r], partialOut, {batch, heads[r], pos, task},
                        chunk);
        return SmallVector<Value>{};
      });
}

void AttentionLowering::buildMerge(ImplicitLocOpBuilder &b, Value batch,
                                   Value head, Value pos) {
  Value negInf = negInfF32(b);
  Value zeroF = constantF32(b, 0.0f);
  auto partial = [&](Value task) {
    return SmallVector<Value>{batch, head, pos, task};
  };

  Value globalMax = buildFor(
      b, zero, numTasks, one, negInf,
      [&](ImplicitLocOpBuilder &b, Value t, ValueRange acc) {
        Value m = memref::LoadOp::create(b, partialMax, partial(t));
        return SmallVector<Value>{arith::MaximumFOp::create(b, acc[0], m)};
      })[0];
  // Task weights exp(m_t - M), 0 for an empty task (m_t = -inf), are kept
  // in place of m_t for the output loop.
  Value total = buildFor(
      b, zero, numTasks, one, zeroF,
      [&](ImplicitLocOpBuilder &b, Value t, ValueRange acc) {
        Value m = memref::LoadOp::create(b, partialMax, partial(t));
        Value empty =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf);
        Value w = arith::SelectOp::create(
            b, empty, zeroF,
            math::ExpOp::create(b, arith::SubFOp::create(b, m, globalMax)));
        memref::StoreOp::create(b, w, partialMax, partial(t));
        Value l = memref::LoadOp::create(b, partialSum, partial(t));
        return SmallVector<Value>{math::FmaOp::create(b, w, l, acc[0])};
      })[0];
  Value nonEmpty =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, total, zeroF);
  Value invTotal = arith::SelectOp::create(
      b, nonEmpty, arith::DivFOp::create(b, constantF32(b, 1.0f), total),
      zeroF);

  Value zeroVector = splatF32(b, width, zeroF);
  forEachChunk(
      b, valueDim, width, {},
      [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
        Value out = buildFor(
            b, zero, numTasks, one, zeroVector,
            [&](ImplicitLocOpBuilder &b, Value t, ValueRange acc) {
              Value w = memref::LoadOp::create(b, partialMax, partial(t));
              Value coeff = arith::MulFOp::create(b, w, invTotal);
              Value x = readChunkF32(b, partialOut, partial(t), chunk, width);
              return SmallVector<Value>{vector::FMAOp::create(
                  b, splatF32(b, width, coeff), x, acc[0])};
            })[0];
        writeChunkF32(b, out, spec.output, queryRow(batch, head, pos), chunk);
        return SmallVector<Value>{};
      });

  if (spec.lse)
    memref::StoreOp::create(b, buildLogSumExp(b, globalMax, total), spec.lse,
                            ValueRange{batch, head});
}

namespace {
/// attention and window_attention: the same loops over their key sets.
template <typename OpTy>
struct AttentionOpLowering : LoopLoweringPattern<OpTy> {
  using LoopLoweringPattern<OpTy>::LoopLoweringPattern;

  void lower(OpTy op, ImplicitLocOpBuilder &b) const override {
    AttentionSpec spec = getAttentionSpec(op);
    AttentionLowering(b, spec, this->options).build();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// merge
//===----------------------------------------------------------------------===//

namespace {
/// lse = logaddexp(lse_a, lse_b), out = exp(lse_a - lse) out_a +
/// exp(lse_b - lse) out_b, with the weights of buildMergeWeights (shared
/// with the device kernel): a side at -inf weighs 0, and both at -inf give
/// out 0 and lse -inf, so no NaN reaches the result.
struct MergeOpLowering : LoopLoweringPattern<MergeOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  void lower(MergeOp op, ImplicitLocOpBuilder &b) const override {
    int64_t width = options.vectorWidth;
    Value outA = op.getOutputA(), outB = op.getOutputB();
    Value lseA = op.getLseA(), lseB = op.getLseB();
    Value out = op.getOutput(), lse = op.getLse();
    Value valueDim = dimSize(b, out, 2);

    buildParallel(
        b, {dimSize(b, out, 0), dimSize(b, out, 1)},
        [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
          Value a = memref::LoadOp::create(b, lseA, ivs);
          Value c = memref::LoadOp::create(b, lseB, ivs);
          MergeWeights weights = buildMergeWeights(b, a, c);
          memref::StoreOp::create(b, weights.lse, lse, ivs);

          Value splatA = splatF32(b, width, weights.weightA);
          Value splatB = splatF32(b, width, weights.weightB);
          forEachChunk(
              b, valueDim, width, {},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                Value x = readChunkF32(b, outA, ivs, chunk, width);
                Value y = readChunkF32(b, outB, ivs, chunk, width);
                Value r = vector::FMAOp::create(
                    b, splatA, x, arith::MulFOp::create(b, splatB, y));
                writeChunkF32(b, r, out, ivs, chunk);
                return SmallVector<Value>{};
              });
        });
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// key_norms and center_keys
//===----------------------------------------------------------------------===//

namespace {
/// norms[b, g, j] = sqrt(k_j . k_j), one parallel iteration per key.
struct KeyNormsOpLowering : LoopLoweringPattern<KeyNormsOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  void lower(KeyNormsOp op, ImplicitLocOpBuilder &b) const override {
    int64_t width = options.vectorWidth;
    Value key = op.getKey(), norms = op.getNorms();
    Value headDim = dimSize(b, key, 3);
    buildParallel(
        b, {dimSize(b, key, 0), dimSize(b, key, 1), dimSize(b, key, 2)},
        [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
          Value zeroVector = splatF32(b, width, constantF32(b, 0.0f));
          Value squares = forEachChunk(
              b, headDim, width, zeroVector,
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange acc) {
                Value k = readChunkF32(b, key, ivs, chunk, width);
                return SmallVector<Value>{
                    vector::FMAOp::create(b, k, k, acc[0])};
              })[0];
          Value sum = vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                                  squares);
          memref::StoreOp::create(b, math::SqrtOp::create(b, sum), norms, ivs);
        });
  }
};

/// mean = average of the keys in M = [sink, N - window) (0 when M is
/// empty), then centered = key - mean for every key. The mean is complete
/// before any key is centered, so `centered` may be the `key` buffer.
struct CenterKeysOpLowering : LoopLoweringPattern<CenterKeysOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  void lower(CenterKeysOp op, ImplicitLocOpBuilder &b) const override {
    int64_t width = options.vectorWidth;
    Value key = op.getKey(), centered = op.getCentered();
    Value mean = op.getMean();
    Value batchSize = dimSize(b, key, 0), kvHeads = dimSize(b, key, 1);
    Value numKeys = dimSize(b, key, 2), headDim = dimSize(b, key, 3);
    Value zero = constantIndex(b, 0), one = constantIndex(b, 1);

    // M = [sink, sink + count), count = max(N - window - sink, 0).
    Value begin = constantIndex(b, static_cast<int64_t>(op.getSinkTokens()));
    Value count =
        maxIndex(b,
                 subIndex(b,
                          subIndex(b, numKeys,
                                   constantIndex(b, static_cast<int64_t>(
                                                        op.getWindowTokens()))),
                          begin),
                 zero);
    Value end = addIndex(b, begin, count);
    Value blockStep = constantIndex(b, options.keyBlock);

    buildParallel(
        b, {batchSize, kvHeads}, [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
          Value zeroVector = splatF32(b, width, constantF32(b, 0.0f));
          forEachChunk(
              b, headDim, width, {},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                writeChunkF32(b, zeroVector, mean, ivs, chunk);
                return SmallVector<Value>{};
              });
          // Blocks of keys are summed on their own, then added to the total,
          // which keeps the f32 rounding error of long ranges small.
          buildFor(
              b, begin, end, blockStep, {},
              [&](ImplicitLocOpBuilder &b, Value blockBegin, ValueRange) {
                Value blockKeys =
                    minIndex(b, blockStep, subIndex(b, end, blockBegin));
                forEachChunk(
                    b, headDim, width, {},
                    [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                        ValueRange) {
                      Value blockSum = buildFor(
                          b, zero, blockKeys, one, zeroVector,
                          [&](ImplicitLocOpBuilder &b, Value j,
                              ValueRange acc) {
                            Value k = readChunkF32(
                                b, key,
                                {ivs[0], ivs[1], addIndex(b, blockBegin, j)},
                                chunk, width);
                            return SmallVector<Value>{
                                arith::AddFOp::create(b, acc[0], k)};
                          })[0];
                      Value total = readChunkF32(b, mean, ivs, chunk, width);
                      writeChunkF32(b,
                                    arith::AddFOp::create(b, total, blockSum),
                                    mean, ivs, chunk);
                      return SmallVector<Value>{};
                    });
                return SmallVector<Value>{};
              });
          Value countF = arith::UIToFPOp::create(
              b, b.getF32Type(),
              arith::IndexCastUIOp::create(b, b.getI64Type(), count));
          Value nonEmpty =
              arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, count, zero);
          Value reciprocal =
              arith::DivFOp::create(b, constantF32(b, 1.0f), countF);
          Value zeroF = constantF32(b, 0.0f);
          Value inverse =
              arith::SelectOp::create(b, nonEmpty, reciprocal, zeroF);
          Value inverseVector = splatF32(b, width, inverse);
          forEachChunk(
              b, headDim, width, {},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                Value total = readChunkF32(b, mean, ivs, chunk, width);
                writeChunkF32(b, arith::MulFOp::create(b, total, inverseVector),
                              mean, ivs, chunk);
                return SmallVector<Value>{};
              });
        });

    buildParallel(
        b, {batchSize, kvHeads, numKeys},
        [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
          forEachChunk(
              b, headDim, width, {},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                Value k = readChunkF32(b, key, ivs, chunk, width);
                Value m = readChunkF32(b, mean, {ivs[0], ivs[1]}, chunk, width);
                writeChunkF32(b, arith::SubFOp::create(b, k, m), centered, ivs,
                              chunk);
                return SmallVector<Value>{};
              });
        });
  }
};
} // namespace

void mlir::magicpig::populateDenseAttentionLoweringPatterns(
    RewritePatternSet &patterns, const LoweringOptions &options) {
  patterns.add<AttentionOpLowering<AttentionOp>,
               AttentionOpLowering<WindowAttentionOp>, MergeOpLowering,
               KeyNormsOpLowering, CenterKeysOpLowering>(patterns.getContext(),
                                                         options);
}
