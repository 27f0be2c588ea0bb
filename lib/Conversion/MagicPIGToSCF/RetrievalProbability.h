//===- RetrievalProbability.h - LSH collision probability -------*- C++ -*-===//
//
// The probability u that SimHash retrieval (L tables of K bits, at least T
// collisions) returns a key at a given cosine from the query. The estimate
// divides each retrieved key's weight by u (adds -log u to its score) to
// undo the sampling bias.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_RETRIEVALPROBABILITY_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_RETRIEVALPROBABILITY_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"

namespace mlir::magicpig {

/// Builds, for an f32 vector of cosines already clamped to [-1, 1],
///
///   p = 1 - acos(cos) / pi
///   u = 1 - sum_{t < T} binom(L, t) p^(K t) (1 - p^K)^(L - t)
///
/// and returns u as an f32 vector (not floored: u may be 0). K, L and T are
/// compile-time constants, so the powers are unrolled multiplications, with
/// no pow call; the terms of the sum are unrolled for T <= 16 and summed by
/// an scf.for beyond. The sum is evaluated in f64: for far keys it is within
/// 1e-6 of 1, and in f32 `1 - sum` would keep no correct digit.
Value buildRetrievalProbability(ImplicitLocOpBuilder &b, Value cosines,
                                int64_t bits, int64_t tables,
                                int64_t minCollisions);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_RETRIEVALPROBABILITY_H
