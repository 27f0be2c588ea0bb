//===- SamplingLowering.cpp - retrieve and estimate to loops --------------===//
//
// Decode-time LSH sampling on the host. Both ops are an scf.parallel over
// the (batch, query head) pairs (OpenMP after convert-scf-to-openmp) whose
// work touches only what the sample needs: retrieve walks the query's
// bucket in each table (about N / 2^K tokens per table), estimate reads the
// K and V rows of the candidates only.
//
// Defined behaviour on bad data (the op descriptions define the math; this
// is what the generated code does outside it):
//  - codes are masked to their low K bits, bucket bounds read from the
//    offsets are clamped to [0, N], and token indices outside [0, N) read
//    from the tables (outside [0, min(N, Nn)) from the candidate list) are
//    skipped, never dereferenced;
//  - counts are clamped to [0, C]; retrieve never writes past C entries;
//  - sizes are the minimum over the operands that carry them, so dynamic
//    shapes that disagree cannot send a loop past an operand; with no kv
//    head nothing is retrieved and the estimate is empty;
//  - non-finite query, key or value elements make that head's output and
//    lse NaN or infinite (they propagate through the scores; NaN wins the
//    max); other heads are unaffected and nothing is read out of bounds.
//
//===----------------------------------------------------------------------===//

#include "HashSamplingUtils.h"
#include "LoweringUtils.h"
#include "RetrievalProbability.h"

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;
using namespace mlir::magicpig;

namespace {

/// `0 <= j < n` for a signed index `j`, as one unsigned comparison.
static Value isTokenIndex(ImplicitLocOpBuilder &b, Value j, Value n) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, j, n);
}

/// The kv head of query head `h`: h * Hkv / Hq. Equal to h / (Hq / Hkv)
/// when Hq is a multiple of Hkv, and below Hkv whatever the sizes.
static Value kvHeadOf(ImplicitLocOpBuilder &b, Value h, Value queryHeads,
                      Value kvHeads) {
  return b.createOrFold<arith::DivUIOp>(mulIndex(b, h, kvHeads), queryHeads);
}

/// scf.parallel over the (batch, query head) pairs, each iteration in its
/// own alloca scope; `body` gets the pair (bi, h) and the kv head g of h.
static void forEachQueryHead(
    ImplicitLocOpBuilder &b, Value batch, Value queryHeads, Value kvHeads,
    llvm::function_ref<void(ImplicitLocOpBuilder &, Value bi, Value h,
                            Value g)>
        body) {
  buildParallel(b, ValueRange{batch, queryHeads},
                [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
                  buildAllocaScope(b, [&](ImplicitLocOpBuilder &b) {
                    Value bi = ivs[0], h = ivs[1];
                    body(b, bi, h, kvHeadOf(b, h, queryHeads, kvHeads));
                  });
                });
}

static Value minOf(ImplicitLocOpBuilder &b, ArrayRef<Value> values) {
  Value result = values.front();
  for (Value v : values.drop_front())
    result = minIndex(b, result, v);
  return result;
}

//===----------------------------------------------------------------------===//
// retrieve
//===----------------------------------------------------------------------===//

/// Per (b, h), with a counter per token of the cache (one byte while L
/// fits in it):
///   1. zero the counters (vector stores);
///   2. for each table l, for each token j of the query's bucket: ++hits[j];
///   3. scan the counters a vector at a time: the lanes with
///      hits >= T form a bit mask, whose set bits (count-trailing-zeros
///      loop) are the candidates, in ascending j; write while count < C.
/// Step 3 reads N counters but at a full vector per instruction, cheaper
/// than the N / 2^K * L scattered increments of step 2; it yields the
/// ascending order without a sort. The counters live on the heap
/// (memref.alloc) since N bytes can exceed a worker thread's stack; each
/// (b, h) gets a fresh buffer, so there is no reset between heads (the
/// zero fill is N / 64 vector stores, below the cost of step 2).
/// Step 2 first reads all L bucket bounds (prefetching each bucket) and
/// then walks the buckets, so the cache misses of the L tables overlap.
struct RetrieveLowering : LoopLoweringPattern<RetrieveOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  void lower(RetrieveOp op, ImplicitLocOpBuilder &b) const override {
    Value queryCodes = op.getQueryCodes(), offsets = op.getOffsets(),
          indices = op.getIndices(), candidates = op.getCandidates(),
          counts = op.getCounts();
    int64_t bits = op.getLshBits(), buckets = int64_t(1) << bits;
    int64_t minCollisions = op.getMinCollisions();
    Type candidateType =
        cast<MemRefType>(candidates.getType()).getElementType();
    Type countType = cast<MemRefType>(counts.getType()).getElementType();

