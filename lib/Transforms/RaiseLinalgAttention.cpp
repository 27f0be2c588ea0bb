//===- RaiseLinalgAttention.cpp - Attention in linalg on tensors ---------===//
//
// Classifies linalg / tensor ops into attention steps: what torch-mlir's
// linalg-on-tensors export writes (batch_matmul between collapse/expand,
// linalg.transpose, elementwise and reduction generics, the broadcast generic
// of repeat_kv), linalg.softmax and its upstream decomposition, and the same
// after linalg-generalize-named-ops (matmuls, transposes and fills as
// generics). The math is checked by matchAttention; this file only reads
// what each op computes.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::magicpig;

namespace {

/// A float scalar known at compile time, rounded to `type` when the body
/// converts it (torch-mlir captures f64 constants and truncates them).
std::optional<double> roundTo(double value, Type type) {
  auto ft = dyn_cast<FloatType>(type);
  if (!ft)
    return value;
  bool lost;
  llvm::APFloat f(value);
  f.convert(ft.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven, &lost);
  return f.convertToDouble();
}

std::optional<double> scalarOf(Attribute attr) {
  if (auto splat = dyn_cast<SplatElementsAttr>(attr))
    attr = splat.getSplatValue<Attribute>();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getType().isInteger(1)
               ? static_cast<double>(i.getValue().getZExtValue())
               : static_cast<double>(i.getInt());
  return std::nullopt;
}

std::optional<double> fillValue(Value init);

/// The constant a body value stands for: a captured arith.constant, a float
/// conversion of one, or the element of a splat / rank-0 constant input or
/// of an input filled with one constant (torch-mlir broadcasts SDPA's zeros
/// of the all -inf row guard from a rank-0 constant).
std::optional<double> constantOf(Value v, linalg::GenericOp generic) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getOwner() != generic.getBody() ||
        arg.getArgNumber() >= generic.getNumDpsInputs())
      return std::nullopt;
    Value input = generic.getDpsInputOperand(arg.getArgNumber())->get();
    Attribute attr;
    if (!matchPattern(input, m_Constant(&attr)))
      return isa<ShapedType>(input.getType()) ? fillValue(input)
                                              : std::nullopt;
    return scalarOf(attr);
  }
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (isa<arith::TruncFOp, arith::ExtFOp>(def)) {
    std::optional<double> c = constantOf(def->getOperand(0), generic);
    return c ? roundTo(*c, v.getType()) : std::nullopt;
  }
  Attribute attr;
  if (matchPattern(v, m_Constant(&attr)))
    return scalarOf(attr);
  return std::nullopt;
}

/// The value an init tensor is filled with (linalg.fill, its generalized
/// generic, a splat constant, or a generic that broadcasts a rank-0
/// constant tensor to every element).
std::optional<double> fillValue(Value init) {
  Attribute attr;
  if (matchPattern(init, m_Constant(&attr)))
    return scalarOf(attr);
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    if (matchPattern(fill.getInputs()[0], m_Constant(&attr)))
      return scalarOf(attr);
    return std::nullopt;
  }
  auto generic = init.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInits() != 1 ||
      generic.getNumDpsInputs() > 1)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  if (generic.getNumDpsInputs() == 1) {
    OpOperand *input = generic.getDpsInputOperand(0);
    auto type = dyn_cast<ShapedType>(input->get().getType());
    if (type && (type.getRank() != 0 ||
                 !generic.getMatchingIndexingMap(input).isConstant() ||
                 !llvm::all_of(generic.getIteratorTypesArray(),
                               [](utils::IteratorType t) {
                                 return t == utils::IteratorType::parallel;
                               })))
      return std::nullopt;
  }
  return constantOf(yield.getOperand(0), generic);
}

/// Input number of a body block argument, or -1.
int64_t inputIndexOf(Value v, linalg::GenericOp generic) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != generic.getBody() ||
      arg.getArgNumber() >= generic.getNumDpsInputs())
    return -1;
  return arg.getArgNumber();
}

/// Looks through a float extension of a body value.
Value stripExt(Value v) {
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    return ext.getIn();
  return v;
}

/// For a map of a `rank`-d iteration space that is the identity with one
/// dim dropped or replaced by 0 (a row value broadcast along that dim), the
/// dim; else kNoDim.
int64_t rowDim(AffineMap map, int64_t rank) {
  if (map.getNumDims() != rank)
    return kNoDim;
  if (static_cast<int64_t>(map.getNumResults()) == rank - 1) {
    int64_t dropped = kNoDim;
    for (int64_t d = 0, r = 0; d < rank; ++d) {
      if (r < rank - 1 &&
          map.getResult(r) == getAffineDimExpr(d, map.getContext())) {
        ++r;
        continue;
      }
      if (dropped != kNoDim)
        return kNoDim;
      dropped = d;
    }
    return dropped;
  }
  if (static_cast<int64_t>(map.getNumResults()) != rank)
    return kNoDim;
  int64_t zeroed = kNoDim;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = map.getResult(d);
    if (e == getAffineDimExpr(d, map.getContext()))
      continue;
    auto c = dyn_cast<AffineConstantExpr>(e);
    if (!c || c.getValue() != 0 || zeroed != kNoDim)
      return kNoDim;
    zeroed = d;
  }
  return zeroed;
}

