//===- AttentionMath.cpp - Scalar math shared by CPU and GPU kernels ------===//

#include "AttentionMath.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace mlir::magicpig;

/// The operands and scale that attention and window_attention share.
template <typename OpTy>
static AttentionSpec getCommonAttentionSpec(OpTy op) {
  AttentionSpec spec;
  spec.query = op.getQuery();
  spec.key = op.getKey();
  spec.value = op.getValue();
  spec.output = op.getOutput();
  spec.scale = op.getScale().convertToFloat();
  spec.keyLengths = op.getKeyLengths();
  return spec;
}

AttentionSpec mlir::magicpig::getAttentionSpec(AttentionOp op) {
  AttentionSpec spec = getCommonAttentionSpec(op);
  spec.causal = op.getCausal();
  spec.window = op.getWindow().value_or(0);
  return spec;
}

AttentionSpec mlir::magicpig::getAttentionSpec(WindowAttentionOp op) {
  AttentionSpec spec = getCommonAttentionSpec(op);
  spec.lse = op.getLse();
  spec.windowStart = op.getWindowStart();
  spec.sinkTokens = static_cast<int64_t>(op.getSinkTokens());
  spec.windowStarts = op.getWindowStarts();
  return spec;
}

WindowSegments mlir::magicpig::buildWindowSegments(ImplicitLocOpBuilder &b,
                                                   Value numKeys,
                                                   Value windowStart,
                                                   int64_t sinkTokens) {
  Value sink = constantIndex(b, sinkTokens);
  return {minIndex(b, sink, numKeys),
          minIndex(b, maxIndex(b, windowStart, sink), numKeys)};
}

QueryKeyRange mlir::magicpig::buildQueryKeyRange(ImplicitLocOpBuilder &b,
                                                 const AttentionSpec &spec,
                                                 Value numKeys,
                                                 Value queryLength, Value pos) {
  Value zero = constantIndex(b, 0);
  QueryKeyRange range{zero, numKeys};
  if (!spec.causal && !spec.window)
    return range;
  // Query s is position N - S + s: it sees keys j <= N - S + s.
  Value back = subIndex(b, numKeys, queryLength);
  Value limit = addIndex(b, back, addIndex(b, pos, constantIndex(b, 1)));
  range.end = limit;
  if (spec.window)
    range.begin = maxIndex(
        b, subIndex(b, limit, constantIndex(b, spec.window)), zero);
  return range;
}

Value mlir::magicpig::buildLogSumExp(ImplicitLocOpBuilder &b, Value max,
                                     Value sum) {
  Value nonEmpty = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum,
                                         constantF32(b, 0.0f));
  Value lse = arith::AddFOp::create(b, max, math::LogOp::create(b, sum));
  return arith::SelectOp::create(
      b, nonEmpty, lse,
      constantF32(b, -std::numeric_limits<float>::infinity()));
}

MergeWeights mlir::magicpig::buildMergeWeights(ImplicitLocOpBuilder &b,
                                               Value lseA, Value lseB) {
  // Relative to M = max(lseA, lseB), a side at -inf gets exp(-inf) = 0.
  Value negInf = constantF32(b, -std::numeric_limits<float>::infinity());
  Value zero = constantF32(b, 0.0f);
  Value m = arith::MaximumFOp::create(b, lseA, lseB);
  Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf);
  Value wa = math::ExpOp::create(b, arith::SubFOp::create(b, lseA, m));
  Value wb = math::ExpOp::create(b, arith::SubFOp::create(b, lseB, m));
  Value sum = arith::AddFOp::create(b, wa, wb);
  MergeWeights weights;
  weights.weightA = arith::SelectOp::create(b, empty, zero,
                                            arith::DivFOp::create(b, wa, sum));
  weights.weightB = arith::SelectOp::create(b, empty, zero,
                                            arith::DivFOp::create(b, wb, sum));
  weights.lse = arith::SelectOp::create(
      b, empty, negInf,
      arith::AddFOp::create(b, m, math::LogOp::create(b, sum)));
  return weights;
}
