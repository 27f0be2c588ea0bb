//===- NarrowWeights.cpp - The magicpig-narrow-weights pass ---------------===//
//
// Turns the read-only f32 weight matrix arguments of public functions into
// bf16 arguments, widened to f32 where each use reads them (Passes.td).
//
//===----------------------------------------------------------------------===//

#include "FuseProducer.h"

#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGNARROWWEIGHTS
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

/// A weight matrix: static rank-2 f32 of at least `minElements`, read only
/// by linalg ops' inputs and tensor.extract.
static bool isNarrowableWeight(BlockArgument arg, int64_t minElements) {
  auto type = dyn_cast<RankedTensorType>(arg.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      type.getNumElements() < minElements ||
      !type.getElementType().isF32() || arg.use_empty())
    return false;
  for (OpOperand &use : arg.getUses()) {
    Operation *user = use.getOwner();
    if (isa<tensor::ExtractOp>(user))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    if (!linalgOp || !linalgOp.isDpsInput(&use))
      return false;
  }
  return true;
}

/// `narrow` (bf16) widened to `wideType` by an all-parallel generic.
static Value widen(OpBuilder &b, Location loc, Value narrow,
                   RankedTensorType wideType) {
  Value empty = tensor::EmptyOp::create(b, loc, wideType.getShape(),
                                        wideType.getElementType());
  AffineMap identity = b.getMultiDimIdentityMap(wideType.getRank());
  SmallVector<utils::IteratorType> parallel(wideType.getRank(),
                                            utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, wideType, narrow, empty, ArrayRef<AffineMap>{identity, identity},
      parallel, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value wide = arith::ExtFOp::create(nb, nloc,
                                           wideType.getElementType(), args[0]);
        linalg::YieldOp::create(nb, nloc, wide);
      });
  return generic.getResult(0);
}

static void narrowArgument(BlockArgument arg) {
  auto wideType = cast<RankedTensorType>(arg.getType());
  OpBuilder b(arg.getContext());
  arg.setType(wideType.clone(b.getBF16Type()));
  // The widenings add uses of `arg`; only the original ones are visited.
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : arg.getUses())
    uses.push_back(&use);
  SmallVector<Operation *> widenings;
  for (OpOperand *operand : uses) {
    OpOperand &use = *operand;
    Operation *user = use.getOwner();
    b.setInsertionPoint(user);
    if (auto extract = dyn_cast<tensor::ExtractOp>(user)) {
      extract.getResult().setType(b.getBF16Type());
      b.setInsertionPointAfter(extract);
      auto wide = arith::ExtFOp::create(b, extract.getLoc(), b.getF32Type(),
                                        extract.getResult());
      extract.getResult().replaceAllUsesExcept(wide, wide);
      continue;
    }
    // One widening per use: each folds into its own consumer.
    Value wide = widen(b, user->getLoc(), arg, wideType);
    use.set(wide);
    widenings.push_back(wide.getDefiningOp());
  }
  // Folding replaces the consumer, which may read other widenings too;
  // each widening still has exactly one use, in the current consumer.
  // Named ops (a transpose) keep their widening: magicpig-contraction-loop-order
  // folds those chains.
  IRRewriter rewriter(arg.getContext());
  for (Operation *widening : widenings)
    (void)magicpig::fuseProducerIntoConsumer(
        rewriter, *widening->getResult(0).getUses().begin());
}

namespace {
struct MagicPIGNarrowWeightsPass
    : magicpig::impl::MagicPIGNarrowWeightsBase<MagicPIGNarrowWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      bool changed = false;
      for (BlockArgument arg : func.getArguments())
        if (isNarrowableWeight(arg, minWeightElements)) {
          narrowArgument(arg);
          changed = true;
        }
      if (changed)
        func.setType(FunctionType::get(
            func.getContext(), func.front().getArgumentTypes(),
            func.getResultTypes()));
    }
  }
};
} // namespace
