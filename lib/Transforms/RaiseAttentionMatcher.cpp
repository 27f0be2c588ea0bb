//===- RaiseAttentionMatcher.cpp - The family-independent matcher --------===//
//
// Walks an attention chain backwards from its P.V matmul, one classified
// `Step` at a time, and checks the math (see AttentionMatchers.h). Every
// family's ops reach this file only as steps, so the rules below hold for
// linalg and TOSA alike.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatchers.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallString.h"

#include <cmath>

using namespace mlir;
using namespace mlir::magicpig;

namespace {

ShapedType shapeOf(Value v) { return cast<ShapedType>(v.getType()); }
int64_t rankOf(Value v) { return shapeOf(v).getRank(); }

/// [B, H, X, Y] <-> [B * H, X, Y].
const SmallVector<ReassociationIndices> kHeadsWithBatch = {{0, 1}, {2}, {3}};
/// [B, Hkv, G, X, Y] <-> [B * Hkv * G, X, Y].
const SmallVector<ReassociationIndices> kGroupsWithBatch = {
    {0, 1, 2}, {3}, {4}};
/// [B, Hkv, G, X, Y] <-> [B, Hkv * G, X, Y].
const SmallVector<ReassociationIndices> kGroupsWithHeads = {
    {0}, {1, 2}, {3}, {4}};

/// Whether `step` is a reshape between `collapsedRank` and the expanded rank
/// implied by `groups`, in the direction asked for, grouping dims as `groups`
/// says: by the op's own reassociation when it states one, else by static
/// sizes (row-major reshapes of equal grouping are the same op).
bool isGroupedReshape(const Step &step, ArrayRef<ReassociationIndices> groups,
                      bool collapsing) {
  if (step.kind != StepKind::Reshape)
    return false;
  ShapedType in = shapeOf(step.input), out = shapeOf(step.op->getResult(0));
  ShapedType expanded = collapsing ? in : out;
  ShapedType collapsed = collapsing ? out : in;
  int64_t expandedRank = 0;
  for (const ReassociationIndices &g : groups)
    expandedRank += g.size();
  if (collapsed.getRank() != static_cast<int64_t>(groups.size()) ||
      expanded.getRank() != expandedRank)
    return false;
  if (!step.reassociation.empty())
    return llvm::equal(step.reassociation, groups);
  for (auto [i, g] : llvm::enumerate(groups)) {
    int64_t product = 1;
    for (int64_t d : g) {
      if (expanded.isDynamicDim(d))
        return false;
      product *= expanded.getDimSize(d);
    }
    if (collapsed.isDynamicDim(i) || collapsed.getDimSize(i) != product)
      return false;
  }
  return true;
}

/// A reshape that inserts (or, collapsing, removes) a unit dimension at
/// `unitDim` of the rank `rank` side and leaves the other dims alone.
bool isUnitReshape(const Step &step, int64_t rank, int64_t unitDim,
                   bool collapsing) {
  if (step.kind != StepKind::Reshape)
    return false;
  ShapedType in = shapeOf(step.input), out = shapeOf(step.op->getResult(0));
  ShapedType withUnit = collapsing ? in : out;
  ShapedType without = collapsing ? out : in;
  if (unitDim < 0 || unitDim >= rank || withUnit.getRank() != rank ||
      without.getRank() != rank - 1 || withUnit.getDimSize(unitDim) != 1)
    return false;
  for (int64_t d = 0, e = 0; d < rank; ++d) {
    if (d == unitDim)
      continue;
    if (withUnit.getDimSize(d) != without.getDimSize(e++))
      return false;
  }
  // A stated reassociation must keep the unit dim next to a neighbor.
  if (step.reassociation.empty())
    return true;
  return llvm::all_of(step.reassociation, [&](const ReassociationIndices &g) {
    return g.size() == 1 || (g.size() == 2 && llvm::is_contained(g, unitDim));
  });
}

/// [B * H, 1, Y] -> [B, H, Y] (or back): a head split fused with dropping a
/// unit query length, as tosa.reshape writes decode.
bool isHeadsAndUnitReshape(const Step &step, bool collapsing) {
  if (step.kind != StepKind::Reshape)
    return false;
  ShapedType in = shapeOf(step.input), out = shapeOf(step.op->getResult(0));
  ShapedType merged = collapsing ? out : in;
  ShapedType split = collapsing ? in : out;
  if (merged.getRank() != 3 || split.getRank() != 3 ||
      !merged.hasStaticShape() || !split.hasStaticShape())
    return false;
  return merged.getDimSize(0) == split.getDimSize(0) * split.getDimSize(1) &&
         merged.getDimSize(1) == 1 &&
         merged.getDimSize(2) == split.getDimSize(2);
}

/// The role of a step in the chain, for remarks.
StringRef roleOf(StepKind kind) {
  switch (kind) {
  case StepKind::Unknown:
    return "";
  case StepKind::Cast:
    return "a cast";
  case StepKind::Scale:
    return "a scale";
  case StepKind::AddConstant:
    return "an add of a constant";
  case StepKind::AddTensor:
    return "an add of a tensor";
  case StepKind::Exp:
    return "an exp";
  case StepKind::Sub:
    return "a row subtraction";
  case StepKind::ShiftExp:
    return "an exp of a row subtraction";
  case StepKind::Div:
    return "a row division";
  case StepKind::RowMax:
    return "a row max";
  case StepKind::RowSum:
    return "a row sum";
  case StepKind::RowAllNegInf:
    return "an all -inf row test";
  case StepKind::ZeroRowsIf:
    return "a row select";
  case StepKind::Softmax:
    return "a softmax";
  case StepKind::Reshape:
    return "a reshape";
  case StepKind::SwapLast:
    return "a transpose";
  case StepKind::TokensLast:
    return "a transpose [0, 2, 3, 1]";
  case StepKind::RepeatGroups:
    return "a head repetition";
  case StepKind::Matmul:
    return "a matmul";
  }
  llvm_unreachable("unknown step kind");
}

/// What a step is, for remarks: the op and, when known, its role.
std::string describe(const Step &step) {
  if (!step.op)
    return "a function argument";
  std::string name = ("'" + step.op->getName().getStringRef() + "'").str();
  StringRef role = roleOf(step.kind);
  return role.empty() ? name : name + " (" + role.str() + ")";
}

/// A number as diagnostics print it (shortest round-trip form).
std::string num(double x) {
  SmallString<16> s;
  llvm::APFloat(x).toString(s);
  return std::string(s);
}

/// Where a row max may start: -inf, or the lowest finite value of a float
/// type (upstream's softmax decomposition uses the latter).
bool isRowMaxStart(double init) {
  if (init == -INFINITY)
    return true;
  for (const llvm::fltSemantics *sem :
       {&llvm::APFloat::IEEEhalf(), &llvm::APFloat::BFloat(),
        &llvm::APFloat::IEEEsingle(), &llvm::APFloat::IEEEdouble()})
    if (init == llvm::APFloat::getLargest(*sem, true).convertToDouble())
      return true;
  return false;
}

/// Whether `op` computes a tanh (itself, or in a generic's body): a logit
/// soft-cap when it sits on the scores.
bool appliesTanh(Operation *op) {
  if (!op)
    return false;
  if (op->getName().getStringRef().ends_with("tanh"))
    return true;
  bool found = false;
  op->walk([&](Operation *inner) {
    found |= inner != op && inner->getName().getStringRef().ends_with("tanh");
  });
  return found;
}

bool sameDimOrAny(int64_t dim, int64_t reference) {
  return dim == reference || dim == kAnyDim;
}

class ChainMatcher {
public:
  ChainMatcher(StepClassifier classify, MatchDecline &decline)
      : classify(classify), decline(decline) {}

