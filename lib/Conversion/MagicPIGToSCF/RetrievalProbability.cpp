//===- RetrievalProbability.cpp - LSH collision probability ---------------===//

#include "RetrievalProbability.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::magicpig;

/// A constant splat of `value` with the (vector) type `type`.
static Value splat(ImplicitLocOpBuilder &b, Type type, double value) {
  auto vectorType = cast<VectorType>(type);
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(
             vectorType, b.getFloatAttr(vectorType.getElementType(), value)));
}

/// x^n for a compile-time n >= 0, by repeated squaring (about 2 log2(n)
/// multiplications).
static Value power(ImplicitLocOpBuilder &b, Value x, int64_t n) {
  Value result;
  Value square = x;
  for (; n > 0; n >>= 1) {
    if (n & 1)
      result = result ? arith::MulFOp::create(b, result, square) : square;
    if (n > 1)
      square = arith::MulFOp::create(b, square, square);
  }
  return result ? result : splat(b, x.getType(), 1.0);
}

/// Terms of the sum over t < T written out; a larger T (up to L < 2^31) is
/// summed by a loop, so that the code does not grow with T.
static constexpr int64_t kMaxUnrolledTerms = 16;

/// sum_{t < T} binom(L, t) x^t y^(T - 1 - t) by an scf.for over t: each
/// step multiplies the sum by y and adds binom(L, t) x^t (Horner in y),
/// carrying x^t and binom(L, t) (in f64, updated by (L - t) / (t + 1)).
static Value buildMissedTermsLoop(ImplicitLocOpBuilder &b, Value x, Value y,
                                  int64_t tables, int64_t minCollisions) {
  Type type = x.getType();
  auto f64 = b.getF64Type();
  Value start = arith::ConstantIndexOp::create(b, 0);
  Value end = arith::ConstantIndexOp::create(b, minCollisions);
  Value step = arith::ConstantIndexOp::create(b, 1);
  Value l = arith::ConstantOp::create(b, b.getF64FloatAttr(double(tables)));
  Value one = arith::ConstantOp::create(b, b.getF64FloatAttr(1.0));
  auto loop = scf::ForOp::create(
      b, start, end, step,
      ValueRange{splat(b, type, 0.0), splat(b, type, 1.0), one},
      [&](OpBuilder &nested, Location loc, Value t, ValueRange carried) {
        ImplicitLocOpBuilder ib(loc, nested);
        Value sum = carried[0], xPower = carried[1], coeff = carried[2];
        Value term = arith::MulFOp::create(
            ib, vector::BroadcastOp::create(ib, type, coeff), xPower);
        Value next = math::FmaOp::create(ib, sum, y, term);
        Value tf = arith::UIToFPOp::create(
            ib, f64, arith::IndexCastUIOp::create(ib, ib.getI64Type(), t));
        Value remaining = arith::SubFOp::create(ib, l, tf);
        Value ratio = arith::DivFOp::create(ib, remaining,
                                            arith::AddFOp::create(ib, tf, one));
        scf::YieldOp::create(
            ib, ValueRange{next, arith::MulFOp::create(ib, xPower, x),
                           arith::MulFOp::create(ib, coeff, ratio)});
      });
  return loop.getResult(0);
}

/// binom(n, k) in double (exact up to 2^53, then rounded).
static double binomial(int64_t n, int64_t k) {
  double result = 1.0;
  for (int64_t i = 1; i <= k; ++i)
    result = result * double(n - k + i) / double(i);
  return result;
}

Value mlir::magicpig::buildRetrievalProbability(ImplicitLocOpBuilder &b,
                                                Value cosines, int64_t bits,
                                                int64_t tables,
                                                int64_t minCollisions) {
  auto f32Type = cast<VectorType>(cosines.getType());
  auto f64Type = VectorType::get(f32Type.getShape(), b.getF64Type());

  // Probability that one sign bit agrees: 1 - angle / pi.
  Value angle = math::AcosOp::create(b, cosines);
  Value oneF = splat(b, f32Type, 1.0);
  Value turns = arith::MulFOp::create(b, angle, splat(b, f32Type, 1.0 / M_PI));
  Value p = arith::SubFOp::create(b, oneF, turns);
  Value p64 = arith::ExtFOp::create(b, f64Type, p);

  // A table collides when all K bits agree: x = p^K; y = 1 - x.
  Value x = power(b, p64, bits);
  Value y = arith::SubFOp::create(b, splat(b, f64Type, 1.0), x);

  // P(fewer than T collisions) = sum_{t < T} binom(L, t) x^t y^(L - t).
  if (minCollisions > kMaxUnrolledTerms) {
    Value terms = buildMissedTermsLoop(b, x, y, tables, minCollisions);
    Value missed = arith::MulFOp::create(
        b, terms, power(b, y, tables - minCollisions + 1));
    Value u = arith::SubFOp::create(b, splat(b, f64Type, 1.0), missed);
    return arith::TruncFOp::create(b, f32Type, u);
  }
  // y^(L - t) for t = T-1 .. 0 from one power and T - 1 multiplications.
  int64_t t = minCollisions - 1;
  Value yPower = power(b, y, tables - t);
  SmallVector<Value> xPowers{splat(b, f64Type, 1.0)};
  for (int64_t i = 1; i <= t; ++i)
    xPowers.push_back(arith::MulFOp::create(b, xPowers.back(), x));
  Value missed = splat(b, f64Type, 0.0);
  for (; t >= 0; --t) {
    Value coefficient = splat(b, f64Type, binomial(tables, t));
    Value term = arith::MulFOp::create(
        b, coefficient, arith::MulFOp::create(b, xPowers[t], yPower));
    missed = arith::AddFOp::create(b, missed, term);
    if (t > 0)
      yPower = arith::MulFOp::create(b, yPower, y);
  }
  Value u = arith::SubFOp::create(b, splat(b, f64Type, 1.0), missed);
  return arith::TruncFOp::create(b, f32Type, u);
}
