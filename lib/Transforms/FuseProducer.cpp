//===- FuseProducer.cpp - Fold an elementwise producer into its consumer --===//

#include "FuseProducer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

using namespace mlir;

FailureOr<linalg::GenericOp>
mlir::magicpig::fuseProducerIntoConsumer(RewriterBase &rewriter,
                                         OpOperand &operand) {
  auto consumer = dyn_cast<linalg::GenericOp>(operand.getOwner());
  if (!consumer || !linalg::areElementwiseOpsFusable(&operand))
    return failure();
  Operation *producer = operand.get().getDefiningOp();
  rewriter.setInsertionPoint(consumer);
  FailureOr<linalg::ElementwiseOpFusionResult> fused =
      linalg::fuseElementwiseOps(rewriter, &operand);
  if (failed(fused))
    return failure();
  for (auto [original, replacement] : fused->replacements)
    rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
      return use.getOwner() != producer;
    });
  rewriter.eraseOp(consumer);
  rewriter.eraseOp(producer);
  return cast<linalg::GenericOp>(fused->fusedOp);
}

/// True for an op that only moves elements of its single input: a
/// linalg.transpose, a linalg.broadcast, or an all-parallel linalg.generic
/// whose body yields its input, or its input widened by arith.extf (a
/// magicpig-narrow-weights weight), and whose output map is a permutation.
bool mlir::magicpig::isPureCopy(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureTensorSemantics() ||
      linalgOp.getNumDpsInputs() != 1 || linalgOp.getNumDpsInits() != 1)
    return false;
  if (isa<linalg::TransposeOp, linalg::BroadcastOp>(op))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumParallelLoops() != generic.getNumLoops() ||
      !generic.getIndexingMapsArray()[1].isPermutation() ||
      !generic.getIndexingMapsArray()[0].isProjectedPermutation())
    return false;
  Block &body = generic.getRegion().front();
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return false;
  Value yielded = yield.getOperand(0);
  if (auto widen = yielded.getDefiningOp<arith::ExtFOp>();
      widen && body.getOperations().size() == 2)
    return widen.getIn() == body.getArgument(0);
  return body.getOperations().size() == 1 && yielded == body.getArgument(0);
}
