//===- SamplingLowering.cpp ------------------------------------------------===//
//
// Placeholder until the lowering of this op family lands.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "mlir/IR/PatternMatch.h"

void mlir::magicpig::populateSamplingLoweringPatterns(RewritePatternSet &patterns,
                         const LoweringOptions &options) {}