  FailureOr<AttentionMatch> match(Operation *pvOp);

private:
  LogicalResult fail(const Twine &reason) {
    decline.reason = reason.str();
    return failure();
  }
  Value peelCasts(Value v) {
    for (Step s = classify(v); s.kind == StepKind::Cast; s = classify(v))
      v = s.input;
    return v;
  }
  /// Casts and scales; the factors multiply into `scale`.
  Value peelScales(Value v, double &scale) {
    while (true) {
      Step s = classify(v);
      if (s.kind == StepKind::Cast) {
        v = s.input;
      } else if (s.kind == StepKind::Scale) {
        scale *= s.factor;
        v = s.input;
      } else {
        return v;
      }
    }
  }
  /// The row reduction behind a row operand, looking through a reshape
  /// that puts the reduced dim back as a unit dim (torch's keepdim).
  Step rowReduction(Value row) {
    Step s = classify(row);
    if (s.kind != StepKind::Reshape)
      return s;
    Step reduction = classify(s.input);
    if (reduction.dim < 0 ||
        !isUnitReshape(s, rankOf(row), reduction.dim, /*collapsing=*/false))
      return s;
    return reduction;
  }

  /// The single user of `v` as a step that continues the chain forward.
  Step forward(Value v) {
    if (!v.hasOneUse())
      return {};
    Operation *user = *v.getUsers().begin();
    if (user->getNumResults() != 1)
      return {};
    Step s = classify(user->getResult(0));
    if (s.op != user || s.input != v)
      return {};
    return s;
  }
  bool leadsToScoreMatmul(Value v) {
    double ignored = 1.0;
    Step s = classify(peelScales(v, ignored));
    return s.kind == StepKind::Reshape || s.kind == StepKind::Matmul;
  }

  LogicalResult matchSoftmax(Value p, Value &scores, int64_t &dim);
  LogicalResult matchGuard(const Step &guard, Value scores, int64_t dim);
  LogicalResult matchScores(Value scores, int64_t batchRank, double &scale,
                            Step &mask, Step &qk);
  LogicalResult matchQuery(const Step &qk, int64_t batchRank, double &scale,
                           Value &query);
  LogicalResult matchRepeatedHeads(Value v, StringRef name, Value &root,
                                   int64_t &groups);
  LogicalResult matchMergedKey(Value k, double &scale, Value &root,
                               int64_t &groups);
  LogicalResult matchKey(const Step &qk, int64_t batchRank, double &scale,
                         Value &key, int64_t &groups, bool &tokensFirst);
  LogicalResult matchValue(const Step &pv, int64_t batchRank, Value &value,
                           int64_t &groups);
  LogicalResult matchMask(const Step &mask, Value scores, bool &causal,
                          int64_t &window, Value &keyLengths);
  LogicalResult matchPaddingMask(const Step &mask, AffineMap maskMap,
                                 const MaskInputs &inputs, bool &showsAll,
                                 int64_t &window);
  LogicalResult matchResult(Operation *pvOp, int64_t batchRank, Value &result);
  LogicalResult checkShapes(const AttentionMatch &m, int64_t groupsK,
                            int64_t groupsV);

