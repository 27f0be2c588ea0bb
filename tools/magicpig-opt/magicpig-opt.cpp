//===- magicpig-opt.cpp - MagicPIG optimizer driver -----------------------===//
//
// mlir-opt with every upstream dialect, pass and extension plus the MagicPIG
// dialect and passes.
//
//===----------------------------------------------------------------------===//

#include "magicpig/InitAllMagicPIG.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::magicpig::registerAllMagicPIGPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::magicpig::registerAllMagicPIGDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "MagicPIG optimizer driver\n", registry));
}
