//===- ComputedReshapes.cpp - tensor.reshape as a checked collapse --------===//
//
// torch-mlir lowers a view with two or more dynamic sizes (transformers'
// repeat_kv `reshape(batch, heads * groups, tokens, d)` once the batch is
// dynamic) to a tensor.reshape whose shape is computed at run time, which
// hides the head repetition from raising. When the static sizes of the
// source and the result leave one way to merge the dims (each dynamic
// result dim is one dynamic source dim, each static one a run of static
// source dims), the reshape becomes that collapse_shape, and each dynamic
// size of the computed shape is asserted to equal the source dim it keeps:
// a reshape that meant something else stops with a message rather than
// compute with the wrong layout.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;
using namespace mlir::magicpig;

/// The collapse grouping of `source` into `result`, if the static sizes
/// determine a unique one.
static std::optional<SmallVector<ReassociationIndices>>
uniqueCollapse(ArrayRef<int64_t> source, ArrayRef<int64_t> result) {
  SmallVector<ReassociationIndices> groups;
  size_t next = 0;
  for (int64_t size : result) {
    ReassociationIndices group;
    if (ShapedType::isDynamic(size)) {
      if (next >= source.size() || !ShapedType::isDynamic(source[next]))
        return std::nullopt;
      group.push_back(next++);
    } else {
      int64_t product = 1;
      while (next < source.size() && !ShapedType::isDynamic(source[next]) &&
             product < size) {
        product *= source[next];
        group.push_back(next++);
      }
      if (product != size || group.empty())
        return std::nullopt;
    }
    groups.push_back(group);
  }
  // Unit source dims make the grouping ambiguous; leftovers make it wrong.
  if (next != source.size() || llvm::is_contained(source, 1))
    return std::nullopt;
  return groups;
}

/// Dim `d` of `v`, from the sizes its op was built with where it can say
/// (a linalg op's init): a tensor.dim of `v` itself would keep a head
/// repetition that raising leaves dead alive, and with it a copy of the
/// cache.
static Value sizeOf(OpBuilder &b, Location loc, Value v, int64_t d) {
  auto result = dyn_cast<OpResult>(v);
  ReifiedRankedShapedTypeDims shapes;
  if (result && isa<ReifyRankedShapedTypeOpInterface>(result.getOwner()) &&
      succeeded(reifyResultShapes(b, result.getOwner(), shapes)))
    return getValueOrCreateConstantIndexOp(
        b, loc, shapes[result.getResultNumber()][d]);
  return tensor::DimOp::create(b, loc, v, d);
}

void mlir::magicpig::rewriteComputedReshapes(Operation *root) {
  SmallVector<tensor::ReshapeOp> reshapes;
  root->walk([&](tensor::ReshapeOp op) { reshapes.push_back(op); });
  for (tensor::ReshapeOp op : reshapes) {
    auto sourceType = dyn_cast<RankedTensorType>(op.getSource().getType());
    auto resultType = dyn_cast<RankedTensorType>(op.getResult().getType());
    auto shape = op.getShape().getDefiningOp<tensor::FromElementsOp>();
    if (!sourceType || !resultType || !shape ||
        resultType.getRank() >= sourceType.getRank())
      continue;
    std::optional<SmallVector<ReassociationIndices>> groups =
        uniqueCollapse(sourceType.getShape(), resultType.getShape());
    if (!groups)
      continue;
    OpBuilder b(op);
    Location loc = op.getLoc();
    for (auto [i, group] : llvm::enumerate(*groups)) {
      if (!resultType.isDynamicDim(i))
        continue;
      Value wanted = shape.getElements()[i];
      Value kept = sizeOf(b, loc, op.getSource(), group[0]);
      if (!wanted.getType().isIndex())
        kept = arith::IndexCastOp::create(b, loc, wanted.getType(), kept);
      Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         wanted, kept);
      cf::AssertOp::create(
          b, loc, same,
          "tensor.reshape read as a collapse: a computed size differs from "
          "the source dim it keeps");
    }
    Value collapsed = tensor::CollapseShapeOp::create(b, loc, resultType,
                                                      op.getSource(), *groups);
    op.getResult().replaceAllUsesWith(collapsed);
    op.erase();
  }
}