  StepClassifier classify;
  MatchDecline &decline;
  /// The scores and probabilities are [B * H, S, N] from the score matmul to
  /// P.V (attention written with torch.bmm): no split after Q.K^T, no merge
  /// before P.V.
  bool mergedScores = false;
};

/// p = softmax(x) along `dim`: linalg.softmax, or exp(x - max x) / sum.
LogicalResult ChainMatcher::matchSoftmax(Value p, Value &scores, int64_t &dim) {
  Step norm = classify(p);
  if (norm.kind == StepKind::Softmax) {
    scores = norm.input;
    dim = norm.dim;
    return success();
  }
  Value e = norm.input;
  Step sum = rowReduction(norm.other);
  if (sum.kind != StepKind::RowSum || sum.input != e)
    return fail("the softmax denominator is " + describe(sum) +
                ", not the row sum of the exponentials");
  if (sum.factor != 0.0)
    return fail("the row sum of the softmax starts from " + num(sum.factor) +
                ", not 0");
  Step ex = classify(e);
  Value rowMax;
  int64_t shiftDim;
  if (ex.kind == StepKind::ShiftExp) {
    scores = ex.input;
    rowMax = ex.other;
    shiftDim = ex.dim;
  } else if (ex.kind == StepKind::Exp) {
    Step sub = classify(ex.input);
    if (sub.kind != StepKind::Sub)
      return fail("the softmax exponent is " + describe(sub) +
                  ", not the scores minus their row max");
    scores = sub.input;
    rowMax = sub.other;
    shiftDim = sub.dim;
  } else {
    return fail("the softmax numerator is " + describe(ex) +
                ", not an exponential");
  }
  Step max = rowReduction(rowMax);
  if (max.kind != StepKind::RowMax || max.input != scores)
    return fail("the softmax exponent subtracts " + describe(max) +
                ", not the row max of the scores");
  if (!isRowMaxStart(max.factor))
    return fail("the row max of the softmax starts from " + num(max.factor) +
                ", not -inf");
  dim = max.dim;
  if (dim < 0 || !sameDimOrAny(sum.dim, dim) || !sameDimOrAny(shiftDim, dim) ||
      !sameDimOrAny(norm.dim, dim))
    return fail("the softmax pieces reduce or broadcast along different "
                "dimensions");
  return success();
}

/// torch's safe softmax zeroes rows whose scores are all -inf. Unmasked (or
/// causally masked) scores always have a finite entry per row, so the guard
/// never fires and the attention op can drop it.
LogicalResult ChainMatcher::matchGuard(const Step &guard, Value scores,
                                       int64_t dim) {
  Step all = rowReduction(guard.other);
  if (all.kind != StepKind::RowAllNegInf || all.input != scores ||
      all.dim != dim || !sameDimOrAny(guard.dim, dim))
    return fail("the softmax is zeroed by a condition that is not 'all "
                "scores of the row are -inf'");
  return success();
}

/// From the softmax input back to the score matmul: casts, scales and at
/// most one additive mask.
LogicalResult ChainMatcher::matchScores(Value scores, int64_t batchRank,
                                        double &scale, Step &mask, Step &qk) {
  Value s = scores;
  while (true) {
    Step st = classify(s);
    if (st.kind == StepKind::Cast) {
      s = st.input;
      continue;
    }
    if (st.kind == StepKind::Scale) {
      scale *= st.factor;
      s = st.input;
      continue;
    }
    if (st.kind == StepKind::AddConstant)
      return fail("a constant (" + num(st.factor) +
                  ") is added to the scores; only a causal mask is "
                  "recognized between the score matmul and the softmax");
    if (st.kind == StepKind::AddTensor) {
      if (mask.op)
        return fail("more than one tensor is added to the scores");
      // The chain goes on through the operand that leads to the matmul; the
      // other one is the mask. Only same-shape operands can be swapped.
      if (!leadsToScoreMatmul(st.input) && st.otherMap.isIdentity() &&
          leadsToScoreMatmul(st.other))
        std::swap(st.input, st.other);
      mask = st;
      s = st.input;
      continue;
    }
    if (st.kind == StepKind::Reshape || st.kind == StepKind::Matmul)
      break;
    if (appliesTanh(st.op))
      return fail("a logit soft-cap (tanh of the scores, c * tanh(s / c)) "
                  "is applied between the score matmul and the softmax: not "
                  "plain softmax attention");
    return fail(describe(st) + " between the score matmul and the softmax "
                               "changes the scores");
  }
  if (batchRank == 1 && !mergedScores) {
    Step split = classify(s);
    if (!isGroupedReshape(split, kHeadsWithBatch, /*collapsing=*/false))
      return fail("the scores are not the [B * H, S, N] matmul split into "
                  "[B, H, S, N]");
    s = peelScales(split.input, scale);
  }
  qk = classify(s);
  if (qk.kind != StepKind::Matmul || rankOf(qk.input) != batchRank + 2)
    return fail("the scores are " + describe(qk) +
                ", not a zero-initialized batched matmul in the layout of P.V");
  return success();
}

LogicalResult ChainMatcher::matchQuery(const Step &qk, int64_t batchRank,
                                       double &scale, Value &query) {
  Value q = peelScales(qk.input, scale);
  if (batchRank == 1) {
    Step merge = classify(q);
    if (isHeadsAndUnitReshape(merge, /*collapsing=*/true)) {
      query = peelScales(merge.input, scale);
      return success();
    }
    if (!isGroupedReshape(merge, kHeadsWithBatch, /*collapsing=*/true))
      return fail("the query operand of the score matmul is not a "
                  "[B, H, S, d] tensor with batch and heads merged");
    q = peelScales(merge.input, scale);
  }
  // Decode: a [B, H, d] query unsqueezed to [B, H, 1, d].
  Step unsqueeze = classify(q);
  if (isUnitReshape(unsqueeze, 4, 2, /*collapsing=*/false))
    q = peelScales(unsqueeze.input, scale);
  query = q;
  return success();
}

/// [B, Hkv * G, N, Y] built by repeating each kv head G times (Llama's
/// repeat_kv, SDPA's enable_gqa), or any other [B, H, N, Y] tensor (G = 1).
/// The groups of `groups` with the dims of size 1 (in `shape`) taken out.
static SmallVector<ReassociationIndices>
withoutUnitDims(ArrayRef<ReassociationIndices> groups,
                ArrayRef<int64_t> shape) {
  SmallVector<ReassociationIndices> kept;
  for (const ReassociationIndices &group : groups) {
    ReassociationIndices rest;
    for (int64_t d : group)
      if (shape[d] != 1)
        rest.push_back(d);
    kept.push_back(rest);
  }
  return kept;
}

/// `x` for collapse_shape(expand_shape(x)) that only inserts and removes
/// dims of size 1 (torch-mlir's `x[:, :, None]` before a repeat of one):
/// without those dims, each dim of the expanded tensor is its own group on
/// both sides, so the pair keeps every element in place.
static Value peelUnitRoundTrip(Value v) {
  auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>();
  auto expand = collapse ? collapse.getSrc().getDefiningOp<tensor::ExpandShapeOp>()
                         : nullptr;
  if (!expand || expand.getSrc().getType() != v.getType())
    return v;
  ArrayRef<int64_t> shape = expand.getResultType().getShape();
  SmallVector<ReassociationIndices> in =
      withoutUnitDims(expand.getReassociationIndices(), shape);
  SmallVector<ReassociationIndices> out =
      withoutUnitDims(collapse.getReassociationIndices(), shape);
  auto singletons = [](ArrayRef<ReassociationIndices> groups) {
    return llvm::all_of(groups, [](const ReassociationIndices &g) {
      return g.size() == 1;
    });
  };
  if (in != out || !singletons(in))
    return v;
  return expand.getSrc();
}

LogicalResult ChainMatcher::matchRepeatedHeads(Value v, StringRef name,
                                               Value &root, int64_t &groups) {
  Step merge = classify(v);
  if (!isGroupedReshape(merge, kGroupsWithHeads, /*collapsing=*/true)) {
    root = v;
    groups = 1;
    return success();
  }
  Step repeat = classify(peelCasts(merge.input));
  if (repeat.kind != StepKind::RepeatGroups)
    return fail("the " + name + " heads are merged from " + describe(repeat) +
                ", not from a repetition of the kv heads");
  root = peelUnitRoundTrip(repeat.input);
  groups = repeat.groups;
  return success();
}

/// A [B * H, N, d] key merged from [B, H, N, d] (its heads possibly repeated
/// as matchRepeatedHeads reads them), or from the [B, Hkv, G, N, d]
/// repetition of [B, Hkv, N, d] with batch, kv heads and groups merged in
/// one reshape (what torch.bmm attention over repeated kv heads writes).
LogicalResult ChainMatcher::matchMergedKey(Value k, double &scale, Value &root,
                                           int64_t &groups) {
  Step merge = classify(peelCasts(k));
  if (isGroupedReshape(merge, kGroupsWithBatch, /*collapsing=*/true)) {
    Step repeat = classify(peelCasts(merge.input));
    if (repeat.kind != StepKind::RepeatGroups)
      return fail("the key heads are merged from " + describe(repeat) +
                  ", not from a repetition of the kv heads");
    root = repeat.input;
    groups = repeat.groups;
    return success();
  }
  if (!isGroupedReshape(merge, kHeadsWithBatch, /*collapsing=*/true))
    return fail("the key operand of the score matmul is not a [B, H, N, d] "
                "tensor with batch and heads merged");
  Value k4 = peelScales(merge.input, scale);
  return matchRepeatedHeads(peelCasts(k4), "key", root, groups);
}

LogicalResult ChainMatcher::matchKey(const Step &qk, int64_t batchRank,
                                     double &scale, Value &key, int64_t &groups,
                                     bool &tokensFirst) {
  Value k = peelScales(qk.other, scale);
  if (batchRank == 1) {
    // K merged to [B * H, N, d] first: read transposed by the matmul, or
    // transposed in 3-D (torch.bmm(q, k.transpose(1, 2))).
    if (qk.transposedRhs)
      return matchMergedKey(k, scale, key, groups);
    Step swap = classify(k);
    if (swap.kind == StepKind::SwapLast && rankOf(swap.input) == 3)
      return matchMergedKey(peelScales(swap.input, scale), scale, key,
                            groups);
    Step merge = classify(k);
    if (!isGroupedReshape(merge, kHeadsWithBatch, /*collapsing=*/true))
      return fail("the key operand of the score matmul is not a [B, H, d, N] "
                  "tensor with batch and heads merged");
    k = merge.input;
  }
  // The matmul contracts over d: its rhs must be K^T, i.e. one swap of the
  // last two dims of [B, H, N, d] (none for a matmul that transposes rhs).
  bool needSwap = !qk.transposedRhs;
  while (true) {
    k = peelScales(k, scale);
    Step s = classify(k);
    if (needSwap && s.kind == StepKind::TokensLast) {
      // K^T = [B, N, H, d] transposed [0, 2, 3, 1]: the key is that tensor
      // with its tokens and heads swapped (no head repetition in between).
      tokensFirst = true;
      key = peelCasts(s.input);
      groups = 1;
      return success();
    }
    if (!needSwap || s.kind != StepKind::SwapLast)
      break;
    needSwap = false;
    k = s.input;
  }
  if (needSwap)
    return fail("the score matmul contracts over the key dimension: the "
                "keys are not transposed from [B, Hkv, N, d]");
  return matchRepeatedHeads(peelCasts(k), "key", key, groups);
}

LogicalResult ChainMatcher::matchValue(const Step &pv, int64_t batchRank,
                                       Value &value, int64_t &groups) {
  Value v = peelCasts(pv.other);
  if (batchRank == 1) {
    Step merge = classify(v);
    if (isGroupedReshape(merge, kGroupsWithBatch, /*collapsing=*/true)) {
      Step repeat = classify(peelCasts(merge.input));
      if (repeat.kind != StepKind::RepeatGroups)
        return fail("the value heads are merged from " + describe(repeat) +
                    ", not from a repetition of the kv heads");
      value = repeat.input;
      groups = repeat.groups;
      return success();
    }
    if (!isGroupedReshape(merge, kHeadsWithBatch, /*collapsing=*/true))
      return fail("the value operand of the P.V matmul is not a [B, H, N, dv] "
                  "tensor with batch and heads merged");
    v = merge.input;
  }
  bool needSwap = pv.transposedRhs;
  while (true) {
    v = peelCasts(v);
    Step s = classify(v);
    if (s.kind == StepKind::Scale)
      return fail("the values are scaled");
    if (!needSwap || s.kind != StepKind::SwapLast)
      break;
    needSwap = false;
    v = s.input;
  }
  if (needSwap)
    return fail("the values are not a [B, Hkv, N, dv] tensor");
  return matchRepeatedHeads(v, "value", value, groups);
}

namespace {
/// What the mask rows compared so far say. A causal row with a sliding
/// window of W shows it as 0 on keys [max(0, p - W + 1), p] and -inf
/// elsewhere (p = N - S + s); a row that sees key 0 only says W >= p + 1.
struct MaskRows {
  bool isZero = true;     // every value is 0
  bool causalForm = true; // every row is 0 on [a, p], masked elsewhere
  bool bias = false;      // some value is finite and not 0
  int64_t window = 0;     // W of the rows that start after key 0 (0: none)
  bool windowsDiffer = false;
  int64_t minWindow = 0; // the largest p + 1 of rows that see key 0
};
} // namespace

/// The value at or below which a mask of `elementType` hides a key: its
/// lowest finite value (what masks write instead of -inf), or -inf.
static double lowestFinite(Type elementType) {
  if (auto ft = dyn_cast<FloatType>(elementType))
    return llvm::APFloat::getLargest(ft.getFloatSemantics(), true)
        .convertToDouble();
  return -INFINITY;
}

/// The row-major offset of `at` in a tensor of `shape`, or nullopt when
/// `at` is outside it.
static std::optional<int64_t> linearIndex(ArrayRef<int64_t> at,
                                          ArrayRef<int64_t> shape) {
  int64_t linear = 0;
  for (auto [i, size] : llvm::enumerate(shape)) {
    if (at[i] < 0 || at[i] >= size)
      return std::nullopt;
    linear = linear * size + at[i];
  }
  return linear;
}

/// Reads mask values (row-major, of shape `maskShape`) through `map` for
/// scores of shape `shape` and records what the rows are in `rows`.
static LogicalResult classifyMaskRows(ArrayRef<double> values,
                                      ArrayRef<int64_t> maskShape,
                                      AffineMap map, Type elementType,
                                      ArrayRef<int64_t> shape,
                                      MaskRows &rows) {
  double lowest = lowestFinite(elementType);
  int64_t s = shape[2], n = shape[3];
  SmallVector<int64_t> index(4, 0);
  SmallVector<bool> visible(n);
  for (index[0] = 0; index[0] < shape[0]; ++index[0])
    for (index[1] = 0; index[1] < shape[1]; ++index[1])
      for (index[2] = 0; index[2] < s; ++index[2]) {
        for (index[3] = 0; index[3] < n; ++index[3]) {
          std::optional<int64_t> linear =
              linearIndex(map.compose(index), maskShape);
          if (!linear)
            return failure();
          double m = values[*linear];
          bool masked = m == -INFINITY || m <= lowest;
          rows.isZero &= m == 0.0;
          rows.bias |= !masked && m != 0.0;
          if (!masked && m != 0.0)
            rows.causalForm = false;
          visible[index[3]] = !masked;
        }
        // The row must see exactly the keys [a, p] for some a <= p.
        int64_t p = n - s + index[2];
        int64_t a = 0;
        while (a < n && !visible[a])
          ++a;
        if (p < 0 || a > p) {
          rows.causalForm = false;
          continue;
        }
        for (int64_t j = 0; j < n; ++j)
          if (visible[j] != (j >= a && j <= p))
            rows.causalForm = false;
        if (a == 0) {
          rows.minWindow = std::max(rows.minWindow, p + 1);
        } else {
          int64_t w = p - a + 1;
          rows.windowsDiffer |= rows.window && rows.window != w;
          rows.window = w;
        }
      }
  return success();
}

/// The most mask elements evaluated, and score positions compared with the
/// causal mask.
static constexpr int64_t kMaxMaskElements = int64_t(1) << 22;

/// True when a static shape has at most `limit` elements (no overflow).
static bool hasAtMostElements(ArrayRef<int64_t> shape, int64_t limit) {
  if (llvm::is_contained(shape, 0))
    return true;
  int64_t count = 1;
  for (int64_t size : shape) {
    if (size > limit / count)
      return false;
    count *= size;
  }
  return true;
}

/// Prompt lengths a mask of dynamic shape is evaluated at. The mask is
/// computed from positions and constants alone (anything else is not
/// evaluated), so these sizes, small ones and one past the 8-bit range,
/// catch thresholds and offsets that differ from the causal mask. The
/// integer constants of the mask's computation add the lengths just past
/// them, so that a sliding window longer than these sizes (Gemma 3's 512)
/// shows instead of passing for a causal mask.
static constexpr int64_t kDynamicMaskSizes[] = {1, 2, 3, 5, 8, 13, 64, 257};

/// An additive mask is accepted when it is all zero, or a 0/-inf mask (-inf
/// or the lowest finite value) equal to the causal mask of the op (query s
/// of the last S positions sees keys j <= N - S + s), possibly with a
/// sliding window (it sees only the last W of those: `window`). A constant
/// mask is compared at its shape. With dynamic query and key lengths, both
/// must be the one size value the mask is built from (so they are equal at
/// run time: a prefill from an empty cache), and the mask must have the
/// same form at every evaluated size. A mask that reads one rank-0
/// argument (decode's position) is accepted for a single query, evaluated
/// with the argument equal to the query's position N - 1: the decode ABI
/// (docs/model-export.md) passes the cache length there.
/// Cache lengths a padding mask is evaluated at, and how many
/// (argument, dim) sizes it may read (each is tried as batch and as length).
static constexpr int64_t kPaddingMaskLengths[] = {1, 2, 5, 13, 64};
static constexpr size_t kMaxPaddingMaskSizes = 6;

/// The value of `mask` (read through `map`) at score [b, 0, 0, j], or
/// nullopt outside it.
static std::optional<double> maskAt(const EvaluatedTensor &mask, AffineMap map,
                                    int64_t b, int64_t j) {
  std::optional<int64_t> linear = linearIndex(map.compose({b, 0, 0, j}),
                                              mask.shape);
  if (!linear)
    return std::nullopt;
  return mask.values[*linear];
}

/// The key count of a padding mask's scores (the mask dim the score key dim
/// indexes), or -1.
static int64_t paddingMaskKeys(const EvaluatedTensor &mask, AffineMap map) {
  for (auto [r, expr] : llvm::enumerate(map.getResults()))
    if (auto dim = dyn_cast<AffineDimExpr>(expr); dim && dim.getPosition() == 3)
      return mask.shape[r];
  return -1;
}

/// The sliding window a padding mask shows: W when some sequence of length
/// l sees its cache from key l - W + 1 > 0 on, 0 when none is cut, -1
/// when two sequences show different windows.
static int64_t paddingMaskWindow(const EvaluatedTensor &mask, AffineMap map,
                                 ArrayRef<double> lengths) {
  int64_t n = paddingMaskKeys(mask, map), window = 0;
  for (int64_t b = 0; b < int64_t(lengths.size()); ++b) {
    int64_t l = static_cast<int64_t>(lengths[b]);
    for (int64_t j = 0; j < std::min(l, n - 1); ++j) {
      std::optional<double> m = maskAt(mask, map, b, j);
      if (!m || *m != 0.0)
        continue;
      if (j > 0) {
        if (window && window != l - j + 1)
          return -1;
        window = l - j + 1;
      }
      break;
    }
  }
  return window;
}

/// Whether mask values (read through `map`, shape `maskShape`) are the
/// padding mask of `lengths` over scores [B, H, 1, N]: row b is 0 on keys
/// j < lengths[b] (with a window W, those above lengths[b] - W too) and
/// j = N - 1, masked elsewhere.
static bool isPaddingMask(const EvaluatedTensor &mask, AffineMap map,
                          Type elementType, ArrayRef<double> lengths,
                          int64_t window) {
  double lowest = lowestFinite(elementType);
  // The key count: the mask dim the score key dim indexes.
  int64_t n = -1;
  bool batchIndexed = false;
  for (auto [r, expr] : llvm::enumerate(map.getResults()))
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (dim.getPosition() == 3)
        n = mask.shape[r];
      batchIndexed |= dim.getPosition() == 0 &&
                      mask.shape[r] == int64_t(lengths.size());
    }
  if (n < 1 || !batchIndexed)
    return false;
  for (int64_t b = 0; b < int64_t(lengths.size()); ++b)
    for (int64_t j = 0; j < n; ++j) {
      std::optional<int64_t> linear =
          linearIndex(map.compose({b, 0, 0, j}), mask.shape);
      if (!linear)
        return false;
      double m = mask.values[*linear];
      bool masked = m == -INFINITY || m <= lowest;
      bool visible = (j < lengths[b] && (!window || j > lengths[b] - window)) ||
                     j == n - 1;
      if (visible ? m != 0.0 : !masked)
        return false;
    }
  return true;
}

