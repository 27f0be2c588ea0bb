//===- RaiseMaskEvaluation.cpp - Values of constant masks -----------------===//
//
// An additive mask is raised to `causal` only when its values are exactly
// the causal mask. Exporters rarely write the mask as one dense constant:
// torch-mlir builds it from index generics (arange, subtract, compare,
// select), so this file interprets such constant-only computations on small
// static shapes. Anything that reads a function argument or memory fails.
//
// A mask of dynamic shape is evaluated at a chosen size: every dynamic
// dimension must be the same size value (the prompt length of a prefill
// export, `tensor.dim %tokens, 1`; sizes computed twice the same way, as
// torch-mlir writes decode's `M + 1`, count as one), bound to that size for
// the evaluation. One rank-0 argument may be bound to a value too (decode's
// position, which a sliding-window decode mask is computed from).
//
//===----------------------------------------------------------------------===//

#include "AttentionMatchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <memory>
#include <optional>

using namespace mlir;
using namespace mlir::magicpig;

namespace {

double valueOf(Attribute element) {
  if (auto f = dyn_cast<FloatAttr>(element))
    return f.getValueAsDouble();
  auto i = dyn_cast<IntegerAttr>(element);
  if (!i)
    return NAN;
  if (i.getType().isInteger(1))
    return static_cast<double>(i.getValue().getZExtValue());
  return static_cast<double>(i.getValue().getSExtValue());
}

/// Scalar arithmetic of a generic body; integers and booleans as doubles
/// (exact for the index ranges a mask uses).
std::optional<double> evaluateScalar(Operation *op, ArrayRef<double> in) {
  auto b = [](double x) { return x != 0.0; };
  auto i = [](double x) { return static_cast<int64_t>(x); };
  return llvm::TypeSwitch<Operation *, std::optional<double>>(op)
      .Case<arith::IndexCastOp, arith::IndexCastUIOp, arith::SIToFPOp,
            arith::UIToFPOp, arith::ExtSIOp, arith::ExtUIOp, arith::ExtFOp,
            arith::TruncFOp>([&](auto) { return in[0]; })
      .Case([&](arith::AddIOp) { return in[0] + in[1]; })
      .Case([&](arith::SubIOp) { return in[0] - in[1]; })
      .Case([&](arith::MulIOp) { return in[0] * in[1]; })
      .Case([&](arith::AddFOp) { return in[0] + in[1]; })
      .Case([&](arith::SubFOp) { return in[0] - in[1]; })
      .Case([&](arith::MulFOp) { return in[0] * in[1]; })
      .Case([&](arith::NegFOp) { return -in[0]; })
      .Case<math::AbsIOp, math::AbsFOp>([&](auto) { return std::fabs(in[0]); })
      .Case([&](arith::AndIOp) {
        return static_cast<double>(i(in[0]) & i(in[1]));
      })
      .Case([&](arith::OrIOp) {
        return static_cast<double>(i(in[0]) | i(in[1]));
      })
      .Case([&](arith::XOrIOp) {
        return static_cast<double>(i(in[0]) ^ i(in[1]));
      })
      .Case([&](arith::SelectOp) { return b(in[0]) ? in[1] : in[2]; })
      .Case([&](arith::CmpIOp cmp) -> std::optional<double> {
        using P = arith::CmpIPredicate;
        double x = in[0], y = in[1];
        switch (cmp.getPredicate()) {
        case P::eq:
          return x == y;
        case P::ne:
          return x != y;
        case P::slt:
          return x < y;
        case P::sle:
          return x <= y;
        case P::sgt:
          return x > y;
        case P::sge:
          return x >= y;
        default:
          return std::nullopt; // unsigned compares: not in masks
        }
      })
      .Case([&](arith::CmpFOp cmp) -> std::optional<double> {
        using P = arith::CmpFPredicate;
        double x = in[0], y = in[1];
        switch (cmp.getPredicate()) {
        case P::OEQ:
          return x == y;
        case P::ONE:
          return x != y && !std::isnan(x) && !std::isnan(y);
        case P::OLT:
          return x < y;
        case P::OLE:
          return x <= y;
        case P::OGT:
          return x > y;
        case P::OGE:
          return x >= y;
        default:
          return std::nullopt;
        }
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// Whether two index values are the same computation: the same value, or
/// ops of one kind and attributes (no regions) on equal operands.
bool sameComputation(Value a, Value b, int depth = 0) {
  if (a == b)
    return true;
  Operation *x = a.getDefiningOp(), *y = b.getDefiningOp();
  if (!x || !y || depth > 8 || x->getName() != y->getName() ||
      x->getNumRegions() || y->getNumRegions() ||
      x->getNumResults() != 1 || y->getNumResults() != 1 ||
      x->getAttrDictionary() != y->getAttrDictionary() ||
      x->getNumOperands() != y->getNumOperands())
    return false;
  for (auto [p, q] : llvm::zip(x->getOperands(), y->getOperands()))
    if (!sameComputation(p, q, depth + 1))
      return false;
  return true;
}

class Evaluator {
public:
  explicit Evaluator(int64_t maxElements, MaskBindings bindings = {})
      : maxElements(maxElements), bindings(std::move(bindings)) {}

  /// An index or integer scalar computed from constants, bound sizes and
  /// bound argument dims (`tensor.dim`), through casts and + - *.
  std::optional<int64_t> evaluateIndex(Value v, int depth = 0) {
    if (depth > 16)
      return std::nullopt;
    for (auto [value, size] : bindings.sizes)
      if (sameComputation(v, value))
        return size;
    IntegerAttr constant;
    if (matchPattern(v, m_Constant(&constant)))
      return constant.getValue().getSExtValue();
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt;
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      std::optional<int64_t> index = dim.getConstantIndex();
      if (!index)
        return std::nullopt;
      auto type = cast<ShapedType>(dim.getSource().getType());
      if (*index < 0 || *index >= type.getRank())
        return std::nullopt;
      if (!type.isDynamicDim(*index))
        return type.getDimSize(*index);
      for (auto [argument, d, size] : bindings.argumentDims)
        if (argument == dim.getSource() && d == *index)
          return size;
      return std::nullopt;
    }
    if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
            arith::ExtUIOp>(op))
      return evaluateIndex(op->getOperand(0), depth + 1);
    if (!isa<arith::AddIOp, arith::SubIOp, arith::MulIOp>(op))
      return std::nullopt;
    std::optional<int64_t> x = evaluateIndex(op->getOperand(0), depth + 1);
    std::optional<int64_t> y = evaluateIndex(op->getOperand(1), depth + 1);
    if (!x || !y)
      return std::nullopt;
    int64_t r;
    bool overflow = isa<arith::AddIOp>(op)   ? llvm::AddOverflow(*x, *y, r)
                    : isa<arith::SubIOp>(op) ? llvm::SubOverflow(*x, *y, r)
                                             : llvm::MulOverflow(*x, *y, r);
    if (overflow)
      return std::nullopt;
    return r;
  }

  /// The shape of `v` with its dynamic sizes resolved through the ops that
  /// create it; a dynamic size that is not `sizeValue` fails.
  std::optional<SmallVector<int64_t>> shapeOf(Value v, int depth = 0) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || depth > 64)
      return std::nullopt;
    if (type.hasStaticShape())
      return SmallVector<int64_t>(type.getShape());
    auto bound = [&](ArrayRef<OpFoldResult> mixed)
        -> std::optional<SmallVector<int64_t>> {
      SmallVector<int64_t> shape;
      for (OpFoldResult ofr : mixed) {
        if (auto attr = dyn_cast<Attribute>(ofr)) {
          shape.push_back(cast<IntegerAttr>(attr).getInt());
          continue;
        }
        std::optional<int64_t> size = evaluateIndex(cast<Value>(ofr));
        if (!size || *size < 0)
          return std::nullopt;
        shape.push_back(*size);
      }
      return shape;
    };
    if (v == bindings.argument && type.getRank() == 1)
      return SmallVector<int64_t>{
          static_cast<int64_t>(bindings.argumentValues.size())};
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt;
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return bound(empty.getMixedSizes());
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      return bound(expand.getMixedOutputShape());
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      std::optional<SmallVector<int64_t>> src =
          shapeOf(collapse.getSrc(), depth + 1);
      if (!src)
        return std::nullopt;
      SmallVector<int64_t> shape;
      for (const ReassociationIndices &group :
           collapse.getReassociationIndices()) {
        int64_t n = 1;
        for (int64_t i : group)
          n *= (*src)[i];
        shape.push_back(n);
      }
      return shape;
    }
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
      auto result = cast<OpResult>(v);
      return shapeOf(dps.getDpsInits()[result.getResultNumber()], depth + 1);
    }
    return std::nullopt;
  }

  /// Row-major values of `v`, or null on failure.
  const SmallVector<double> *evaluate(Value v, int depth = 0) {
    auto it = cache.find(v);
    if (it != cache.end())
      return it->second.get();
    if (depth > 32)
      return nullptr;
    std::optional<SmallVector<int64_t>> shape = shapeOf(v);
    if (!shape)
      return nullptr;
    int64_t count = 1;
    for (int64_t n : *shape)
      if (llvm::MulOverflow(count, n, count))
        return nullptr;
    if (count > maxElements)
      return nullptr;
    std::optional<SmallVector<double>> values = compute(v, *shape, depth);
    if (!values)
      return nullptr;
    // Boxed so that pointers stay valid while the cache grows.
    auto &slot = cache[v];
    slot = std::make_unique<SmallVector<double>>(std::move(*values));
    return slot.get();
  }

