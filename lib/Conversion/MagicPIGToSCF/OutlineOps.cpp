//===- OutlineOps.cpp - One function per repeated op ----------------------===//
//
// Identical magicpig and linalg ops on buffers (one per layer) become calls
// of one private function, so their loops are generated and compiled once
// (Passes.td, magicpig-outline-ops).
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

#include <map>

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGOUTLINEOPS
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

namespace {
/// An op to outline: its operands become the function's arguments, except
/// scalar constants, which are cloned into the function with the constants
/// its regions read from above (so they stay constants there).
struct Candidate {
  Operation *op;
  SmallVector<Value> arguments;
  SmallVector<Value> constants;
};
} // namespace

static std::optional<Candidate> asCandidate(Operation *op) {
  bool kind = isa<magicpig::MagicPIGDialect>(op->getDialect()) ||
              isa<linalg::LinalgOp>(op);
  if (!kind || op->getNumResults() != 0 ||
      !op->getParentOfType<func::FuncOp>() ||
      llvm::any_of(op->getOperandTypes(),
                   [](Type t) { return isa<TensorType>(t); }))
    return std::nullopt;
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(op->getRegions(), above);
  Candidate c{op, {}, {}};
  for (Value v : above) {
    if (!matchPattern(v, m_Constant()))
      return std::nullopt; // a value computed elsewhere: keep it simple
    c.constants.push_back(v);
  }
  for (Value v : op->getOperands()) {
    bool scalarConstant = !isa<ShapedType>(v.getType()) &&
                          matchPattern(v, m_Constant());
    if (!scalarConstant)
      c.arguments.push_back(v);
    else if (!llvm::is_contained(c.constants, v))
      c.constants.push_back(v);
  }
  return c;
}

static func::FuncOp outline(ModuleOp module, const Candidate &first,
                            StringRef name) {
  Operation *op = first.op;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto func = func::FuncOp::create(
      b, op->getLoc(), name,
      b.getFunctionType(ValueRange(first.arguments).getTypes(), {}));
  func.setPrivate();
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping map;
  map.map(first.arguments, entry->getArguments());
  for (Value constant : first.constants)
    map.map(constant, b.clone(*constant.getDefiningOp())->getResult(0));
  b.clone(*op, map);
  func::ReturnOp::create(b, op->getLoc());
  return func;
}

/// The outlined function's text (names local to it): equal for ops that
/// compute the same function of their operands.
static std::string signature(const Candidate &c) {
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(c.op->getLoc());
  func::FuncOp func = outline(*scratch, c, "f");
  std::string text;
  llvm::raw_string_ostream os(text);
  func->print(os, OpPrintingFlags().useLocalScope());
  return text;
}

namespace {
struct OutlineOpsPass
    : magicpig::impl::MagicPIGOutlineOpsBase<OutlineOpsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Groups of equivalent ops, in the order of their first op.
    SmallVector<SmallVector<Candidate>> groups;
    llvm::StringMap<size_t> bySignature;
    module.walk([&](Operation *op) {
      std::optional<Candidate> c = asCandidate(op);
      if (!c)
        return;
      auto [it, inserted] =
          bySignature.try_emplace(signature(*c), groups.size());
      if (inserted)
        groups.emplace_back();
      groups[it->second].push_back(*c);
    });
    std::map<std::string, int> counters;
    for (SmallVector<Candidate> &group : groups) {
      if (group.size() < 2)
        continue;
      Operation *first = group.front().op;
      std::string kind = first->getName().getStringRef().str();
      std::replace(kind.begin(), kind.end(), '.', '_');
      std::string name =
          "__magicpig_outlined_" + kind + "_" + std::to_string(counters[kind]++);
      func::FuncOp func = outline(module, group.front(), name);
      for (const Candidate &c : group) {
        OpBuilder call(c.op);
        func::CallOp::create(call, c.op->getLoc(), func, c.arguments);
        c.op->erase();
      }
    }
  }
};
} // namespace
