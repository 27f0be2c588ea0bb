//===- RuntimeSizeChecks.h - Run-time checks of dynamic sizes --*- C++ -*-===//
//
// The verifiers check that the sizes of an op's operands agree where they
// are static. The lowerings index every operand with the loop bounds of a
// few of them and read and write whole rows with in_bounds vector
// transfers, which the upstream runtime verification does not check; sizes
// that disagree at run time would be read or written out of bounds. So the
// loop and device lowerings start with these checks: a cf.assert per rule
// with a dynamic size, whose message names the op, the rule and the
// operands. Static sizes get no check (the verifier already did it), so the
// code for static shapes is unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_RUNTIMESIZECHECKS_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_RUNTIMESIZECHECKS_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::magicpig {

/// Emits, at the builder's position, a cf.assert for every size rule of
/// the memref form of `op` that involves a dynamic size: the verifier's
/// rules of attention, window_attention, merge, key_norms, center_keys,
/// simhash and build_tables. retrieve and estimate need none: their
/// lowerings take the minimum of the sizes (SamplingLowering.cpp).
void buildRuntimeSizeChecks(ImplicitLocOpBuilder &b, Operation *op);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_RUNTIMESIZECHECKS_H
