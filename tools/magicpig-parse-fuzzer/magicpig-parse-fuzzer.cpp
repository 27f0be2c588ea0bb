//===- magicpig-parse-fuzzer.cpp - libFuzzer target of the dialect parser -===//
//
// Parses each input as MLIR with the magicpig dialect (plus func and arith,
// which its tests use around it), verifies it and prints it back, custom and
// generic form. Diagnostics are swallowed: an input that is rejected is
// fine; a crash or a sanitizer report is a finding. Built with
// -DMAGICPIG_ENABLE_LIBFUZZER=ON (README, Tests):
//
//   build/bin/magicpig-parse-fuzzer -max_total_time=600 /tmp/corpus test/Dialect/MagicPIG
//
//===----------------------------------------------------------------------===//

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: attributes and types of earlier inputs stay
  // out of it, so that every finding reproduces from its input alone.
  DialectRegistry registry;
  registry.insert<magicpig::MagicPIGDialect, func::FuncDialect,
                  arith::ArithDialect>();
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });

  // The lexer reads the NUL past the end of its buffer, as in a file.
  std::string input(reinterpret_cast<const char *>(data), size);
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(input, config);
  if (!module)
    return 0;
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  module->print(os, OpPrintingFlags().printGenericOpForm());
  return 0;
}