/// A decode step of a padded batch: the mask reads one `[B]` integer
/// argument (the cache lengths) and sizes of arguments, and shows each
/// sequence its own cache and the key the step appended. The sizes it
/// reads are either the batch or the cache length; which is which is not
/// in the IR, so every assignment is tried: at least one must evaluate,
/// and every one that does must give the padding mask at every evaluated
/// length and set of lengths (lengths past the cache included, which the
/// op clamps as the mask does).
LogicalResult ChainMatcher::matchPaddingMask(const Step &mask,
                                             AffineMap maskMap,
                                             const MaskInputs &inputs,
                                             bool &showsAll, int64_t &window) {
  // All zeros wherever it is evaluated: the mask hides nothing (it reads
  // the lengths only to show every key, `(j < n) | (j >= n)`). Else it
  // must be the padding mask (with one sliding window, or none) wherever
  // it is evaluated.
  showsAll = true;
  Value lengths = inputs.arguments[0];
  SmallVector<std::pair<Value, int64_t>> sizes;
  for (auto read : inputs.argumentDims)
    if (read != std::make_pair(lengths, int64_t(0)))
      sizes.push_back(read);
  if (sizes.size() > kMaxPaddingMaskSizes)
    return fail("the padding mask reads more argument sizes than can be "
                "tried");
  // As for decode's position: the lengths just past the integer constants
  // of the computation, so that a sliding window longer than the sampled
  // lengths (Gemma 3's 512) shows instead of passing for a padding mask.
  SmallVector<int64_t> cacheLengths(std::begin(kPaddingMaskLengths),
                                    std::end(kPaddingMaskLengths));
  for (int64_t c : inputs.integers) {
    if (c < kPaddingMaskLengths[std::size(kPaddingMaskLengths) - 1] - 1)
      continue;
    if (3 * (c + 6) > kMaxMaskElements)
      return fail("the padding mask compares lengths with " + Twine(c) +
                  ", more than the lengths it can be evaluated at");
    cacheLengths.append({c, c + 1, c + 2});
  }
  llvm::sort(cacheLengths);
  cacheLengths.erase(llvm::unique(cacheLengths), cacheLengths.end());
  Type elementType = shapeOf(mask.other).getElementType();
  bool anyEvaluated = false;
  window = 0;
  const char *notPadding =
      "the additive mask reads per-sequence lengths but is not the padding "
      "mask of a decode batch (sequence b sees keys j < lengths[b], or the "
      "last W of them, and its own key N - 1)";
  for (uint64_t roles = 0; roles < (uint64_t(1) << sizes.size()); ++roles) {
    // Every evaluation of this assignment of the sizes, with its lengths.
    SmallVector<std::pair<EvaluatedTensor, SmallVector<double>>> evaluations;
    bool evaluated = true;
    for (int64_t m : cacheLengths) {
      double half = static_cast<double>(m / 2);
      SmallVector<SmallVector<double>> batches = {
          {double(m)}, {0.0, half, double(m)}, {double(m + 3), -1.0}};
      for (const SmallVector<double> &batch : batches) {
        MaskBindings bindings;
        int64_t count = batch.size();
        bindings.argumentDims.push_back({lengths, 0, count});
        for (auto [i, read] : llvm::enumerate(sizes))
          bindings.argumentDims.push_back(
              {read.first, read.second, (roles >> i) & 1 ? m : count});
        bindings.argument = lengths;
        bindings.argumentValues = batch;
        FailureOr<EvaluatedTensor> values =
            evaluateTensorWith(mask.other, std::move(bindings),
                               kMaxMaskElements);
        if (failed(values)) {
          evaluated = false;
          break;
        }
        evaluations.push_back({std::move(*values), batch});
      }
      if (!evaluated)
        break;
    }
    if (!evaluated)
      continue;
    anyEvaluated = true;
    for (auto &[values, batch] : evaluations)
      showsAll &= llvm::all_of(values.values, [](double v) { return v == 0.0; });
    if (showsAll)
      continue;
    // The window is read off the evaluations, then every one must be the
    // padding mask with it.
    int64_t w = 0;
    for (auto &[values, batch] : evaluations) {
      int64_t seen = paddingMaskWindow(values, maskMap, batch);
      if (seen < 0 || (seen && w && seen != w))
        return fail(notPadding);
      w = seen ? seen : w;
    }
    for (auto &[values, batch] : evaluations)
      if (!isPaddingMask(values, maskMap, elementType, batch, w))
        return fail(notPadding);
    if (window && w != window)
      return fail(notPadding);
    window = w;
  }
  if (!anyEvaluated)
    return fail("the additive mask reads per-sequence lengths, but its "
                "computation could not be evaluated");
  return success();
}

