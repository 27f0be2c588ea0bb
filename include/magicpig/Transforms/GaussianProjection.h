//===- GaussianProjection.h - The SimHash projection from a seed -*- C++ -*-===//
//
// SimHash needs a d x (K*L) matrix of independent standard normal entries.
// It is generated at compile time from the sparsify seed with a generator
// fixed by this project (splitmix64 + Box-Muller), not std::
// distributions, whose output differs between standard libraries: the same
// seed gives the same tables on every machine and in every tool.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_TRANSFORMS_GAUSSIANPROJECTION_H
#define MAGICPIG_TRANSFORMS_GAUSSIANPROJECTION_H

#include <cstdint>
#include <vector>

namespace mlir::magicpig {

/// Row-major `rows x cols` standard normal samples for `seed`.
std::vector<float> gaussianProjection(int64_t rows, int64_t cols,
                                      uint64_t seed);

} // namespace mlir::magicpig

#endif // MAGICPIG_TRANSFORMS_GAUSSIANPROJECTION_H