    Value batch = minOf(b, {dimSize(b, queryCodes, 0), dimSize(b, offsets, 0),
                            dimSize(b, indices, 0), dimSize(b, candidates, 0),
                            dimSize(b, counts, 0)});
    Value queryHeads =
        minOf(b, {dimSize(b, queryCodes, 1), dimSize(b, candidates, 1),
                  dimSize(b, counts, 1)});
    Value offsetsHeads = dimSize(b, offsets, 1);
    Value kvHeads = minIndex(b, offsetsHeads, dimSize(b, indices, 1));
    Value tables = minOf(b, {dimSize(b, queryCodes, 2), dimSize(b, offsets, 2),
                             dimSize(b, indices, 2)});
    Value tokens = dimSize(b, indices, 3);
    Value capacity = dimSize(b, candidates, 2);
    // A bucket c reads offsets[c] and offsets[c + 1]: valid when the rows
    // hold 2^K + 1 entries (checked by the verifier when static).
    // With no kv head (possible only with dynamic shapes) there is no table
    // to read: nothing is retrieved.
    Value offsetsLength = dimSize(b, offsets, 3);
    Value offsetsNeeded = constantIndex(b, buckets + 1);
    Value offsetsLongEnough = arith::CmpIOp::create(
        b, arith::CmpIPredicate::sge, offsetsLength, offsetsNeeded);
    Value anyKvHead = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt,
                                            kvHeads, constantIndex(b, 0));
    Value offsetsComplete =
        arith::AndIOp::create(b, offsetsLongEnough, anyKvHead);

    // Hits of one token are at most L (tables list a token once); the
    // counter type holds L when L is static, else 32 bits.
    int64_t staticTables = cast<MemRefType>(queryCodes.getType()).getDimSize(2);
    unsigned counterBits = 32;
    if (!ShapedType::isDynamic(staticTables))
      counterBits = staticTables < 256 ? 8 : staticTables < 65536 ? 16 : 32;
    auto counterType = b.getIntegerType(counterBits);
    int64_t lanes = integerLanes(counterType, options.vectorWidth);
    auto laneMaskType = b.getIntegerType(lanes);

    Value zero = constantIndex(b, 0), one = constantIndex(b, 1);
    forEachQueryHead(
        b, batch, queryHeads, kvHeads,
        [&](ImplicitLocOpBuilder &b, Value bi, Value h, Value g) {

          // 1. Counters, padded to whole vectors for the scan.
          Value lanesValue = constantIndex(b, lanes);
          Value vectors = ceilDivIndex(b, tokens, lanesValue);
          Value paddedTokens = mulIndex(b, vectors, constantIndex(b, lanes));
          Value hits = memref::AllocOp::create(
              b, MemRefType::get({ShapedType::kDynamic}, counterType),
              ValueRange{paddedTokens}, b.getI64IntegerAttr(64));
          fillIntegerRange(b, hits, ValueRange{}, zero, paddedTokens, 0,
                           options.vectorWidth);

          // 2. Count the collisions of every token of the query's buckets.
          Value oneHit =
              arith::ConstantOp::create(b, b.getIntegerAttr(counterType, 1));
          // Bucket bounds [first, last) of every table.
          Value ranges = memref::AllocaOp::create(
              b, MemRefType::get({ShapedType::kDynamic, 2}, b.getIndexType()),
              ValueRange{tables});
          buildIf(b, offsetsComplete, [&](ImplicitLocOpBuilder &b) {
            // 2a. Every table's bucket bounds first, prefetching the start of
            // each bucket's indices: the L offset and index misses overlap
            // instead of being paid one table after the other.
            buildFor(
                b, zero, tables, one, {},
                [&](ImplicitLocOpBuilder &b, Value l, ValueRange) {
                  Value code = memref::LoadOp::create(b, queryCodes,
                                                      ValueRange{bi, h, l});
                  Value c = bucketOfCode(b, code, bits);
                  auto bound = [&](Value at) {
                    Value stored = memref::LoadOp::create(
                        b, offsets, ValueRange{bi, g, l, at});
                    return maxIndex(
                        b, minIndex(b, indexOfStored(b, stored), tokens),
                        zero);
                  };
                  Value first = bound(c);
                  Value last = maxIndex(b, bound(addIndex(b, c, one)), first);
                  memref::StoreOp::create(b, first, ranges,
                                          ValueRange{l, zero});
                  memref::StoreOp::create(b, last, ranges,
                                          ValueRange{l, one});
                  Value nonEmpty = arith::CmpIOp::create(
                      b, arith::CmpIPredicate::ult, first, last);
                  buildIf(b, nonEmpty, [&](ImplicitLocOpBuilder &b) {
                    memref::PrefetchOp::create(b, indices,
                                               ValueRange{bi, g, l, first},
                                               /*isWrite=*/false,
                                               /*localityHint=*/3,
                                               /*isDataCache=*/true);
                  });
                  return SmallVector<Value>{};
                });
            // 2b. Walk the buckets.
            buildFor(
                b, zero, tables, one, {},
                [&](ImplicitLocOpBuilder &b, Value l, ValueRange) {
                  Value first =
                      memref::LoadOp::create(b, ranges, ValueRange{l, zero});
                  Value last =
                      memref::LoadOp::create(b, ranges, ValueRange{l, one});
                  buildFor(
                      b, first, last, one, {},
                      [&](ImplicitLocOpBuilder &b, Value r, ValueRange) {
                        Value j = indexOfStored(
                            b, memref::LoadOp::create(
                                   b, indices, ValueRange{bi, g, l, r}));
                        buildIf(b, isTokenIndex(b, j, tokens),
                                [&](ImplicitLocOpBuilder &b) {
                                  Value count =
                                      memref::LoadOp::create(b, hits, j);
                                  memref::StoreOp::create(
                                      b,
                                      arith::AddIOp::create(b, count, oneHit),
                                      hits, j);
                                });
                        return SmallVector<Value>{};
                      });
                  return SmallVector<Value>{};
                });
          });

          // 3. Scan: candidates in ascending token order, at most C of them.
          auto vectorType = VectorType::get({lanes}, counterType);
          Value threshold = arith::ConstantOp::create(
              b,
              DenseElementsAttr::get(
                  vectorType, b.getIntegerAttr(counterType, minCollisions)));
          Value noLanes =
              arith::ConstantOp::create(b, b.getIntegerAttr(laneMaskType, 0));
          Value oneLane =
              arith::ConstantOp::create(b, b.getIntegerAttr(laneMaskType, 1));
          Value found = buildFor(
              b, zero, paddedTokens, constantIndex(b, lanes), zero,
              [&](ImplicitLocOpBuilder &b, Value j0, ValueRange count) {
                Value counters =
                    vector::LoadOp::create(b, vectorType, hits, j0);
                Value selected = arith::CmpIOp::create(
                    b, arith::CmpIPredicate::uge, counters, threshold);
                Value mask = vector::ExtractOp::create(
                    b,
                    vector::BitCastOp::create(
                        b, VectorType::get({1}, laneMaskType), selected),
                    ArrayRef<int64_t>{0});
                // Visit the set bits, lowest first.
                auto loop = scf::WhileOp::create(
                    b, TypeRange{laneMaskType, b.getIndexType()},
                    ValueRange{mask, count[0]},
                    [&](OpBuilder &nested, Location loc, ValueRange args) {
                      ImplicitLocOpBuilder b(loc, nested);
                      Value more = arith::CmpIOp::create(
                          b, arith::CmpIPredicate::ne, args[0], noLanes);
                      scf::ConditionOp::create(b, more, args);
                    },
                    [&](OpBuilder &nested, Location loc, ValueRange args) {
                      ImplicitLocOpBuilder b(loc, nested);
                      Value lane = arith::IndexCastUIOp::create(
                          b, b.getIndexType(),
                          math::CountTrailingZerosOp::create(b, args[0]));
                      Value j = addIndex(b, j0, lane);
                      Value room = arith::CmpIOp::create(
                          b, arith::CmpIPredicate::ult, args[1], capacity);
                      buildIf(b, room, [&](ImplicitLocOpBuilder &b) {
                        memref::StoreOp::create(
                            b, storedOfIndex(b, j, candidateType), candidates,
                            ValueRange{bi, h, args[1]});
                      });
                      Value next = arith::SelectOp::create(
                          b, room, addIndex(b, args[1], one), args[1]);
                      Value rest = arith::AndIOp::create(
                          b, args[0],
                          arith::SubIOp::create(b, args[0], oneLane));
                      scf::YieldOp::create(b, ValueRange{rest, next});
                    });
                return SmallVector<Value>{loop.getResult(1)};
              })[0];
          memref::StoreOp::create(b, storedOfIndex(b, found, countType),
                                  counts, ValueRange{bi, h});
          memref::DeallocOp::create(b, hits);
        });
  }
};

