//===- AttentionKernel.cpp - attention and window_attention on the GPU ----===//
//
// One block per (query position, query head, batch): grid (S, Hq, B). The
// block walks its key set in chunks of blockSize keys with an online
// softmax, so no buffer grows with the context:
//
//   m = -inf, l = 0, acc[:] = 0               (acc: f32, one row per block)
//   for each chunk of blockSize keys:
//     s_t = scale * q . k_j                    (thread t: the chunk's t-th key)
//     m' = max(m, block max s)                 (TargetInfo: shuffles + smem)
//     p_t = exp(s_t - m')  -> shared memory, l = l * exp(m - m') + block sum p
//     acc[e] = acc[e] * exp(m - m') + sum_t p_t v_j[e]
//                                              (threads stride over e: the
//                                               V reads are coalesced)
//   out[e] = acc[e] / l,  lse = m + log l (-inf for an empty set)
//
// The accumulator row lives in a device scratch buffer [B, Hq, S, dv] (the
// output's size, in f32 whatever the output type). The op's operands, the
// key set and the final lse come from AttentionMath.h, shared with the CPU
// lowering.
//
// attention reads the whole K/V, copied to the device. window_attention
// reads only its sink rows [0, firstEnd) and window rows [secondBegin, N)
// (buildWindowSegments): only those cross PCIe, gathered by the host into a
// compact K/V [B, Hkv, firstEnd + N - secondBegin, d] (DeviceInput), over
// which the kernel attends to every live row. Compact row t holds key t for
// t < firstEnd and key secondBegin + (t - firstEnd) after: the keyAt
// mapping of the two-segment walk over the full cache, so the chunks, the
// scores and the reductions are the same and so are the results.
//
//===----------------------------------------------------------------------===//

#include "DeviceTransfers.h"
#include "KernelBuilders.h"
#include "Patterns.h"

#include "../MagicPIGToSCF/AttentionMath.h"
#include "../MagicPIGToSCF/LoweringUtils.h"
#include "../MagicPIGToSCF/RuntimeSizeChecks.h"

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;
using namespace mlir::magicpig;