private:
  std::optional<SmallVector<double>> compute(Value v, ArrayRef<int64_t> shape,
                                             int depth) {
    int64_t count = 1;
    for (int64_t n : shape)
      count *= n;
    if (bindings.argument && v == bindings.argument &&
        count == int64_t(bindings.argumentValues.size()))
      return bindings.argumentValues;
    DenseElementsAttr dense;
    if (matchPattern(v, m_Constant(&dense))) {
      SmallVector<double> values;
      for (Attribute e : dense.getValues<Attribute>())
        values.push_back(valueOf(e));
      return values;
    }
    Operation *op = v.getDefiningOp();
    if (!op)
      return std::nullopt;
    // Reshapes keep the row-major order.
    if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tosa::ReshapeOp>(
            op)) {
      if (const SmallVector<double> *src =
              evaluate(op->getOperand(0), depth + 1))
        return *src;
      return std::nullopt;
    }
    if (auto fill = dyn_cast<linalg::FillOp>(op)) {
      Attribute attr;
      if (!matchPattern(fill.getInputs()[0], m_Constant(&attr)))
        return std::nullopt;
      return SmallVector<double>(count, valueOf(attr));
    }
    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      return evaluateGeneric(generic, shape, depth);
    return std::nullopt;
  }

  /// All-parallel generics with an identity output map, one output.
  std::optional<SmallVector<double>>
  evaluateGeneric(linalg::GenericOp generic, ArrayRef<int64_t> shape,
                  int depth) {
    if (generic.getNumResults() != 1 ||
        llvm::any_of(generic.getIteratorTypesArray(),
                     [](utils::IteratorType t) {
                       return t != utils::IteratorType::parallel;
                     }) ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return std::nullopt;
    Block *body = generic.getBody();
    // Operand values (scalars stay scalars), read lazily: an unused init
    // (tensor.empty) has no values.
    SmallVector<const SmallVector<double> *> tensors;
    SmallVector<SmallVector<int64_t>> shapes;
    SmallVector<std::optional<double>> scalars;
    for (OpOperand &operand : generic->getOpOperands()) {
      Value x = operand.get();
      tensors.push_back(nullptr);
      shapes.emplace_back();
      scalars.push_back(std::nullopt);
      bool used = !body->getArgument(operand.getOperandNumber()).use_empty();
      if (!used)
        continue;
      if (isa<ShapedType>(x.getType())) {
        tensors.back() = evaluate(x, depth + 1);
        std::optional<SmallVector<int64_t>> xShape = shapeOf(x);
        if (!tensors.back() || !xShape)
          return std::nullopt;
        // A reshape whose output_shape disagrees with its source (the
        // verifier lets static sizes differ from the result type) would
        // index past the values.
        int64_t elements = 1;
        for (int64_t n : *xShape)
          if (llvm::MulOverflow(elements, n, elements))
            return std::nullopt;
        if (elements != int64_t(tensors.back()->size()))
          return std::nullopt;
        shapes.back() = *xShape;
      } else if (bindings.argument && x == bindings.argument &&
                 bindings.argumentValues.size() == 1) {
        scalars.back() = bindings.argumentValues[0];
      } else {
        Attribute attr;
        if (matchPattern(x, m_Constant(&attr))) {
          scalars.back() = valueOf(attr);
        } else if (std::optional<int64_t> i = evaluateIndex(x)) {
          scalars.back() = static_cast<double>(*i);
        } else {
          return std::nullopt;
        }
      }
    }
    int64_t count = 1;
    for (int64_t n : shape)
      count *= n;
    SmallVector<double> result;
    result.reserve(count);
    SmallVector<int64_t> index(shape.size(), 0);
    for (int64_t linear = 0; linear < count; ++linear) {
      for (int64_t d = shape.size() - 1, rest = linear; d >= 0; --d) {
        index[d] = rest % shape[d];
        rest /= shape[d];
      }
      llvm::DenseMap<Value, double> env;
      for (OpOperand &operand : generic->getOpOperands()) {
        unsigned n = operand.getOperandNumber();
        if (scalars[n]) {
          env[body->getArgument(n)] = *scalars[n];
        } else if (tensors[n]) {
          SmallVector<int64_t> at =
              generic.getMatchingIndexingMap(&operand).compose(index);
          int64_t offset = 0;
          for (auto [i, size] : llvm::enumerate(shapes[n])) {
            if (at[i] < 0 || at[i] >= size)
              return std::nullopt; // reads outside the operand
            offset = offset * size + at[i];
          }
          env[body->getArgument(n)] = (*tensors[n])[offset];
        }
      }
      std::optional<double> y = evaluateBody(body, index, env);
      if (!y)
        return std::nullopt;
      result.push_back(*y);
    }
    return result;
  }

  std::optional<double> evaluateBody(Block *body, ArrayRef<int64_t> index,
                                     llvm::DenseMap<Value, double> &env) {
    auto lookup = [&](Value x) -> std::optional<double> {
      auto it = env.find(x);
      if (it != env.end())
        return it->second;
      Attribute attr; // constants captured from outside the body
      if (matchPattern(x, m_Constant(&attr)) && !isa<ElementsAttr>(attr))
        return valueOf(attr);
      // ... and sizes (decode's cache length, compared with positions).
      if (x.getParentRegion() != body->getParent())
        if (std::optional<int64_t> i = evaluateIndex(x))
          return static_cast<double>(*i);
      return std::nullopt;
    };
    for (Operation &op : body->without_terminator()) {
      if (auto idx = dyn_cast<linalg::IndexOp>(op)) {
        env[idx.getResult()] = static_cast<double>(index[idx.getDim()]);
        continue;
      }
      Attribute attr;
      if (op.getNumResults() == 1 &&
          matchPattern(op.getResult(0), m_Constant(&attr))) {
        env[op.getResult(0)] = valueOf(attr);
        continue;
      }
      SmallVector<double> in;
      for (Value operand : op.getOperands()) {
        std::optional<double> x = lookup(operand);
        if (!x)
          return std::nullopt;
        in.push_back(*x);
      }
      std::optional<double> y = evaluateScalar(&op, in);
      if (!y || op.getNumResults() != 1)
        return std::nullopt;
      env[op.getResult(0)] = *y;
    }
    return lookup(body->getTerminator()->getOperand(0));
  }

  int64_t maxElements;
  MaskBindings bindings;
  llvm::DenseMap<Value, std::unique_ptr<SmallVector<double>>> cache;
};

} // namespace