LogicalResult ChainMatcher::matchMask(const Step &mask, Value scores,
                                      bool &causal, int64_t &window,
                                      Value &keyLengths) {
  ShapedType scoresType = shapeOf(scores);
  ShapedType maskType = shapeOf(mask.other);
  if (scoresType.getRank() != mask.otherMap.getNumDims() ||
      mask.otherMap.getNumResults() != maskType.getRank())
    return fail("the mask is not indexed by the score positions");
  AffineMap maskMap = mask.otherMap;
  if (scoresType.getRank() == 3) {
    // [B * H, S, N] scores are read as [1, B * H, S, N]: every row is
    // checked on its own, so the merged batch and heads need no split.
    MLIRContext *ctx = maskMap.getContext();
    AffineMap dropUnit = AffineMap::get(
        4, 0,
        {getAffineDimExpr(1, ctx), getAffineDimExpr(2, ctx),
         getAffineDimExpr(3, ctx)},
        ctx);
    maskMap = maskMap.compose(dropUnit);
    SmallVector<int64_t> shape = {1};
    llvm::append_range(shape, scoresType.getShape());
    scoresType = scoresType.clone(shape);
  }
  if (scoresType.getRank() != 4)
    return fail("the mask is not indexed by the score positions");
  Type elementType = maskType.getElementType();
  MaskRows rows;
  auto tooManyPositions = [&] {
    return fail("the masked scores have more than " + Twine(kMaxMaskElements) +
                " positions to compare with the causal mask");
  };
  const char *notConstant =
      "an additive mask of dynamic shape is not computed from positions and "
      "constants of one sequence length (and at most decode's position); only "
      "a causal or sliding-window mask is recognized";
  if (scoresType.hasStaticShape()) {
    if (!hasAtMostElements(scoresType.getShape(), kMaxMaskElements))
      return tooManyPositions();
    FailureOr<SmallVector<double>> values =
        evaluateConstantTensor(mask.other, kMaxMaskElements);
    if (failed(values))
      return fail("an additive mask that is not a constant is applied to the "
                  "scores; only a causal or sliding-window mask is recognized");
    if (failed(classifyMaskRows(*values, maskType.getShape(), maskMap,
                                elementType, scoresType.getShape(), rows)))
      return fail("the mask is not indexed by the score positions");
  } else {
    MaskInputs inputs;
    if (!collectMaskInputs(mask.other, inputs))
      return fail(notConstant);
    // A padded decode batch: the mask reads a [B] integer argument.
    if (inputs.arguments.size() == 1 && scoresType.getDimSize(2) == 1) {
      auto type = dyn_cast<RankedTensorType>(inputs.arguments[0].getType());
      if (type && type.getRank() == 1 &&
          type.getElementType().isSignlessInteger()) {
        bool showsAll = false;
        if (failed(matchPaddingMask(mask, maskMap, inputs, showsAll, window)))
          return failure();
        if (showsAll)
          window = 0;
        // A window ends at the query's own key (`causal`, which a
        // [B, Hq, d] query drops).
        causal = window != 0;
        keyLengths = showsAll ? Value() : inputs.arguments[0];
        return success();
      }
    }
    if (scoresType.isDynamicDim(0) || scoresType.isDynamicDim(1))
      return fail("a mask is added to scores of dynamic batch or head count");
    Value size = dynamicSizeOf(mask.other);
    if (!size)
      return fail(notConstant);
    // Decode's position: a rank-0 integer argument, for one query.
    Value position;
    if (!inputs.arguments.empty()) {
      auto type = dyn_cast<RankedTensorType>(inputs.arguments[0].getType());
      Type element = type ? type.getElementType()
                          : inputs.arguments[0].getType();
      if (inputs.arguments.size() != 1 || (type && type.getRank() != 0) ||
          !element.isSignlessInteger() || scoresType.getDimSize(2) != 1)
        return fail(notConstant);
      position = inputs.arguments[0];
    }
    SmallVector<int64_t> sizes(std::begin(kDynamicMaskSizes),
                               std::end(kDynamicMaskSizes));
    for (int64_t c : inputs.integers) {
      if (c <= kDynamicMaskSizes[std::size(kDynamicMaskSizes) - 1] - 2)
        continue;
      if (c > kMaxMaskElements)
        return fail("the mask compares positions with " + Twine(c) +
                    ", more than the lengths it can be evaluated at");
      sizes.push_back(c + 1);
      sizes.push_back(c + 2);
    }
    llvm::sort(sizes);
    sizes.erase(llvm::unique(sizes), sizes.end());
    for (int64_t n : sizes) {
      FailureOr<EvaluatedTensor> mv = evaluateTensorAtSize(
          mask.other, size, n, kMaxMaskElements, position,
          static_cast<double>(n - 1));
      if (failed(mv)) {
        if (n > kDynamicMaskSizes[std::size(kDynamicMaskSizes) - 1])
          return fail("the mask compares positions with " + Twine(n - 2) +
                      ", more than the lengths it can be evaluated at");
        return fail(notConstant);
      }
      // Each dynamic score dim must index a mask dim of that length.
      SmallVector<int64_t> shape(scoresType.getShape());
      for (int64_t d : {2, 3}) {
        if (!scoresType.isDynamicDim(d))
          continue;
        bool bound = false;
        for (auto [r, expr] : llvm::enumerate(maskMap.getResults()))
          if (auto dim = dyn_cast<AffineDimExpr>(expr))
            bound |= dim.getPosition() == d && mv->shape[r] == n;
        if (!bound)
          return fail("the query or key length of the masked scores is not "
                      "the length the mask is built for");
        shape[d] = n;
      }
      if (!hasAtMostElements(shape, kMaxMaskElements))
        return tooManyPositions();
      if (failed(classifyMaskRows(mv->values, mv->shape, maskMap,
                                  elementType, shape, rows)))
        return fail("the mask is not indexed by the score positions");
      if (shape[2] > shape[3] && !rows.isZero)
        return fail("a causal mask over more queries than keys");
    }
  }
  if (rows.isZero) {
    causal = false;
    window = 0;
    return success();
  }
  if (rows.bias)
    return fail("the additive mask adds a position-dependent bias (finite "
                "values other than 0, as ALiBi does), not a 0/-inf mask; only "
                "a causal or sliding-window mask is recognized");
  if (!rows.causalForm)
    return fail("the additive mask is not the causal mask (query s of the "
                "last S positions sees keys j <= N - S + s) nor a sliding "
                "window of it");
  if (rows.windowsDiffer || (rows.window && rows.window < rows.minWindow))
    return fail("the rows of the mask see sliding windows of different "
                "lengths");
  // With more queries than keys the first rows would be fully masked.
  ArrayRef<int64_t> shape = scoresType.getShape();
  if (scoresType.hasStaticShape() && shape[2] > shape[3])
    return fail("a causal mask over more queries than keys");
  causal = true;
  window = rows.window;
  return success();
}