/// Elementwise generics: one result, all loops parallel, identity output.
Step classifyElementwise(linalg::GenericOp generic) {
  Step step;
  step.op = generic;
  int64_t rank = generic.getNumLoops();
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  Value y = yield.getOperand(0);
  auto operandOf = [&](int64_t i) {
    return generic.getDpsInputOperand(i)->get();
  };
  auto mapOf = [&](int64_t i) {
    return generic.getMatchingIndexingMap(generic.getDpsInputOperand(i));
  };
  auto isFull = [&](int64_t i) { return i >= 0 && mapOf(i).isIdentity(); };

  // Copies through a permuted or broadcast map: transposes and repeat_kv.
  if (int64_t i = inputIndexOf(y, generic); i >= 0) {
    AffineMap map = mapOf(i);
    MLIRContext *ctx = generic.getContext();
    auto d = [&](unsigned n) { return getAffineDimExpr(n, ctx); };
    step.input = operandOf(i);
    if (map.isIdentity()) {
      step.kind = StepKind::Cast; // a plain copy
    } else if ((rank == 4 &&
                map == AffineMap::get(4, 0, {d(0), d(1), d(3), d(2)}, ctx)) ||
               (rank == 3 &&
                map == AffineMap::get(3, 0, {d(0), d(2), d(1)}, ctx))) {
      step.kind = StepKind::SwapLast;
    } else if (rank == 4 &&
               map == AffineMap::get(4, 0, {d(0), d(3), d(1), d(2)}, ctx)) {
      step.kind = StepKind::TokensLast; // out[b, h, x, n] = in[b, n, h, x]
    } else if (rank == 5 &&
               map == AffineMap::get(5, 0, {d(0), d(1), d(3), d(4)}, ctx)) {
      int64_t g =
          cast<ShapedType>(generic.getResult(0).getType()).getDimSize(2);
      if (!ShapedType::isDynamic(g)) {
        step.kind = StepKind::RepeatGroups;
        step.groups = g;
      }
    }
    return step;
  }

  Operation *def = y.getDefiningOp();
  if (!def || def->getBlock() != generic.getBody())
    return step;
  auto arg = [&](Value v) { return inputIndexOf(v, generic); };
  auto binary = [&](StepKind kind, Value lhs, Value rhs) {
    int64_t a = arg(lhs), b = arg(rhs);
    if (!isFull(a) || b < 0)
      return;
    int64_t dim = rowDim(mapOf(b), rank);
    if (dim == kNoDim)
      return;
    step.kind = kind;
    step.input = operandOf(a);
    step.other = operandOf(b);
    step.dim = dim;
  };

  if (isa<arith::ExtFOp, arith::TruncFOp>(def)) {
    int64_t a = arg(def->getOperand(0));
    if (isFull(a)) {
      step.kind = StepKind::Cast;
      step.input = operandOf(a);
    }
  } else if (auto exp = dyn_cast<math::ExpOp>(def)) {
    if (int64_t a = arg(exp.getOperand()); isFull(a)) {
      step.kind = StepKind::Exp;
      step.input = operandOf(a);
    } else if (auto sub = exp.getOperand().getDefiningOp<arith::SubFOp>()) {
      binary(StepKind::ShiftExp, sub.getLhs(), sub.getRhs());
    }
  } else if (auto sub = dyn_cast<arith::SubFOp>(def)) {
    binary(StepKind::Sub, sub.getLhs(), sub.getRhs());
  } else if (auto div = dyn_cast<arith::DivFOp>(def)) {
    std::optional<double> c = constantOf(div.getRhs(), generic);
    if (int64_t a = arg(div.getLhs()); c && isFull(a)) {
      step.kind = StepKind::Scale;
      step.input = operandOf(a);
      step.factor = 1.0 / *c;
    } else {
      binary(StepKind::Div, div.getLhs(), div.getRhs());
    }
  } else if (isa<arith::MulFOp, arith::AddFOp>(def)) {
    bool isMul = isa<arith::MulFOp>(def);
    for (auto [x, c] : {std::pair(def->getOperand(0), def->getOperand(1)),
                        std::pair(def->getOperand(1), def->getOperand(0))}) {
      std::optional<double> value = constantOf(c, generic);
      if (int64_t a = arg(x); value && isFull(a)) {
        step.kind = isMul ? StepKind::Scale : StepKind::AddConstant;
        step.input = operandOf(a);
        step.factor = *value;
        return step;
      }
    }
    int64_t a = arg(def->getOperand(0)), b = arg(def->getOperand(1));
    if (!isMul && a >= 0 && b >= 0 && (isFull(a) || isFull(b))) {
      if (!isFull(a))
        std::swap(a, b);
      step.kind = StepKind::AddTensor;
      step.input = operandOf(a);
      step.other = operandOf(b);
      step.otherMap = mapOf(b);
    }
  } else if (auto select = dyn_cast<arith::SelectOp>(def)) {
    std::optional<double> zero = constantOf(select.getTrueValue(), generic);
    int64_t cond = arg(select.getCondition()), x = arg(select.getFalseValue());
    if (zero && *zero == 0.0 && cond >= 0 && isFull(x)) {
      int64_t dim = rowDim(mapOf(cond), rank);
      if (dim != kNoDim) {
        step.kind = StepKind::ZeroRowsIf;
        step.input = operandOf(x);
        step.other = operandOf(cond);
        step.dim = dim;
      }
    }
  }
  return step;
}

