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
};

/// attention, window_attention, merge, key_norms, center_keys.
void populateDenseAttentionLoweringPatterns(RewritePatternSet &patterns,
                                            const LoweringOptions &options);

/// simhash and build_tables.
void populateHashLoweringPatterns(RewritePatternSet &patterns,
                                  const LoweringOptions &options);

/// retrieve and estimate.
void populateSamplingLoweringPatterns(RewritePatternSet &patterns,
                                      const LoweringOptions &options);

} // namespace magicpig
} // namespace mlir

#endif // MAGICPIG_CONVERSION_MAGICPIGTOSCF_MAGICPIGTOSCF_H