/// Forward from the P.V matmul to the [B, Hq, (S,) dv] value it computes.
LogicalResult ChainMatcher::matchResult(Operation *pvOp, int64_t batchRank,
                                        Value &result) {
  Value r = pvOp->getResult(0);
  auto forwardCasts = [&] {
    for (Step s = forward(r); s.kind == StepKind::Cast; s = forward(r))
      r = s.op->getResult(0);
  };
  forwardCasts();
  if (batchRank == 1) {
    Step split = forward(r);
    if (!isGroupedReshape(split, kHeadsWithBatch, /*collapsing=*/false) &&
        !isHeadsAndUnitReshape(split, /*collapsing=*/false))
      return fail("the P.V product is not split back into [B, H, S, dv] (or "
                  "it has other users)");
    r = split.op->getResult(0);
    forwardCasts();
  }
  Step squeeze = forward(r);
  if (rankOf(r) == 4 && isUnitReshape(squeeze, 4, 2, /*collapsing=*/true)) {
    r = squeeze.op->getResult(0);
    forwardCasts();
  }
  result = r;
  return success();
}

/// Rejects what would not verify as magicpig.attention.
LogicalResult ChainMatcher::checkShapes(const AttentionMatch &m,
                                        int64_t groupsK, int64_t groupsV) {
  if (!llvm::all_of(ValueRange{m.query, m.key, m.value, m.result},
                    [](Value x) { return isa<RankedTensorType>(x.getType()); }))
    return fail("attention on values that are not ranked tensors");
  ShapedType q = shapeOf(m.query), k = shapeOf(m.key), v = shapeOf(m.value);
  if (m.keyTokensFirst && k.getRank() == 4)
    k = k.clone(SmallVector<int64_t>{k.getDimSize(0), k.getDimSize(2),
                                     k.getDimSize(1), k.getDimSize(3)});
  ShapedType out = shapeOf(m.result);
  auto differ = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
  };
  if (q.getRank() != 3 && q.getRank() != 4)
    return fail("the query traces to a rank-" + Twine(q.getRank()) +
                " tensor, not [B, H, d] or [B, H, S, d]");
  if (k.getRank() != 4 || v.getRank() != 4)
    return fail("the keys or values trace to a tensor that is not "
                "[B, Hkv, N, d]");
  if (out.getRank() != 3 && out.getRank() != 4)
    return fail("the attention output is not [B, H, (S,) dv]");
  if (groupsK != groupsV)
    return fail("keys and values repeat their heads differently (" +
                Twine(groupsK) + " vs " + Twine(groupsV) + ")");
  if (k.getElementType() != v.getElementType())
    return fail("keys and values have different element types");
  if (!isa<FloatType>(q.getElementType()) ||
      !isa<FloatType>(k.getElementType()) ||
      !isa<FloatType>(out.getElementType()))
    return fail("attention on non-float element types");
  int64_t hq = q.getDimSize(1), hkv = k.getDimSize(1);
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv) ||
      hkv * groupsK != hq || k.getDimSize(1) != v.getDimSize(1))
    return fail("the kv heads do not group the query heads statically");
  if (differ(q.getDimSize(0), k.getDimSize(0)) ||
      differ(k.getDimSize(0), v.getDimSize(0)) ||
      differ(q.getDimSize(q.getRank() - 1), k.getDimSize(3)) ||
      differ(k.getDimSize(2), v.getDimSize(2)))
    return fail("query, key and value shapes disagree");
  // The exported output must be [B, Hq, (S,) dv] of these operands (the
  // batch matmul could have split B * H differently).
  SmallVector<int64_t> expected = {q.getDimSize(0), q.getDimSize(1)};
  if (out.getRank() == 4)
    expected.push_back(q.getRank() == 4 ? q.getDimSize(2) : 1);
  else if (q.getRank() == 4 && q.getDimSize(2) != 1)
    return fail("the attention output drops a query length that is not 1");
  expected.push_back(v.getDimSize(3));
  for (auto [want, have] : llvm::zip(expected, out.getShape()))
    if (differ(want, have))
      return fail("the attention output is not [B, Hq, (S,) dv] of the "
                  "query and value");
  if (!(m.scale > 0.0) || !std::isfinite(m.scale))
    return fail("the combined scale " + num(m.scale) + " is not positive");
  return success();
}