/// Row reductions over one dim: max (torch adds an argmax result), sum, and
/// the `and` of an `== -inf` test.
Step classifyReduction(linalg::GenericOp generic, unsigned resultNumber) {
  Step step;
  step.op = generic;
  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  int64_t rank = iterators.size();
  if (generic.getNumDpsInputs() != 1 ||
      llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return step;
  int64_t dim =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  OpOperand *init = generic.getDpsInitOperand(resultNumber);
  if (!generic.getMatchingIndexingMap(generic.getDpsInputOperand(0))
           .isIdentity() ||
      rowDim(generic.getMatchingIndexingMap(init), rank) != dim)
    return step;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  Operation *combiner = yield.getOperand(resultNumber).getDefiningOp();
  if (!combiner || combiner->getNumOperands() != 2)
    return step;
  Value in = generic.getBody()->getArgument(0);
  Value acc = generic.getMatchingBlockArgument(init);
  if (!((combiner->getOperand(0) == in && combiner->getOperand(1) == acc) ||
        (combiner->getOperand(1) == in && combiner->getOperand(0) == acc)))
    return step;
  Value input = generic.getDpsInputOperand(0)->get();
  step.dim = dim;
  step.factor = fillValue(init->get()).value_or(NAN);
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner)) {
    step.kind = StepKind::RowMax;
    step.input = input;
    // maxnumf ignores NaN, so a NaN start (upstream's decomposition of
    // linalg.softmax uses one) is the same as -inf.
    if (isa<arith::MaxNumFOp>(combiner) && std::isnan(step.factor))
      step.factor = -INFINITY;
  } else if (isa<arith::AddFOp>(combiner) && generic.getNumDpsInits() == 1) {
    step.kind = StepKind::RowSum;
    step.input = input;
  } else if (isa<arith::AndIOp>(combiner) && generic.getNumDpsInits() == 1 &&
             step.factor == 1.0) {
    // The tested tensor: an elementwise `x == -inf` (x possibly extended).
    auto test = input.getDefiningOp<linalg::GenericOp>();
    if (!test || test.getNumDpsInputs() != 1 || test.getNumResults() != 1 ||
        !test.getMatchingIndexingMap(test.getDpsInputOperand(0)).isIdentity())
      return step;
    auto cmp = cast<linalg::YieldOp>(test.getBody()->getTerminator())
                   .getOperand(0)
                   .getDefiningOp<arith::CmpFOp>();
    if (!cmp || cmp.getPredicate() != arith::CmpFPredicate::OEQ)
      return step;
    std::optional<double> c = constantOf(cmp.getRhs(), test);
    if (!c || *c != -INFINITY ||
        inputIndexOf(stripExt(cmp.getLhs()), test) != 0)
      return step;
    step.kind = StepKind::RowAllNegInf;
    step.input = test.getDpsInputOperand(0)->get();
  }
  return step;
}

/// Maps of a batched matmul with `batch` batch dims: lhs (b, m, k), rhs
/// (b, k, n) or transposed (b, n, k), out (b, m, n).
SmallVector<AffineMap> matmulMaps(MLIRContext *ctx, int64_t batch,
                                  bool transposedRhs) {
  int64_t m = batch, n = batch + 1, k = batch + 2;
  auto maps = [&](ArrayRef<int64_t> tail) {
    SmallVector<AffineExpr> exprs;
    for (int64_t b = 0; b < batch; ++b)
      exprs.push_back(getAffineDimExpr(b, ctx));
    for (int64_t d : tail)
      exprs.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(batch + 3, 0, exprs, ctx);
  };
  return {maps({m, k}), transposedRhs ? maps({n, k}) : maps({k, n}),
          maps({m, n})};
}

