//===- MagicPIGToSCF.h - Lowering of magicpig ops to loops ------*- C++ -*-===//
//
// The lowering of bufferized magicpig ops is split by op family; each
// family's patterns live in their own file and are added here.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_CONVERSION_MAGICPIGTOSCF_MAGICPIGTOSCF_H
#define MAGICPIG_CONVERSION_MAGICPIGTOSCF_MAGICPIGTOSCF_H

#include <cstdint>

namespace mlir {
class RewritePatternSet;
namespace magicpig {

/// Options shared by the lowering patterns.
struct LoweringOptions {
  /// Lanes of the f32 vectors used in dot products and updates.
  int64_t vectorWidth = 16;
  /// Keys of one parallel task of decode attention (per query position):
  /// a long context is split into tasks of this many keys whose partial
  /// results are merged by log-sum-exp, so that N, not only B * Hkv,
  /// supplies the parallelism.
  int64_t keysPerTask = 2048;
  /// Keys whose scores are computed, exponentiated and accumulated together
  /// inside a task (the online-softmax block); a block of K and V rows stays
  /// in L1 between the score and the value pass.
  int64_t keyBlock = 64;
};

/// attention, window_attention, merge, key_norms, center_keys.
void populateDenseAttentionLoweringPatterns(RewritePatternSet &patterns,
                                            const LoweringOptions &options);

/// attention over many query positions (a prefill), in blocks of query
/// positions; the shapes it declines fall to the dense attention patterns.
void populateQueryBlockAttentionLoweringPatterns(
    RewritePatternSet &patterns, const LoweringOptions &options);

/// simhash and build_tables.
void populateHashLoweringPatterns(RewritePatternSet &patterns,
                                  const LoweringOptions &options);

/// retrieve and estimate.
void populateSamplingLoweringPatterns(RewritePatternSet &patterns,
                                      const LoweringOptions &options);

} // namespace magicpig
} // namespace mlir

#endif // MAGICPIG_CONVERSION_MAGICPIGTOSCF_MAGICPIGTOSCF_H