static void buildAttentionKernel(ImplicitLocOpBuilder &b,
                                 const AttentionSpec &spec,
                                 const GPULoweringOptions &options,
                                 const DeviceBuffers &buffers,
                                 const KernelIds &ids, Value liveKeys) {
  Value query = buffers.inputs[0], key = buffers.inputs[1],
        value = buffers.inputs[2];
  Value output = buffers.outputs[0];
  Value acc = buffers.scratch[0];
  Value probs = ids.workgroup[0];
  bool hasQueryLength = cast<MemRefType>(query.getType()).getRank() == 4;

  Value zero = constantIndex(b, 0), one = constantIndex(b, 1);
  Value pos = ids.blockX, head = ids.blockY, batch = ids.blockZ;
  Value queryHeads = dimSize(b, query, 1);
  Value queryLength = hasQueryLength ? dimSize(b, query, 2) : one;
  Value headDim = dimSize(b, key, 3);
  Value kvHeads = dimSize(b, key, 1);
  Value valueDim = dimSize(b, value, 3);
  // No kv head (dynamic Hkv = 0): nothing to read, an empty key set.
  Value noKvHead =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kvHeads, zero);
  Value allKeys = liveKeys ? liveKeys : dimSize(b, key, 2);
  Value numKeys = arith::SelectOp::create(b, noKvHead, zero, allKeys);
  Value groupSize =
      arith::DivUIOp::create(b, queryHeads, maxIndex(b, kvHeads, one));
  Value group = arith::DivUIOp::create(b, head, maxIndex(b, groupSize, one));
  SmallVector<Value> queryRow = {batch, head};
  if (hasQueryLength)
    queryRow.push_back(pos);
  auto rowAt = [&](ValueRange row, Value e) {
    SmallVector<Value> index(row);
    index.push_back(e);
    return index;
  };
  SmallVector<Value> accRow = {batch, head, pos};

  // The key set [0, firstEnd) U [secondBegin, end).
  Value firstEnd = zero, secondBegin = zero, end = numKeys;
  if (spec.windowStart) {
    WindowSegments segments =
        buildWindowSegments(b, numKeys, spec.windowStart, spec.sinkTokens);
    firstEnd = segments.firstEnd;
    secondBegin = segments.secondBegin;
  } else if (spec.window || (spec.causal && hasQueryLength)) {
    // Query s is position N - S + s: it sees keys j <= N - S + s, and
    // with a sliding window only the last `window` of them.
    QueryKeyRange range = buildQueryKeyRange(b, spec, numKeys, queryLength,
                                             hasQueryLength ? pos : zero);
    secondBegin = range.begin;
    end = minIndex(b, end, range.end);
  }
  end = maxIndex(b, end, secondBegin);
  Value count = addIndex(b, firstEnd, subIndex(b, end, secondBegin));
  auto keyAt = [&](ImplicitLocOpBuilder &b, Value t) -> Value {
    Value inFirst =
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, t, firstEnd);
    return arith::SelectOp::create(
        b, inFirst, t, addIndex(b, secondBegin, subIndex(b, t, firstEnd)));
  };

  const GPUTargetInfo &target = options.target;
  Value scale = constantF32(b, spec.scale);
  Value zeroF = constantF32(b, 0.0f);
  Value negInf = constantF32(b, -std::numeric_limits<float>::infinity());

  // Each thread owns the accumulator elements e = thread + i * blockSize.
  buildBlockStridedFor(b, ids, valueDim, {},
                       [&](ImplicitLocOpBuilder &b, Value e, ValueRange) {
                         memref::StoreOp::create(b, zeroF, acc,
                                                 rowAt(accRow, e));
                         return SmallVector<Value>{};
                       });

  SmallVector<Value> state = buildFor(
      b, zero, count, ids.blockSize, {negInf, zeroF},
      [&](ImplicitLocOpBuilder &b, Value chunk, ValueRange carried) {
        Value max = carried[0], sum = carried[1];
        // Threads past the end score a clamped key and mask it to -inf, so
        // every thread takes part in the block reductions.
        Value t = addIndex(b, chunk, ids.thread);
        Value valid =
            arith::CmpIOp::create(b, arith::CmpIPredicate::ult, t, count);
        Value clamped = minIndex(b, t, subIndex(b, count, one));
        Value dot = buildScalarRowDot(b, query, queryRow, key,
                                      {batch, group, keyAt(b, clamped)},
                                      headDim);
        Value score = arith::SelectOp::create(
            b, valid, arith::MulFOp::create(b, scale, dot), negInf);

        Value newMax = arith::MaximumFOp::create(
            b, max,
            target.buildBlockReduce(b, score, /*isMax=*/true,
                                    ids.reductionScratch, ids.thread,
                                    ids.blockSize));
        // Scores all -inf so far: exponentiate relative to 0, not -inf
        // (-inf - -inf would be NaN); every term is then exp(-inf) = 0.
        Value reference = arith::SelectOp::create(
            b,
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax,
                                  negInf),
            zeroF, newMax);
        Value p = math::ExpOp::create(b, arith::SubFOp::create(b, score,
                                                               reference));
        Value correction =
            math::ExpOp::create(b, arith::SubFOp::create(b, max, reference));
        Value chunkSum = target.buildBlockReduce(
            b, p, /*isMax=*/false, ids.reductionScratch, ids.thread,
            ids.blockSize);
        Value newSum = math::FmaOp::create(b, sum, correction, chunkSum);

        memref::StoreOp::create(b, p, probs, ids.thread);
        gpu::BarrierOp::create(b); // Every p_t is visible.
        Value chunkKeys = minIndex(b, ids.blockSize, subIndex(b, count, chunk));
        buildBlockStridedFor(
            b, ids, valueDim, {},
            [&](ImplicitLocOpBuilder &b, Value e, ValueRange) {
              Value scaled = arith::MulFOp::create(
                  b, memref::LoadOp::create(b, acc, rowAt(accRow, e)),
                  correction);
              Value updated =
                  buildFor(b, zero, chunkKeys, one, {scaled},
                           [&](ImplicitLocOpBuilder &b, Value i,
                               ValueRange a) {
                             Value pi = memref::LoadOp::create(b, probs, i);
                             Value j = keyAt(b, addIndex(b, chunk, i));
                             Value v = loadF32(b, value, {batch, group, j, e});
                             return SmallVector<Value>{
                                 math::FmaOp::create(b, pi, v, a[0])};
                           })[0];
              memref::StoreOp::create(b, updated, acc, rowAt(accRow, e));
              return SmallVector<Value>{};
            });
        gpu::BarrierOp::create(b); // probs is free for the next chunk.
        return SmallVector<Value>{newMax, newSum};
      });
  Value max = state[0], sum = state[1];

  Value nonEmpty =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zeroF);
  Value inverse = arith::SelectOp::create(
      b, nonEmpty, arith::DivFOp::create(b, constantF32(b, 1.0f), sum), zeroF);
  buildBlockStridedFor(
      b, ids, valueDim, {}, [&](ImplicitLocOpBuilder &b, Value e, ValueRange) {
        Value a = memref::LoadOp::create(b, acc, rowAt(accRow, e));
        storeF32(b, arith::MulFOp::create(b, a, inverse), output,
                 rowAt(queryRow, e));
        return SmallVector<Value>{};
      });

  if (spec.lse) {
    Value lse = buffers.outputs[1];
    Value first =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, ids.thread, zero);
    buildIf(b, first, [&](ImplicitLocOpBuilder &b) {
      memref::StoreOp::create(b, buildLogSumExp(b, max, sum), lse,
                              ValueRange{batch, head});
    });
  }
}

