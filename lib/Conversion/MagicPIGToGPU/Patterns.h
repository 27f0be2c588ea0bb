//===- Patterns.h - The per-op-family device lowerings ---------*- C++ -*-===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_PATTERNS_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_PATTERNS_H

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"

namespace mlir::magicpig {

/// attention and window_attention (AttentionKernel.cpp).
void populateAttentionToGPUPatterns(RewritePatternSet &patterns,
                                    const GPULoweringOptions &options);
/// merge (MergeKernel.cpp).
void populateMergeToGPUPatterns(RewritePatternSet &patterns,
                                const GPULoweringOptions &options);
/// True when a simhash runs on the device: a static projection width (a
/// dynamic one is checked at run time by the host lowering).
bool isDeviceSimHash(SimHashOp op);
/// simhash (SimHashKernel.cpp).
void populateSimHashToGPUPatterns(RewritePatternSet &patterns,
                                  const GPULoweringOptions &options);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_PATTERNS_H
