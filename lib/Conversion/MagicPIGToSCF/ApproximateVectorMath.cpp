//===- ApproximateVectorMath.cpp - Polynomial f32 vector math -------------===//
//
// Rewrites vector-typed math ops into the upstream polynomial
// approximations, so that exp/log/acos in the lowered kernels stay in
// vector registers instead of becoming one libm call per lane. Scalars keep
// their exact libm lowering.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGAPPROXIMATEVECTORMATH
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

/// The math ops with an upstream polynomial approximation that is accurate
/// to a few ulp over the whole f32 range (cbrt and rsqrt are left out:
/// theirs are coarse or need AVX2 intrinsics).
static bool isApproximated(StringRef name) {
  return llvm::is_contained(
      {math::AcosOp::getOperationName(), math::AsinOp::getOperationName(),
       math::AtanOp::getOperationName(), math::Atan2Op::getOperationName(),
       math::CosOp::getOperationName(), math::SinOp::getOperationName(),
       math::ErfOp::getOperationName(), math::ExpOp::getOperationName(),
       math::ExpM1Op::getOperationName(), math::LogOp::getOperationName(),
       math::Log1pOp::getOperationName(), math::Log2Op::getOperationName(),
       math::TanhOp::getOperationName()},
      name);
}

namespace {
struct ApproximateVectorMathPass
    : magicpig::impl::MagicPIGApproximateVectorMathBase<
          ApproximateVectorMathPass> {
  void runOnOperation() override {
    SmallVector<Operation *> vectorMath;
    getOperation()->walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()) &&
          isApproximated(op->getName().getStringRef()) &&
          op->getNumResults() == 1 &&
          isa<VectorType>(op->getResult(0).getType()))
        vectorMath.push_back(op);
    });
    if (vectorMath.empty())
      return;

    RewritePatternSet patterns(&getContext());
    // f16/bf16 vectors are computed in f32, then approximated.
    populateMathF32ExpansionPatterns(patterns, isApproximated);
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    // The approximations build further math ops (asin inside acos, ...);
    // those are vectors too and are rewritten in the same run.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(
            applyOpPatternsGreedily(vectorMath, std::move(patterns), config)))
      return signalPassFailure();
  }
};
} // namespace