//===----------------------------------------------------------------------===//
// estimate
//===----------------------------------------------------------------------===//

/// Candidates ahead whose K or V row is prefetched while the current one is
/// used: enough to cover a DRAM access with the ~20 ns of work per row.
constexpr int64_t kPrefetchDistance = 8;
/// Bytes of one cache line (the prefetch granularity).
constexpr int64_t kCacheLineBytes = 64;

/// Per (b, h), over the first n = clamp(counts, 0, C) candidates:
///   A. per candidate j (gathered row, prefetched ahead):
///        base[r] = scale * q . k_j,
///        cos[r]  = (q . k_j - q . mean) / max(|q| norm_j, 1e-30)
///      or base[r] = -inf for j outside [0, min(N, Nn)) (skipped);
///   B. vectors of candidates: s = base - log(max(u(clamp(cos)), 1e-30)),
///      m = max s;
///   C. vectors of candidates: w = exp(s - m), l = sum w;
///   D. per valid candidate: acc += w_r * v_j (gathered row, prefetched);
///   E. out = acc / l, lse = m + log(l); or out = 0, lse = -inf if m = -inf
///      (no valid candidate).
/// The dot products and updates run along d in f32 vectors with a masked
/// tail; the per-candidate math of B and C runs across candidates in
/// vectors, so acos/log/exp are vector ops.
struct EstimateLowering : LoopLoweringPattern<EstimateOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  void lower(EstimateOp op, ImplicitLocOpBuilder &b) const override {
    Value query = op.getQuery(), key = op.getKey(), value = op.getValue(),
          norms = op.getKeyNorms(), mean = op.getKeyMean(),
          candidates = op.getCandidates(), counts = op.getCounts(),
          output = op.getOutput(), lse = op.getLse();
    int64_t width = options.vectorWidth;
    auto f32 = b.getF32Type();
    const float inf = std::numeric_limits<float>::infinity();