FailureOr<SmallVector<double>>
mlir::magicpig::evaluateConstantTensor(Value tensor, int64_t maxElements) {
  Evaluator evaluator(maxElements);
  const SmallVector<double> *values = evaluator.evaluate(tensor);
  if (!values)
    return failure();
  return *values;
}

FailureOr<EvaluatedTensor> mlir::magicpig::evaluateTensorAtSize(
    Value tensor, Value sizeValue, int64_t size, int64_t maxElements,
    Value boundArgument, double boundValue) {
  MaskBindings bindings;
  bindings.sizes.push_back({sizeValue, size});
  if (boundArgument) {
    bindings.argument = boundArgument;
    bindings.argumentValues.push_back(boundValue);
  }
  return evaluateTensorWith(tensor, std::move(bindings), maxElements);
}

FailureOr<EvaluatedTensor>
mlir::magicpig::evaluateTensorWith(Value tensor, MaskBindings bindings,
                                   int64_t maxElements) {
  Evaluator evaluator(maxElements, std::move(bindings));
  const SmallVector<double> *values = evaluator.evaluate(tensor);
  std::optional<SmallVector<int64_t>> shape = evaluator.shapeOf(tensor);
  if (!values || !shape)
    return failure();
  return EvaluatedTensor{*shape, *values};
}

