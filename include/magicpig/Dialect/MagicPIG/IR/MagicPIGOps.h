//===- MagicPIGOps.h - MagicPIG operations ----------------------*- C++ -*-===//

#ifndef MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGOPS_H
#define MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGOPS_H

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h.inc"

#endif // MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGOPS_H
