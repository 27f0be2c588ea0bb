//===- GaussianProjection.cpp - The SimHash projection from a seed --------===//

#include "magicpig/Transforms/GaussianProjection.h"

#include <cmath>

namespace {
/// splitmix64: a small, well-mixed 64-bit generator with a fixed definition.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1]: the top 53 bits, shifted away from 0 for the log.
  double uniform() { return (double(next() >> 11) + 1.0) * 0x1.0p-53; }
};
} // namespace

std::vector<float> mlir::magicpig::gaussianProjection(int64_t rows,
                                                      int64_t cols,
                                                      uint64_t seed) {
  SplitMix64 rng{seed};
  std::vector<float> out(rows * cols);
  const double twoPi = 6.283185307179586476925286766559;
  for (size_t i = 0; i < out.size(); i += 2) {
    // Box-Muller: two independent normals from two uniforms.
    double radius = std::sqrt(-2.0 * std::log(rng.uniform()));
    double angle = twoPi * rng.uniform();
    out[i] = float(radius * std::cos(angle));
    if (i + 1 < out.size())
      out[i + 1] = float(radius * std::sin(angle));
  }
  return out;
}