static void replaceWithAttentionOnDevice(PatternRewriter &rewriter,
                                         Operation *op,
                                         const AttentionSpec &spec,
                                         const GPULoweringOptions &options) {
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  buildRuntimeSizeChecks(b, op);
  bool hasQueryLength =
      cast<MemRefType>(spec.query.getType()).getRank() == 4;
  Value batchSize = dimSize(b, spec.query, 0);
  Value queryHeads = dimSize(b, spec.query, 1);
  Value queryLength =
      hasQueryLength ? dimSize(b, spec.query, 2) : constantIndex(b, 1);
  Value valueDim = dimSize(b, spec.value, 3);

  DeviceWork work;
  AttentionSpec kernelSpec = spec;
  Value liveKeys; // Rows of the device K/V to attend to; null: all of them.
  if (spec.windowStart) {
    // The compact K/V of the sink and window rows (see the file comment).
    Value numKeys = dimSize(b, spec.key, 2);
    WindowSegments segments =
        buildWindowSegments(b, numKeys, spec.windowStart, spec.sinkTokens);
    Value windowRows = subIndex(b, numKeys, segments.secondBegin);
    liveKeys = addIndex(b, segments.firstEnd, windowRows);
    // One row at least: an empty key set (N = 0, or no sink and an empty
    // window) makes no zero-byte allocation and copy; the kernel reads none.
    Value compactRows = maxIndex(b, liveKeys, constantIndex(b, 1));
    SmallVector<RowRange> rows = {{constantIndex(b, 0), segments.firstEnd},
                                  {segments.secondBegin, windowRows}};
    work.inputs = {spec.query,
                   DeviceInput(spec.key, /*rowDim=*/2, rows, compactRows),
                   DeviceInput(spec.value, /*rowDim=*/2, rows, compactRows)};
    kernelSpec.windowStart = Value();
  } else {
    work.inputs = {spec.query, spec.key, spec.value};
  }
  work.outputs = {spec.output};
  if (spec.lse)
    work.outputs.push_back(spec.lse);
  work.grid = {queryLength, queryHeads, batchSize};
  DeviceScratch acc;
  SmallVector<int64_t> shape;
  for (Value size : {batchSize, queryHeads, queryLength, valueDim}) {
    std::optional<int64_t> constant = getConstantIntValue(size);
    shape.push_back(constant ? *constant : ShapedType::kDynamic);
    if (!constant)
      acc.dynamicSizes.push_back(size);
  }
  acc.type = MemRefType::get(shape, b.getF32Type());
  work.scratch.push_back(acc);

  replaceWithDeviceWork(
      rewriter, op, work, options,
      [&](ImplicitLocOpBuilder &b, const DeviceBuffers &buffers, Value token) {
        return buildLaunch(b, token, queryLength, queryHeads, batchSize,
                           options, {options.threadsPerBlock},
                           [&](ImplicitLocOpBuilder &b, const KernelIds &ids) {
                             buildAttentionKernel(b, kernelSpec, options,
                                                  buffers, ids, liveKeys);
                           });
      });
}

namespace {
/// attention and window_attention: the same kernel over their key sets.
template <typename OpTy>
struct AttentionToGPU : DeviceOpPattern<OpTy> {
  using DeviceOpPattern<OpTy>::DeviceOpPattern;

  LogicalResult rewriteOnDevice(OpTy op,
                                PatternRewriter &rewriter) const override {
    replaceWithAttentionOnDevice(rewriter, op, getAttentionSpec(op),
                                 this->options);
    return success();
  }
};
} // namespace

void mlir::magicpig::populateAttentionToGPUPatterns(RewritePatternSet &patterns,
                                    const GPULoweringOptions &options) {
  patterns.add<AttentionToGPU<AttentionOp>, AttentionToGPU<WindowAttentionOp>>(
      patterns.getContext(), options);
}
