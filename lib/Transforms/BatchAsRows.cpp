//===- BatchAsRows.cpp - A decode batch's projections as rows of one ------===//
//
// With a dynamic batch, torch-mlir exports nn.Linear on one token per
// sequence ([B, 1, K]) as a batch_matmul against the weight broadcast to
// [B, K, N]: lowered as it is, every sequence of the batch reads the whole
// weight. Read as the B rows of one batch ([1, B, K] times the weight
// broadcast to [1, K, N], the form of a prefill's projections), the row
// loops read each block of the weight once for many sequences. Only
// reshapes are added; the products and their summation order are the same.
//
//===----------------------------------------------------------------------===//

#include "FuseProducer.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

/// [B, 1, X] <-> [1, B, X] (both a collapse to [B, X] and an expand).
static Value swapUnitRows(OpBuilder &b, Location loc, Value v, Value batch,
                          bool toRows) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<ReassociationIndices> groups = {{0, 1}, {2}};
  Value flat = tensor::CollapseShapeOp::create(b, loc, v, groups);
  SmallVector<int64_t> shape = {ShapedType::kDynamic, 1, type.getDimSize(2)};
  SmallVector<OpFoldResult> sizes = {batch, b.getIndexAttr(1),
                                     b.getIndexAttr(type.getDimSize(2))};
  if (toRows) {
    std::swap(shape[0], shape[1]);
    std::swap(sizes[0], sizes[1]);
  }
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), flat,
      groups, sizes);
}

static void rowsFromBatch(linalg::BatchMatmulOp op) {
  auto a = cast<RankedTensorType>(op.getInputs()[0].getType());
  auto c = cast<RankedTensorType>(op.getOutputs()[0].getType());
  Operation *broadcast = op.getInputs()[1].getDefiningOp();
  if (!a.isDynamicDim(0) || a.getDimSize(1) != 1 || a.isDynamicDim(2) ||
      c.isDynamicDim(2) || !broadcast || !broadcast->hasOneUse() ||
      !magicpig::isPureCopy(broadcast) ||
      cast<linalg::LinalgOp>(broadcast).getNumLoops() != 3)
    return;
  auto weightType = cast<RankedTensorType>(broadcast->getResult(0).getType());
  auto weight = cast<linalg::LinalgOp>(broadcast).getDpsInputOperand(0);
  // The broadcast must not read along the batch: (b, k, n) -> (k, n).
  AffineMap map = cast<linalg::LinalgOp>(broadcast).getMatchingIndexingMap(weight);
  if (map.getNumResults() != 2 || map.isFunctionOfDim(0) ||
      weightType.isDynamicDim(1) || weightType.isDynamicDim(2))
    return;

  OpBuilder b(op);
  Location loc = op.getLoc();
  Value batch = tensor::DimOp::create(b, loc, op.getInputs()[0], 0);
  Value rows = swapUnitRows(b, loc, op.getInputs()[0], batch, true);
  auto oneWeightType = RankedTensorType::get(
      {1, weightType.getDimSize(1), weightType.getDimSize(2)},
      weightType.getElementType());
  Operation *oneWeight = b.clone(*broadcast);
  oneWeight->setOperand(
      cast<linalg::LinalgOp>(oneWeight).getDpsInitOperand(0)->getOperandNumber(),
      tensor::EmptyOp::create(b, loc, oneWeightType.getShape(),
                              oneWeightType.getElementType()));
  oneWeight->getResult(0).setType(oneWeightType);
  Value init = swapUnitRows(b, loc, op.getOutputs()[0], batch, true);
  auto product = linalg::BatchMatmulOp::create(
      b, loc, TypeRange{init.getType()},
      ValueRange{rows, oneWeight->getResult(0)}, ValueRange{init});
  Value result = swapUnitRows(b, loc, product.getResult(0), batch, false);
  if (result.getType() != op.getResult(0).getType())
    result = tensor::CastOp::create(b, loc, op.getResult(0).getType(), result);
  op.getResult(0).replaceAllUsesWith(result);
  op.erase();
  broadcast->erase();
}

void mlir::magicpig::readBatchAsRows(Operation *root) {
  SmallVector<linalg::BatchMatmulOp> ops;
  root->walk([&](linalg::BatchMatmulOp op) {
    if (op.hasPureTensorSemantics())
      ops.push_back(op);
  });
  for (linalg::BatchMatmulOp op : ops)
    rowsFromBatch(op);
}
