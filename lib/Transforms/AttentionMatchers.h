//===- AttentionMatchers.h - Recognizing exported attention -----*- C++ -*-===//
//
// Exported attention is a chain of a few dozen ops whose spelling depends on
// the IR family (linalg from torch-mlir, TOSA, linalg.softmax or its upstream
// decomposition). The raising splits the work in two:
//
//  * each family classifies one op at a time into a `Step`, a small
//    vocabulary of what the op does to the attention chain (a scale, a
//    reshape, a row max, ...);
//  * `matchAttention` walks the chain backwards from the P.V matmul in that
//    vocabulary and checks the math once for every family: the reductions run
//    over the key dimension, the shift and the normalization broadcast along
//    it, K is transposed exactly once, the heads of K/V map to the query heads
//    by grouping, and the only op allowed between the score matmul and the
//    softmax besides scales and casts is a 0/-inf mask that is exactly
//    causal, or causal with a sliding window (which the op keeps as its
//    `window`). Anything else (a soft-cap, a position bias) is declined.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_TRANSFORMS_ATTENTIONMATCHERS_H
#define MAGICPIG_LIB_TRANSFORMS_ATTENTIONMATCHERS_H

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>
#include <tuple>

namespace mlir::magicpig {

/// What one op does to a value of the attention chain. "Row" operands are
/// reduced along `dim` (or broadcast along it); for shapes where a family
/// cannot tell the broadcast dimension (all sizes 1) it reports `kAnyDim`.
enum class StepKind {
  Unknown,
  Cast,         // float extension or truncation of `input`
  Scale,        // input * factor (a division by c reports factor 1/c)
  AddConstant,  // input + factor
  AddTensor,    // input + other; `otherMap` maps input indices to other's
  Exp,          // exp(input)
  Sub,          // input - other, other broadcast along `dim`
  ShiftExp,     // exp(input - other), other broadcast along `dim`
  Div,          // input / other, other broadcast along `dim`
  RowMax,       // max of input over `dim`, starting from `factor`
  RowSum,       // sum of input over `dim`, starting from `factor`
  RowAllNegInf, // and over `dim` of (input == -inf)
  ZeroRowsIf,   // select(other, 0, input), other broadcast along `dim`
  Softmax,      // softmax of input over `dim`
  Reshape,      // row-major reshape of input (collapse, expand, reshape)
  SwapLast,     // transpose of the last two dims of a rank-4 input, or of
                // a rank-3 one ([B * H, N, d] to [B * H, d, N])
  TokensLast,   // transpose [0, 2, 3, 1] of a rank-4 input: [B, N, H, d] to
                // [B, H, d, N], K^T straight from the projection
  RepeatGroups, // [B, Hkv, N, d] -> [B, Hkv, groups, N, d] broadcast
  Matmul,       // batched input x other, zero-initialized; `transposedRhs`
                // when other is [..., n, k] instead of [..., k, n]
};

inline constexpr int64_t kNoDim = -1;
inline constexpr int64_t kAnyDim = -2;

/// One classified op. `input` is the operand that continues the chain.
struct Step {
  StepKind kind = StepKind::Unknown;
  Operation *op = nullptr;
  Value input;
  Value other;
  int64_t dim = kNoDim;
  double factor = 0.0;
  AffineMap otherMap;
  int64_t groups = 1;
  bool transposedRhs = false;
  /// For reshapes whose grouping the op states (tensor.collapse_shape /
  /// expand_shape); empty when only the static shapes tell (tosa.reshape).
  SmallVector<ReassociationIndices> reassociation;
};

/// Classifies the op that defines a value (a null `op` for block arguments
/// and ops the family does not know).
using StepClassifier = llvm::function_ref<Step(Value)>;

/// A recognized attention: the roots of q, k and v after the layout ops that
/// only reshape, transpose, cast or repeat them, and the value it replaces.
struct AttentionMatch {
  Value query; // [B, Hq, d] or [B, Hq, S, d]
  Value key;   // [B, Hkv, N, d], or [B, N, Hkv, d] if `keyTokensFirst`
  Value value; // [B, Hkv, N, dv]
  double scale = 1.0;
  int64_t groups = 1; // Hq / Hkv
  bool causal = false;
  /// Sliding window: the query at position p sees keys p - window < j <= p
  /// (0: no window).
  int64_t window = 0;
  /// A padded batch of decode queries: sequence b sees keys j < lengths[b]
  /// and its own key N - 1 (the `[B]` integer argument the mask reads).
  Value keyLengths;
  /// The key is [B, N, Hkv, d]: the attention reads it transposed.
  bool keyTokensFirst = false;
  Value result;
  Operation *pv = nullptr; // the P.V matmul the chain ends in // the exported [B, Hq, (S,) dv] output
};

/// Why a chain was not raised. `attentionLike` is set once the chain is known
/// to feed a softmax into a matmul: only such declines deserve a remark.
struct MatchDecline {
  bool attentionLike = false;
  std::string reason;
};

/// Matches the attention whose P.V product is computed by `pv` (an op the
/// classifier reports as a Matmul).
FailureOr<AttentionMatch> matchAttention(Operation *pv, StepClassifier classify,
                                         MatchDecline &decline);

/// Attribute the raising pass puts on the P.V matmul of each attention-like
/// chain: its layer, the chain's position among the function's attention-like
/// chains (raised or declined). Moved onto the raised op as `magicpig.layer`
/// where a function declines some chain, so that layer numbers (and
/// --dense-layers) stay the model's.
inline constexpr llvm::StringLiteral kLayerAttr = "magicpig.layer";
inline constexpr llvm::StringLiteral kOrdinalAttr = "magicpig.raise_ordinal";

/// Rewrites each tensor.reshape with a computed shape whose static sizes
/// allow one collapse into that collapse_shape, with its dynamic sizes
/// asserted (ComputedReshapes.cpp).
void rewriteComputedReshapes(Operation *root);

/// Replaces `match.result` by one `magicpig.attention`.
void replaceWithAttention(RewriterBase &rewriter, const AttentionMatch &match);

/// Values of a constant tensor computed only from constants and indices
/// (dense constants, fills, index generics, reshapes), row-major, as doubles;
/// failure for anything else or for more than `maxElements` values.
FailureOr<SmallVector<double>> evaluateConstantTensor(Value tensor,
                                                      int64_t maxElements);

/// A tensor evaluated at one binding of its dynamic size.
struct EvaluatedTensor {
  SmallVector<int64_t> shape;
  SmallVector<double> values; // row-major
};

/// As evaluateConstantTensor, for a tensor of dynamic shape whose every
/// dynamic dimension (of it and of what it is computed from) is the SSA
/// value `sizeValue`, evaluated with `sizeValue = size`.
/// `boundArgument`, when given, is a rank-0 (or scalar) function argument
/// the tensor reads, evaluated as `boundValue` (decode's position).
/// What a mask is evaluated with: SSA sizes (matched as the same
/// computation), sizes of function arguments (`tensor.dim %arg, d`), and
/// the values of one rank-0 or rank-1 argument.
struct MaskBindings {
  SmallVector<std::pair<Value, int64_t>> sizes;
  SmallVector<std::tuple<Value, int64_t, int64_t>> argumentDims;
  Value argument;
  SmallVector<double> argumentValues;
};
FailureOr<EvaluatedTensor> evaluateTensorWith(Value tensor,
                                              MaskBindings bindings,
                                              int64_t maxElements);

FailureOr<EvaluatedTensor> evaluateTensorAtSize(Value tensor, Value sizeValue,
                                                int64_t size,
                                                int64_t maxElements,
                                                Value boundArgument = {},
                                                double boundValue = 0.0);

/// What a constant-only computation depends on beyond constants: the
/// function arguments whose values it reads (an argument whose shape alone
/// is read, through tensor.dim, does not count) and the integer constants
/// it uses (thresholds such as a sliding window's length). False when the
/// computation is too deep to walk.
struct MaskInputs {
  SmallVector<Value> arguments;
  SmallVector<int64_t> integers;
  /// (argument, dim) of the sizes it reads from function arguments.
  SmallVector<std::pair<Value, int64_t>> argumentDims;
};
bool collectMaskInputs(Value tensor, MaskInputs &inputs);

/// The SSA value of the first dynamic size of `tensor`, found through the
/// op that creates it (tensor.empty, expand_shape, the init of a
/// destination-style op); null when there is none.
Value dynamicSizeOf(Value tensor);

/// Classifiers of the two families.
Step classifyLinalgStep(Value value);
Step classifyTosaStep(Value value);

void populateRaiseLinalgAttentionPatterns(RewritePatternSet &patterns);
void populateRaiseTosaAttentionPatterns(RewritePatternSet &patterns);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_TRANSFORMS_ATTENTIONMATCHERS_H
