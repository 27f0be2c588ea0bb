//===- RaiseTosaAttention.cpp - Attention in TOSA -------------------------===//
//
// Classifies TOSA ops into attention steps: what torch-mlir's TOSA export
// writes (tosa.matmul between reshapes, transpose, mul by a constant,
// reduce_max / sub / exp / reduce_sum / reciprocal / mul, the reshape + tile
// of repeat_kv, the select of torch's safe softmax). TOSA broadcasts
// numpy-style on equal ranks, so broadcast dims are read off the shapes.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatchers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::magicpig;

namespace {

/// The element of a splat constant tensor.
std::optional<double> splatOf(Value v) {
  SplatElementsAttr splat;
  if (!matchPattern(v, m_Constant(&splat)))
    return std::nullopt;
  Attribute element = splat.getSplatValue<Attribute>();
  if (auto f = dyn_cast<FloatAttr>(element))
    return f.getValueAsDouble();
  if (auto i = dyn_cast<IntegerAttr>(element))
    return static_cast<double>(i.getValue().getSExtValue());
  return std::nullopt;
}

bool isZero(Value v) {
  std::optional<double> c = splatOf(v);
  return c && *c == 0.0;
}

/// The dim along which `row` broadcasts against `full` (same rank): the one
/// dim where row has size 1 and full does not; kAnyDim when there is none;
/// kNoDim when row is not a row (other sizes differ, or several such dims).
int64_t broadcastDim(Value row, Value full) {
  auto r = cast<ShapedType>(row.getType());
  auto f = cast<ShapedType>(full.getType());
  if (r.getRank() != f.getRank() || !r.hasStaticShape() || !f.hasStaticShape())
    return kNoDim;
  int64_t dim = kAnyDim;
  for (int64_t d = 0; d < r.getRank(); ++d) {
    if (r.getDimSize(d) == f.getDimSize(d))
      continue;
    if (r.getDimSize(d) != 1 || dim != kAnyDim)
      return kNoDim;
    dim = d;
  }
  return dim;
}

/// Index map of a numpy-style broadcast operand of the same rank.
AffineMap broadcastMap(Value operand, Value full) {
  auto o = cast<ShapedType>(operand.getType());
  auto f = cast<ShapedType>(full.getType());
  MLIRContext *ctx = operand.getContext();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < f.getRank(); ++d)
    exprs.push_back(o.getDimSize(d) == 1 && f.getDimSize(d) != 1
                        ? getAffineConstantExpr(0, ctx)
                        : getAffineDimExpr(d, ctx));
  return AffineMap::get(f.getRank(), 0, exprs, ctx);
}

bool sameShape(Value a, Value b) {
  return cast<ShapedType>(a.getType()).getShape() ==
         cast<ShapedType>(b.getType()).getShape();
}

template <typename BinaryOp> Value otherOperand(BinaryOp op, Value v) {
  return op.getInput1() == v ? op.getInput2() : op.getInput1();
}

Step classifyMul(tosa::MulOp mul, Step step) {
  if (!isZero(mul.getShift()) && !isa<NoneType>(mul.getShift().getType()))
    return step;
  Value out = mul.getOutput();
  for (auto [x, c] :
       {std::pair<Value, Value>(mul.getInput1(), mul.getInput2()),
        std::pair<Value, Value>(mul.getInput2(), mul.getInput1())}) {
    if (!sameShape(x, out))
      continue;
    if (std::optional<double> factor = splatOf(c)) {
      step.kind = StepKind::Scale;
      step.input = x;
      step.factor = *factor;
      return step;
    }
    // x * reciprocal(sum) is the softmax normalization x / sum.
    if (auto reciprocal = c.getDefiningOp<tosa::ReciprocalOp>()) {
      int64_t dim = broadcastDim(c, out);
      if (dim == kNoDim)
        continue;
      step.kind = StepKind::Div;
      step.input = x;
      step.other = reciprocal.getInput1();
      step.dim = dim;
      return step;
    }
  }
  return step;
}

template <typename ReduceOp>
Step reduction(ReduceOp reduce, Step step, StepKind kind, double start) {
  step.kind = kind;
  step.input = reduce.getInput();
  step.dim = reduce.getAxis();
  step.factor = start;
  return step;
}

/// reduce_all(x == -inf), with x possibly cast to a wider type first.
Step classifyAllNegInf(tosa::ReduceAllOp all, Step step) {
  auto equal = all.getInput().getDefiningOp<tosa::EqualOp>();
  if (!equal)
    return step;
  for (Value c : {equal.getInput1(), equal.getInput2()}) {
    std::optional<double> value = splatOf(c);
    Value x = otherOperand(equal, c);
    if (!value || *value != -INFINITY || !sameShape(x, all.getInput()))
      continue;
    if (auto cast = x.getDefiningOp<tosa::CastOp>())
      x = cast.getInput();
    step.kind = StepKind::RowAllNegInf;
    step.input = x;
    step.dim = all.getAxis();
    return step;
  }
  return step;
}