FailureOr<AttentionMatch> ChainMatcher::match(Operation *pvOp) {
  if (pvOp->getNumResults() != 1)
    return fail("not a matmul");
  Step pv = classify(pvOp->getResult(0));
  if (pv.kind != StepKind::Matmul)
    return fail("not a matmul");
  int64_t batchRank = rankOf(pv.input) - 2;
  if (batchRank != 1 && batchRank != 2)
    return fail("not a batched matmul");

  // The probabilities: casts, the head merge, torch's all -inf row guard.
  Value p = pv.input;
  Step merge, guard;
  while (true) {
    Step s = classify(p);
    if (s.kind == StepKind::Cast) {
      p = s.input;
    } else if (s.kind == StepKind::Reshape && !merge.op) {
      merge = s;
      p = s.input;
    } else if (s.kind == StepKind::ZeroRowsIf && !guard.op) {
      guard = s;
      p = s.input;
    } else {
      break;
    }
  }
  StepKind normKind = classify(p).kind;
  if (normKind != StepKind::Softmax && normKind != StepKind::Div)
    return fail("the lhs of the matmul is not a softmax");
  decline.attentionLike = true;
  // Attention written in 3-D (torch.bmm) keeps the probabilities
  // [B * H, S, N] up to P.V; the batch and head merge is then checked on
  // q, k and v, and the split on the result.
  mergedScores = batchRank == 1 && !merge.op;
  if (batchRank == 1 && !mergedScores &&
      !isGroupedReshape(merge, kHeadsWithBatch, /*collapsing=*/true))
    return fail("the P.V matmul does not read the [B, H, S, N] "
                "probabilities with batch and heads merged");
  if (batchRank == 2 && merge.op)
    return fail("the probabilities are reshaped before the P.V matmul");

  Value scores;
  int64_t dim;
  if (failed(matchSoftmax(p, scores, dim)))
    return failure();
  int64_t scoresRank = mergedScores ? 3 : 4;
  if (rankOf(scores) != scoresRank)
    return fail(mergedScores ? "the softmax input is not [B * H, S, N]"
                             : "the softmax input is not [B, H, S, N]");
  if (dim != scoresRank - 1)
    return fail("the softmax normalizes along dimension " + Twine(dim) +
                " of the scores, not along the key dimension " +
                Twine(scoresRank - 1));
  if (guard.op && failed(matchGuard(guard, scores, dim)))
    return failure();

  AttentionMatch m;
  Step mask, qk;
  int64_t groupsK = 1, groupsV = 1;
  if (failed(matchScores(scores, batchRank, m.scale, mask, qk)) ||
      failed(matchQuery(qk, batchRank, m.scale, m.query)) ||
      failed(matchKey(qk, batchRank, m.scale, m.key, groupsK,
                      m.keyTokensFirst)) ||
      failed(matchValue(pv, batchRank, m.value, groupsV)) ||
      failed(matchResult(pvOp, batchRank, m.result)))
    return failure();
  m.groups = groupsK;
  m.pv = pvOp;
  if (failed(checkShapes(m, groupsK, groupsV)))
    return failure();
  if (mask.op &&
      failed(matchMask(mask, scores, m.causal, m.window, m.keyLengths)))
    return failure();
  // A causal mask over one query position masks nothing (a [B, Hq, d]
  // query's window needs no `causal`; a [B, Hq, 1, d] one keeps it).
  if (m.causal && (rankOf(m.query) == 3 ||
                   (shapeOf(m.query).getDimSize(2) == 1 && !m.window)))
    m.causal = false;
  return m;
}

} // namespace

