//===- MagicPIGDialect.cpp - MagicPIG dialect -----------------------------===//

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"

using namespace mlir;
using namespace mlir::magicpig;

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOpsDialect.cpp.inc"

void MagicPIGDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.cpp.inc"
      >();
}
