//===- HashSamplingUtils.h - Helpers of hash/sampling lowering -*- C++ -*-===//
//
// Pieces shared by HashLowering.cpp and SamplingLowering.cpp (the generic
// loop and vector builders are in LoweringUtils.h). build_tables writes the
// CSR bucket tables that retrieve reads; both turn stored integers (codes,
// offsets, token indices) into loop indices. These helpers do it one way,
// so that a corrupt or out-of-range stored value is masked or rejected
// identically on both sides instead of being used as an address.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_HASHSAMPLINGUTILS_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_HASHSAMPLINGUTILS_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::magicpig {

/// The bucket of a stored code: its low `bits` bits, as an index in
/// [0, 2^bits). Bits above K are dropped, so any stored integer, even a
/// corrupt one, names an existing bucket.
Value bucketOfCode(ImplicitLocOpBuilder &b, Value code, int64_t bits);

/// A stored signed integer (i32 or i64 offset or token index) as an index.
/// Negative values stay negative, so an unsigned `< N` test rejects them.
Value indexOfStored(ImplicitLocOpBuilder &b, Value stored);

/// `index` converted to the integer type `type` for storing.
Value storedOfIndex(ImplicitLocOpBuilder &b, Value index, Type type);

/// Integer lanes that fill the same register as `f32Lanes` f32 lanes, at
/// most 64 (so that one lane mask fits an i64).
int64_t integerLanes(Type integerType, int64_t f32Lanes);

/// Stores the constant `value` into row[begin, end) of the integer memref
/// `memref` (`row` indexes every dimension but the innermost), with vector
/// stores and one masked tail.
void fillIntegerRange(ImplicitLocOpBuilder &b, Value memref, ValueRange row,
                      Value begin, Value end, int64_t value, int64_t f32Lanes);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_HASHSAMPLINGUTILS_H
