//===- InitAllMagicPIG.h - Register the dialect and passes ----*- C++ -*-===//
//
// One place that every tool (magicpig-opt, magicpig-run, magicpig-compile)
// calls, so that a pass or interface added to the project is available in
// all of them.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_INITALLMAGICPIG_H
#define MAGICPIG_INITALLMAGICPIG_H

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "magicpig/Dialect/MagicPIG/Transforms/BufferizableOpInterfaceImpl.h"
#include "magicpig/Pipelines/CPUPipeline.h"
#include "magicpig/Pipelines/CUDAPipeline.h"
#include "magicpig/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"

namespace mlir::magicpig {

/// The MagicPIG dialect and its external interface models.
inline void registerAllMagicPIGDialects(DialectRegistry &registry) {
  registry.insert<MagicPIGDialect>();
  registerBufferizableOpInterfaceExternalModels(registry);
}

/// The MagicPIG passes and pipelines.
inline void registerAllMagicPIGPasses() {
  registerMagicPIGConversionPasses();
  registerMagicPIGTransformsPasses();
  registerCPUPipeline();
  registerCUDAPipeline();
}

} // namespace mlir::magicpig

#endif // MAGICPIG_INITALLMAGICPIG_H