FailureOr<AttentionMatch>
mlir::magicpig::matchAttention(Operation *pv, StepClassifier classify,
                               MatchDecline &decline) {
  return ChainMatcher(classify, decline).match(pv);
}

void mlir::magicpig::replaceWithAttention(RewriterBase &rewriter,
                                          const AttentionMatch &match) {
  Operation *resultOp = match.result.getDefiningOp();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(resultOp);
  Location loc = resultOp->getLoc();

  auto q = cast<RankedTensorType>(match.query.getType());
  auto resultType = cast<RankedTensorType>(match.result.getType());
  // Output [B, Hq, (S,) dv] in the layout of the query.
  SmallVector<std::pair<Value, int64_t>> dims = {{match.query, 0},
                                                 {match.query, 1}};
  if (q.getRank() == 4)
    dims.push_back({match.query, 2});
  dims.push_back({match.value, 3});
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicSizes;
  for (auto [source, d] : dims) {
    int64_t size = cast<ShapedType>(source.getType()).getDimSize(d);
    shape.push_back(size);
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, source, d));
  }
  auto outType = RankedTensorType::get(shape, resultType.getElementType());
  Value init = tensor::EmptyOp::create(rewriter, loc, outType, dynamicSizes);
  Value key = match.key;
  if (match.keyTokensFirst) {
    // [B, N, Hkv, d] -> [B, Hkv, N, d].
    auto k = cast<RankedTensorType>(key.getType());
    SmallVector<int64_t> perm = {0, 2, 1, 3};
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : perm)
      sizes.push_back(tensor::getMixedSize(rewriter, loc, key, d));
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes,
                                         k.getElementType());
    key = linalg::TransposeOp::create(rewriter, loc, key, init, perm)
              .getResult()[0];
  }
  auto attention = AttentionOp::create(
      rewriter, loc, TypeRange{outType}, match.query, key, match.value,
      init, rewriter.getF32FloatAttr(static_cast<float>(match.scale)),
      match.causal ? rewriter.getUnitAttr() : nullptr,
      match.window ? rewriter.getI64IntegerAttr(match.window) : nullptr,
      match.keyLengths);
  if (match.pv)
    if (auto layer = match.pv->getAttrOfType<IntegerAttr>(kLayerAttr))
      attention->setAttr(kLayerAttr, layer);
  Value out = attention.getResult(0);

  // Back to the exported layout when it keeps (or drops) a unit S.
  SmallVector<ReassociationIndices> unitQuery = {{0}, {1}, {2, 3}};
  if (outType.getRank() == 3 && resultType.getRank() == 4) {
    SmallVector<int64_t> expanded = {shape[0], shape[1], 1, shape[2]};
    out = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get(expanded, resultType.getElementType()), out,
        unitQuery);
  } else if (outType.getRank() == 4 && resultType.getRank() == 3) {
    out = tensor::CollapseShapeOp::create(rewriter, loc, out, unitQuery);
  }
  if (out.getType() != resultType)
    out = tensor::CastOp::create(rewriter, loc, resultType, out);
  if (resultOp->getNumResults() == 1)
    rewriter.replaceOp(resultOp, out);
  else
    rewriter.replaceAllUsesWith(match.result, out);
}