Value mlir::magicpig::dynamicSizeOf(Value tensor) {
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || type.hasStaticShape())
    return {};
  Operation *op = tensor.getDefiningOp();
  for (int depth = 0; op && depth < 64; ++depth) {
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return empty.getDynamicSizes().empty() ? Value()
                                             : empty.getDynamicSizes()[0];
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      return expand.getOutputShape().empty() ? Value()
                                             : expand.getOutputShape()[0];
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      op = collapse.getSrc().getDefiningOp();
      continue;
    }
    auto dps = dyn_cast<DestinationStyleOpInterface>(op);
    if (!dps || dps.getNumDpsInits() != 1)
      return {};
    op = dps.getDpsInits()[0].getDefiningOp();
  }
  return {};
}

bool mlir::magicpig::collectMaskInputs(Value tensor, MaskInputs &inputs) {
  llvm::SmallPtrSet<Operation *, 32> visited;
  SmallVector<std::pair<Value, int>> work = {{tensor, 0}};
  auto addArgument = [&](Value v) {
    if (!llvm::is_contained(inputs.arguments, v))
      inputs.arguments.push_back(v);
  };
  while (!work.empty()) {
    auto [v, d] = work.pop_back_val();
    int depth = d;
    if (depth > 256)
      return false;
    if (isa<BlockArgument>(v)) {
      // Arguments of a generic's body are its operands' elements.
      if (!isa<linalg::LinalgOp>(v.getParentBlock()->getParentOp()))
        addArgument(v);
      continue;
    }
    Operation *op = v.getDefiningOp();
    if (!visited.insert(op).second)
      continue;
    // A size read from an argument's shape is not a read of its values.
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      std::optional<int64_t> index = dim.getConstantIndex();
      std::pair<Value, int64_t> read = {dim.getSource(), index.value_or(-1)};
      if (isa<BlockArgument>(dim.getSource()) && index &&
          !llvm::is_contained(inputs.argumentDims, read))
        inputs.argumentDims.push_back(read);
      continue;
    }
    IntegerAttr integer;
    if (matchPattern(v, m_Constant(&integer)) && integer.getType().isIntOrIndex() &&
        !integer.getType().isInteger(1))
      inputs.integers.push_back(integer.getValue().getSExtValue());
    for (Value operand : op->getOperands())
      work.push_back({operand, depth + 1});
    // Values a body uses from above (constants, mostly).
    op->walk([&](Operation *inner) {
      if (inner == op)
        return;
      for (Value operand : inner->getOperands()) {
        IntegerAttr c;
        if (!op->isAncestor(operand.getParentBlock()->getParentOp()))
          work.push_back({operand, depth + 1});
        else if (matchPattern(operand, m_Constant(&c)) &&
                 c.getType().isIntOrIndex() && !c.getType().isInteger(1))
          inputs.integers.push_back(c.getValue().getSExtValue());
      }
    });
  }
  return true;
}
