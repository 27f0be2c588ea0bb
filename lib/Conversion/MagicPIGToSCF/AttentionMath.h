//===- AttentionMath.h - Scalar math shared by CPU and GPU kernels -*- C++ -*-===//
//
// The few formulas of attention that both the loop lowering
// (convert-magicpig-to-scf) and the device lowering (convert-magicpig-to-gpu)
// evaluate: what an attention or window_attention op attends to, which keys
// a window_attention sees, the log-sum-exp of a finished softmax, and the
// weights of a merge. They live here once, so the
// two targets cannot disagree on an edge case (an empty key set, a side at
// -inf).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_ATTENTIONMATH_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_ATTENTIONMATH_H

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"

namespace mlir::magicpig {

/// What attention and window_attention have in common. An attention op
/// attends to keys [0, N) (causally limited when it has a query-length
/// dim); a window_attention op to the two segments of buildWindowSegments,
/// and it also writes the log-sum-exp.
struct AttentionSpec {
  Value query, key, value, output;
  Value lse;         // window_attention only.
  Value windowStart; // window_attention only.
  int64_t sinkTokens = 0;
  float scale = 1.0f;
  bool causal = false;
  int64_t window = 0; // attention only: keys p - window < j <= p (0: all)
  // A padded batch ([B] integers): keys j >= keyLengths[b] are padding (an
  // attention still sees its own key N - 1); windowStarts[b] raises
  // window_attention's windowStart for sequence b.
  Value keyLengths, windowStarts;
};
AttentionSpec getAttentionSpec(AttentionOp op);
AttentionSpec getAttentionSpec(WindowAttentionOp op);

/// The keys of window_attention: [0, firstEnd) U [secondBegin, N) with
/// firstEnd = min(sink, N) and secondBegin = min(max(windowStart, sink), N).
struct WindowSegments {
  Value firstEnd;
  Value secondBegin;
};
WindowSegments buildWindowSegments(ImplicitLocOpBuilder &b, Value numKeys,
                                   Value windowStart, int64_t sinkTokens);

/// The keys [begin, end) that query `pos` of an attention op sees:
/// end = N - S + pos + 1 when causal (or windowed), else N; with a sliding
/// window begin = max(0, end - window), else 0. `pos` is 0 and S is 1 for a
/// [B, Hq, d] query. Callers clamp end to their own key range and to at
/// least begin.
struct QueryKeyRange {
  Value begin;
  Value end;
};
QueryKeyRange buildQueryKeyRange(ImplicitLocOpBuilder &b,
                                 const AttentionSpec &spec, Value numKeys,
                                 Value queryLength, Value pos);

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