/// linalg.batch_matmul or a generic with the same math (optionally on
/// [B, H, ...] operands or with a transposed rhs), accumulating into zeros.
Step classifyMatmul(linalg::LinalgOp op) {
  Step step;
  step.op = op;
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return step;
  if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation())) {
    auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
    auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
    if (!add)
      return step;
    Value acc = generic.getBody()->getArgument(2);
    Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
    auto mul = product.getDefiningOp<arith::MulFOp>();
    if (!mul || (add.getLhs() != acc && add.getRhs() != acc) ||
        inputIndexOf(stripExt(mul.getLhs()), generic) != 0 ||
        inputIndexOf(stripExt(mul.getRhs()), generic) != 1)
      return step;
  } else if (!isa<linalg::BatchMatmulOp>(op.getOperation())) {
    return step;
  }
  int64_t batch = op.getNumLoops() - 3;
  if (batch < 1)
    return step;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (int64_t d = 0; d < batch + 3; ++d)
    if (iterators[d] != (d == batch + 2 ? utils::IteratorType::reduction
                                        : utils::IteratorType::parallel))
      return step;
  std::optional<double> init = fillValue(op.getDpsInitOperand(0)->get());
  if (!init || *init != 0.0)
    return step;
  for (bool transposed : {false, true}) {
    if (maps == matmulMaps(op.getContext(), batch, transposed)) {
      step.kind = StepKind::Matmul;
      step.input = op.getDpsInputOperand(0)->get();
      step.other = op.getDpsInputOperand(1)->get();
      step.transposedRhs = transposed;
    }
  }
  return step;
}

Step classifyGeneric(linalg::GenericOp generic, unsigned resultNumber) {
  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  if (llvm::count(iterators, utils::IteratorType::reduction) == 0) {
    Step step;
    step.op = generic;
    if (generic.getNumResults() != 1 ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return step;
    return classifyElementwise(generic);
  }
  if (generic.getNumDpsInputs() == 2)
    return classifyMatmul(generic);
  return classifyReduction(generic, resultNumber);
}

template <typename OpTy> struct RaiseLinalgAttention : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    MatchDecline decline;
    FailureOr<AttentionMatch> match =
        matchAttention(op, classifyLinalgStep, decline);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, decline.reason);
    replaceWithAttention(rewriter, *match);
    return success();
  }
};

} // namespace

Step mlir::magicpig::classifyLinalgStep(Value value) {
  Step step;
  Operation *op = value.getDefiningOp();
  if (!op)
    return step;
  step.op = op;
  unsigned resultNumber = cast<OpResult>(value).getResultNumber();
  return llvm::TypeSwitch<Operation *, Step>(op)
      .Case<tensor::CollapseShapeOp, tensor::ExpandShapeOp>([&](auto reshape) {
        step.kind = StepKind::Reshape;
        step.input = reshape.getSrc();
        step.reassociation = reshape.getReassociationIndices();
        return step;
      })
      .Case([&](linalg::TransposeOp transpose) {
        if (llvm::equal(transpose.getPermutation(),
                        ArrayRef<int64_t>{0, 1, 3, 2}) ||
            llvm::equal(transpose.getPermutation(),
                        ArrayRef<int64_t>{0, 2, 1})) {
          step.kind = StepKind::SwapLast;
          step.input = transpose.getInput();
        } else if (llvm::equal(transpose.getPermutation(),
                               ArrayRef<int64_t>{0, 2, 3, 1})) {
          step.kind = StepKind::TokensLast;
          step.input = transpose.getInput();
        }
        return step;
      })
      .Case([&](linalg::BroadcastOp broadcast) {
        auto out = cast<ShapedType>(broadcast.getInit().getType());
        if (out.getRank() == 5 &&
            llvm::equal(broadcast.getDimensions(), ArrayRef<int64_t>{2}) &&
            !out.isDynamicDim(2)) {
          step.kind = StepKind::RepeatGroups;
          step.input = broadcast.getInput();
          step.groups = out.getDimSize(2);
        }
        return step;
      })
      .Case([&](linalg::SoftmaxOp softmax) {
        step.kind = StepKind::Softmax;
        step.input = softmax.getInput();
        step.dim = softmax.getDimension();
        return step;
      })
      .Case([&](linalg::BatchMatmulOp matmul) {
        return classifyMatmul(cast<linalg::LinalgOp>(matmul.getOperation()));
      })
      .Case([&](linalg::GenericOp generic) {
        return classifyGeneric(generic, resultNumber);
      })
      .Default([&](Operation *) { return step; });
}

void mlir::magicpig::populateRaiseLinalgAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RaiseLinalgAttention<linalg::BatchMatmulOp>,
               RaiseLinalgAttention<linalg::GenericOp>>(patterns.getContext());
}