/// tile(reshape(k, [B, Hkv, 1, N, d]), [1, 1, G, 1, 1]): repeat_kv.
Step classifyTile(tosa::TileOp tile, Step step) {
  auto in = cast<ShapedType>(tile.getInput1().getType());
  auto out = cast<ShapedType>(tile.getOutput().getType());
  auto reshape = tile.getInput1().getDefiningOp<tosa::ReshapeOp>();
  if (!reshape || in.getRank() != 5 || !in.hasStaticShape() ||
      !out.hasStaticShape() || in.getDimSize(2) != 1)
    return step;
  for (int64_t d : {0, 1, 3, 4})
    if (in.getDimSize(d) != out.getDimSize(d))
      return step;
  auto root = cast<ShapedType>(reshape.getInput1().getType());
  if (root.getRank() != 4 ||
      root.getShape() != ArrayRef<int64_t>{in.getDimSize(0), in.getDimSize(1),
                                           in.getDimSize(3), in.getDimSize(4)})
    return step;
  step.kind = StepKind::RepeatGroups;
  step.input = reshape.getInput1();
  step.groups = out.getDimSize(2);
  return step;
}

struct RaiseTosaAttention : OpRewritePattern<tosa::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    MatchDecline decline;
    FailureOr<AttentionMatch> match =
        matchAttention(op, classifyTosaStep, decline);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, decline.reason);
    replaceWithAttention(rewriter, *match);
    return success();
  }
};

} // namespace

Step mlir::magicpig::classifyTosaStep(Value value) {
  Step step;
  Operation *op = value.getDefiningOp();
  if (!op)
    return step;
  step.op = op;
  return llvm::TypeSwitch<Operation *, Step>(op)
      .Case([&](tosa::CastOp cast) {
        if (isa<FloatType>(getElementTypeOrSelf(cast.getInput())) &&
            isa<FloatType>(getElementTypeOrSelf(cast.getOutput()))) {
          step.kind = StepKind::Cast;
          step.input = cast.getInput();
        }
        return step;
      })
      .Case([&](tosa::MulOp mul) { return classifyMul(mul, step); })
      .Case([&](tosa::AddOp add) {
        Value out = add.getOutput();
        for (Value c : {add.getInput1(), add.getInput2()}) {
          Value x = otherOperand(add, c);
          if (!sameShape(x, out))
            continue;
          if (std::optional<double> constant = splatOf(c)) {
            step.kind = StepKind::AddConstant;
            step.input = x;
            step.factor = *constant;
            return step;
          }
          step.kind = StepKind::AddTensor;
          step.input = x;
          step.other = c;
          step.otherMap = broadcastMap(c, out);
          return step;
        }
        return step;
      })
      .Case([&](tosa::SubOp sub) {
        int64_t dim = broadcastDim(sub.getInput2(), sub.getOutput());
        if (dim != kNoDim && sameShape(sub.getInput1(), sub.getOutput())) {
          step.kind = StepKind::Sub;
          step.input = sub.getInput1();
          step.other = sub.getInput2();
          step.dim = dim;
        }
        return step;
      })
      .Case([&](tosa::ExpOp exp) {
        step.kind = StepKind::Exp;
        step.input = exp.getInput1();
        return step;
      })
      .Case([&](tosa::ReduceMaxOp max) {
        return reduction(max, step, StepKind::RowMax, -INFINITY);
      })
      .Case([&](tosa::ReduceSumOp sum) {
        return reduction(sum, step, StepKind::RowSum, 0.0);
      })
      .Case([&](tosa::ReduceAllOp all) { return classifyAllNegInf(all, step); })
      .Case([&](tosa::SelectOp select) {
        int64_t dim = broadcastDim(select.getInput1(), select.getOutput());
        if (isZero(select.getInput2()) && dim != kNoDim &&
            sameShape(select.getInput3(), select.getOutput())) {
          step.kind = StepKind::ZeroRowsIf;
          step.input = select.getInput3();
          step.other = select.getInput1();
          step.dim = dim;
        }
        return step;
      })
      .Case([&](tosa::TransposeOp transpose) {
        if (llvm::equal(transpose.getPerms(), ArrayRef<int32_t>{0, 1, 3, 2}) ||
            llvm::equal(transpose.getPerms(), ArrayRef<int32_t>{0, 2, 1})) {
          step.kind = StepKind::SwapLast;
          step.input = transpose.getInput1();
        }
        return step;
      })
      .Case([&](tosa::ReshapeOp reshape) {
        step.kind = StepKind::Reshape;
        step.input = reshape.getInput1();
        return step;
      })
      .Case([&](tosa::TileOp tile) { return classifyTile(tile, step); })
      .Case([&](tosa::MatMulOp matmul) {
        if (isZero(matmul.getAZp()) && isZero(matmul.getBZp())) {
          step.kind = StepKind::Matmul;
          step.input = matmul.getA();
          step.other = matmul.getB();
        }
        return step;
      })
      .Default([&](Operation *) { return step; });
}

void mlir::magicpig::populateRaiseTosaAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RaiseTosaAttention>(patterns.getContext());
}
