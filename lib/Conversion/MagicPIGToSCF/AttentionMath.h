//===- AttentionMath.h - Scalar math shared by CPU and GPU kernels -*- C++ -*-===//
//
// The few formulas of attention that both the loop lowering
// (convert-magicpig-to-scf) and the device lowering (convert-magicpig-to-gpu)
// evaluate: which keys a window_attention sees, the log-sum-exp of a
// finished softmax, and the weights of a merge. They live here once, so the
// two targets cannot disagree on an edge case (an empty key set, a side at
// -inf).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_ATTENTIONMATH_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_ATTENTIONMATH_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"

namespace mlir::magicpig {

/// The keys of window_attention: [0, firstEnd) U [secondBegin, N) with
/// firstEnd = min(sink, N) and secondBegin = min(max(windowStart, sink), N).
struct WindowSegments {
  Value firstEnd;
  Value secondBegin;
};
WindowSegments buildWindowSegments(ImplicitLocOpBuilder &b, Value numKeys,
                                   Value windowStart, int64_t sinkTokens);

/// log(sum_j exp(s_j)) from the running max `max` of the scores and
/// `sum` = sum_j exp(s_j - max): max + log(sum), or -inf for an empty set
/// (sum = 0), never NaN.
Value buildLogSumExp(ImplicitLocOpBuilder &b, Value max, Value sum);

/// The merge of two partial results: lse = logaddexp(lseA, lseB),
/// weightA = exp(lseA - lse), weightB = exp(lseB - lse). Both sides at -inf
/// give weights 0 and lse -inf (no NaN).
struct MergeWeights {
  Value weightA;
  Value weightB;
  Value lse;
};
MergeWeights buildMergeWeights(ImplicitLocOpBuilder &b, Value lseA,
                               Value lseB);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_ATTENTIONMATH_H
