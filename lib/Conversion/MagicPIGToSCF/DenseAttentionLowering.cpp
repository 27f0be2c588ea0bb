//===- DenseAttentionLowering.cpp ------------------------------------------------===//
//
// Placeholder until the lowering of this op family lands.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "mlir/IR/PatternMatch.h"

void mlir::magicpig::populateDenseAttentionLoweringPatterns(RewritePatternSet &patterns,
                         const LoweringOptions &options) {}
