//===- OutlineOps.cpp - One function per repeated magicpig op -------------===//
//
// Identical magicpig ops on buffers (one per layer) become calls of one
// private function, so their loops are generated and compiled once
// (Passes.td, magicpig-outline-ops).
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include <map>

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGOUTLINEOPS
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

/// Ops with this key compute the same function of their operands: same
/// name, attributes and operand types.
static std::string signature(Operation *op) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << op->getName() << op->getAttrDictionary();
  for (Type type : op->getOperandTypes())
    os << "," << type;
  return key;
}

static bool isOutlinable(Operation *op) {
  return isa<magicpig::MagicPIGDialect>(op->getDialect()) &&
         op->getNumResults() == 0 && op->getNumRegions() == 0 &&
         llvm::all_of(op->getOperandTypes(),
                      [](Type t) { return !isa<TensorType>(t); }) &&
         op->getParentOfType<func::FuncOp>();
}

namespace {
struct OutlineOpsPass
    : magicpig::impl::MagicPIGOutlineOpsBase<OutlineOpsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // std::map: functions are created in a deterministic order.
    std::map<std::string, SmallVector<Operation *>> groups;
    std::vector<std::string> order;
    module.walk([&](Operation *op) {
      if (!isOutlinable(op))
        return;
      std::string key = signature(op);
      auto [it, inserted] = groups.try_emplace(key);
      if (inserted)
        order.push_back(key);
      it->second.push_back(op);
    });
    std::map<std::string, int> counters;
    for (const std::string &key : order) {
      SmallVector<Operation *> &ops = groups[key];
      if (ops.size() < 2)
        continue;
      Operation *first = ops.front();
      std::string name = ("__magicpig_" +
                          first->getName().stripDialect().str() + "_" +
                          std::to_string(counters[first->getName()
                                                      .getStringRef()
                                                      .str()]++));
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      auto func = func::FuncOp::create(
          b, first->getLoc(), name,
          b.getFunctionType(first->getOperandTypes(), {}));
      func.setPrivate();
      Block *entry = func.addEntryBlock();
      b.setInsertionPointToStart(entry);
      IRMapping map;
      map.map(first->getOperands(), entry->getArguments());
      b.clone(*first, map);
      func::ReturnOp::create(b, first->getLoc());
      for (Operation *op : ops) {
        OpBuilder call(op);
        func::CallOp::create(call, op->getLoc(), func, op->getOperands());
        op->erase();
      }
    }
  }
};
} // namespace
