//===- Passes.h - MagicPIG conversion passes --------------------*- C++ -*-===//

#ifndef MAGICPIG_CONVERSION_PASSES_H
#define MAGICPIG_CONVERSION_PASSES_H

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"
#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::magicpig {

#define GEN_PASS_DECL
#include "magicpig/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "magicpig/Conversion/Passes.h.inc"

} // namespace mlir::magicpig

#endif // MAGICPIG_CONVERSION_PASSES_H