    Value batch =
        minOf(b, {dimSize(b, query, 0), dimSize(b, candidates, 0),
                  dimSize(b, counts, 0), dimSize(b, output, 0),
                  dimSize(b, lse, 0), dimSize(b, key, 0), dimSize(b, value, 0),
                  dimSize(b, norms, 0), dimSize(b, mean, 0)});
    Value queryHeads = minOf(
        b, {dimSize(b, query, 1), dimSize(b, candidates, 1),
            dimSize(b, counts, 1), dimSize(b, output, 1), dimSize(b, lse, 1)});
    Value kvHeads = minOf(b, {dimSize(b, key, 1), dimSize(b, value, 1),
                              dimSize(b, norms, 1), dimSize(b, mean, 1)});
    // Candidates must have a key, a value and a norm (the norms may cover
    // only the prefix indexed at prefill).
    // With no kv head (possible only with dynamic shapes) no candidate is
    // valid and nothing of K, V, the norms or the mean is read.
    Value anyKvHead = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt,
                                            kvHeads, constantIndex(b, 0));
    Value storedTokens = minOf(
        b, {dimSize(b, key, 2), dimSize(b, value, 2), dimSize(b, norms, 2)});
    Value tokens = arith::SelectOp::create(b, anyKvHead, storedTokens,
                                           constantIndex(b, 0));
    Value headDim = minOf(
        b, {dimSize(b, query, 2), dimSize(b, key, 3), dimSize(b, mean, 2)});
    Value storedValueDim = dimSize(b, value, 3);
    Value valueDim = minIndex(b, storedValueDim, dimSize(b, output, 2));
    Value capacity = dimSize(b, candidates, 2);

    Value zero = constantIndex(b, 0), one = constantIndex(b, 1);
    forEachQueryHead(
        b, batch, queryHeads, kvHeads,
        [&](ImplicitLocOpBuilder &b, Value bi, Value h, Value g) {
          Value stored = memref::LoadOp::create(b, counts, ValueRange{bi, h});
          Value n = maxIndex(
              b, minIndex(b, indexOfStored(b, stored), capacity), zero);
          auto candidate = [&](ImplicitLocOpBuilder &b, Value r) {
            return indexOfStored(b, memref::LoadOp::create(
                                        b, candidates, ValueRange{bi, h, r}));
          };

          // The query in f32 and its norm.
          auto dynamicF32 = MemRefType::get({ShapedType::kDynamic}, f32);
          Value q =
              memref::AllocaOp::create(b, dynamicF32, ValueRange{headDim});
          forEachChunk(
              b, headDim, width, {},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                writeChunkF32(
                    b,
                    readChunkF32(b, query, ValueRange{bi, h}, chunk, width),
                    q, ValueRange{}, chunk);
                return SmallVector<Value>{};
              });
          Value queryNorm = math::SqrtOp::create(
              b, buildRowDot(b, q, {}, q, {}, headDim, width));
          // q . (k - m) = q . k - q . m: the centered dot product SimHash
          // saw, from the raw key and one dot product with the mean per head.
          Value queryDotMean =
              scf::IfOp::create(
                  b, anyKvHead,
                  [&](OpBuilder &nested, Location loc) {
                    ImplicitLocOpBuilder b(loc, nested);
                    scf::YieldOp::create(b, buildRowDot(b, q, {}, mean,
                                                        ValueRange{bi, g},
                                                        headDim, width));
                  },
                  [&](OpBuilder &nested, Location loc) {
                    ImplicitLocOpBuilder b(loc, nested);
                    scf::YieldOp::create(b, constantF32(b, 0.0f));
                  })
                  .getResult(0);

          // Per-candidate scratch on the heap: n is up to C, which can be N.
          Value base = memref::AllocOp::create(b, dynamicF32, ValueRange{n},
                                               b.getI64IntegerAttr(64));
          Value cosine = memref::AllocOp::create(b, dynamicF32, ValueRange{n},
                                                 b.getI64IntegerAttr(64));

          // Prefetches the `rows` row of candidate r + distance, if valid.
          auto prefetchAhead = [&](ImplicitLocOpBuilder &b, Value r,
                                   Value rows) {
            Value ahead = addIndex(b, r, constantIndex(b, kPrefetchDistance));
            Value inList =
                arith::CmpIOp::create(b, arith::CmpIPredicate::ult, ahead, n);
            buildIf(b, inList, [&](ImplicitLocOpBuilder &b) {
              Value j = candidate(b, ahead);
              buildIf(
                  b, isTokenIndex(b, j, tokens),
                  [&](ImplicitLocOpBuilder &b) {
                    auto type = cast<MemRefType>(rows.getType());
                    int64_t perLine = std::max<int64_t>(
                        1, kCacheLineBytes * 8 /
                               type.getElementType().getIntOrFloatBitWidth());
                    Value rowLength = rows == key ? headDim : valueDim;
                    buildFor(
                        b, zero, rowLength, constantIndex(b, perLine), {},
                        [&](ImplicitLocOpBuilder &b, Value i, ValueRange) {
                          memref::PrefetchOp::create(
                              b, rows, ValueRange{bi, g, j, i},
                              /*isWrite=*/false, /*localityHint=*/3,
                              /*isDataCache=*/true);
                          return SmallVector<Value>{};
                        });
                  });
            });
          };

          // A. Dot products with the candidates' keys.
          Value scale = constantF32(b, op.getScale().convertToFloat());
          Value tiny = constantF32(b, 1e-30f);
          Value minusInf = constantF32(b, -inf);
          buildFor(
              b, zero, n, one, {},
              [&](ImplicitLocOpBuilder &b, Value r, ValueRange) {
                prefetchAhead(b, r, key);
                Value j = candidate(b, r);
                // The result types come from the yields.
                auto scored = scf::IfOp::create(
                    b, isTokenIndex(b, j, tokens),
                    [&](OpBuilder &nested, Location loc) {
                      ImplicitLocOpBuilder b(loc, nested);
                      Value dot =
                          buildRowDot(b, q, {}, key, ValueRange{bi, g, j},
                                      headDim, width);
                      Value keyNorm = memref::LoadOp::create(
                          b, norms, ValueRange{bi, g, j});
                      Value denominator = arith::MaximumFOp::create(
                          b, arith::MulFOp::create(b, queryNorm, keyNorm),
                          tiny);
                      Value centered =
                          arith::SubFOp::create(b, dot, queryDotMean);
                      scf::YieldOp::create(
                          b, ValueRange{arith::MulFOp::create(b, scale, dot),
                                        arith::DivFOp::create(b, centered,
                                                              denominator)});
                    },
                    [&](OpBuilder &nested, Location loc) {
                      ImplicitLocOpBuilder b(loc, nested);
                      scf::YieldOp::create(
                          b, ValueRange{minusInf, constantF32(b, 0.0f)});
                    });
                memref::StoreOp::create(b, scored.getResult(0), base, r);
                memref::StoreOp::create(b, scored.getResult(1), cosine, r);
                return SmallVector<Value>{};
              });

          // B. Scores s = base - log(max(u, 1e-30)) and their maximum. Lanes
          // past n read base = -inf, which leaves the maximum unchanged.
          auto vectorF32 = VectorType::get({width}, f32);
          auto splat = [&](ImplicitLocOpBuilder &b, float v) {
            return arith::ConstantOp::create(
                b, DenseElementsAttr::get(vectorF32, b.getF32FloatAttr(v)));
          };
          Value maxScore = forEachChunk(
              b, n, width, ValueRange{splat(b, -inf)},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                  ValueRange running) {
                Value c = readChunkF32(b, cosine, {}, chunk, width);
                c = arith::MaximumFOp::create(b, c, splat(b, -1.0f));
                c = arith::MinimumFOp::create(b, c, splat(b, 1.0f));
                Value u = buildRetrievalProbability(b, c, op.getLshBits(),
                                                    op.getLshTables(),
                                                    op.getMinCollisions());
                Value logU = math::LogOp::create(
                    b, arith::MaximumFOp::create(b, u, splat(b, 1e-30f)));
                Value s = arith::SubFOp::create(
                    b, readChunkF32(b, base, {}, chunk, width, -inf), logU);
                writeChunkF32(b, s, base, {}, chunk);
                // Masked-off lanes of s hold -inf - log(u): still -inf.
                return SmallVector<Value>{
                    arith::MaximumFOp::create(b, running[0], s)};
              })[0];
          Value m = vector::ReductionOp::create(
              b, vector::CombiningKind::MAXIMUMF, maxScore);

          Value hasSample = arith::CmpFOp::create(
              b, arith::CmpFPredicate::UNE, m, minusInf);
          scf::IfOp::create(
              b, hasSample,
              [&](OpBuilder &nested, Location loc) {
                ImplicitLocOpBuilder b(loc, nested);
                // C. Weights w = exp(s - m) in place, and their sum.
                Value mv = splatF32(b, width, m);
                Value sumVector = forEachChunk(
                    b, n, width, ValueRange{splat(b, 0.0f)},
                    [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                        ValueRange sum) {
                      Value s = readChunkF32(b, base, {}, chunk, width, -inf);
                      Value w = math::ExpOp::create(
                          b, arith::SubFOp::create(b, s, mv));
                      writeChunkF32(b, w, base, {}, chunk);
                      return SmallVector<Value>{
                          arith::AddFOp::create(b, sum[0], w)};
                    })[0];
                Value total = vector::ReductionOp::create(
                    b, vector::CombiningKind::ADD, sumVector);

                // D. acc = sum_r w_r v_j over the valid candidates.
                Value acc = memref::AllocaOp::create(b, dynamicF32,
                                                     ValueRange{valueDim});
                forEachChunk(b, valueDim, width, {},
                             [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                                 ValueRange) {
                               writeChunkF32(b, splat(b, 0.0f), acc, {},
                                             chunk);
                               return SmallVector<Value>{};
                             });
                buildFor(
                    b, zero, n, one, {},
                    [&](ImplicitLocOpBuilder &b, Value r, ValueRange) {
                      prefetchAhead(b, r, value);
                      Value j = candidate(b, r);
                      buildIf(
                          b, isTokenIndex(b, j, tokens),
                          [&](ImplicitLocOpBuilder &b) {
                            Value w = splatF32(
                                b, width, memref::LoadOp::create(b, base, r));
                            forEachChunk(
                                b, valueDim, width, {},
                                [&](ImplicitLocOpBuilder &b,
                                    VectorChunk chunk, ValueRange) {
                                  Value v = readChunkF32(b, value,
                                                         ValueRange{bi, g, j},
                                                         chunk, width);
                                  Value a =
                                      readChunkF32(b, acc, {}, chunk, width);
                                  writeChunkF32(
                                      b, vector::FMAOp::create(b, w, v, a),
                                      acc, {}, chunk);
                                  return SmallVector<Value>{};
                                });
                          });
                      return SmallVector<Value>{};
                    });

                // E. Normalize.
                Value inverse = splatF32(
                    b, width,
                    arith::DivFOp::create(b, constantF32(b, 1.0f), total));
                forEachChunk(
                    b, valueDim, width, {},
                    [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                        ValueRange) {
                      Value a = readChunkF32(b, acc, {}, chunk, width);
                      writeChunkF32(b, arith::MulFOp::create(b, a, inverse),
                                    output, ValueRange{bi, h}, chunk);
                      return SmallVector<Value>{};
                    });
                memref::StoreOp::create(
                    b,
                    arith::AddFOp::create(b, m,
                                          math::LogOp::create(b, total)),
                    lse, ValueRange{bi, h});
                scf::YieldOp::create(b);
              },
              [&](OpBuilder &nested, Location loc) {
                // Nothing sampled: no contribution.
                ImplicitLocOpBuilder b(loc, nested);
                forEachChunk(b, valueDim, width, {},
                             [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                                 ValueRange) {
                               writeChunkF32(b, splat(b, 0.0f), output,
                                             ValueRange{bi, h}, chunk);
                               return SmallVector<Value>{};
                             });
                memref::StoreOp::create(b, minusInf, lse, ValueRange{bi, h});
                scf::YieldOp::create(b);
              });
          memref::DeallocOp::create(b, base);
          memref::DeallocOp::create(b, cosine);
        });
  }
};

} // namespace

void mlir::magicpig::populateSamplingLoweringPatterns(
    RewritePatternSet &patterns, const LoweringOptions &options) {
  patterns.add<RetrieveLowering, EstimateLowering>(patterns.getContext(),
                                                   options);
}
