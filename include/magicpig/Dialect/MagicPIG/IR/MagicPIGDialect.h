//===- MagicPIGDialect.h - MagicPIG dialect ---------------------*- C++ -*-===//

#ifndef MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGDIALECT_H
#define MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGDIALECT_H

#include "mlir/IR/Dialect.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOpsDialect.h.inc"

#endif // MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGDIALECT_H
