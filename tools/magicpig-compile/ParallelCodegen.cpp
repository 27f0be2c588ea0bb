//===- ParallelCodegen.cpp - Optimize and compile entry points in parallel ===//

#include "ParallelCodegen.h"

#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <map>
#include <thread>

using namespace llvm;

static constexpr StringRef kWrapperPrefix = "_mlir_ciface_";

/// The entry-point group of a function: its own name, or the wrapped
/// function's for a C wrapper; empty for internal and declared functions.
static StringRef groupOf(const Function &f) {
  if (f.isDeclaration() || f.hasLocalLinkage())
    return "";
  StringRef name = f.getName();
  name.consume_front(kWrapperPrefix);
  return name;
}

/// Groups in module order, each with its instruction count.
static std::vector<std::pair<std::string, size_t>>
entryGroups(const Module &module) {
  std::vector<std::pair<std::string, size_t>> groups;
  std::map<std::string, size_t> index;
  for (const Function &f : module) {
    StringRef group = groupOf(f);
    if (group.empty())
      continue;
    auto [it, inserted] = index.try_emplace(group.str(), groups.size());
    if (inserted)
      groups.emplace_back(group.str(), 0);
    groups[it->second].second += f.getInstructionCount();
  }
  return groups;
}

unsigned magicpig_compile::countEntryGroups(const Module &module) {
  return entryGroups(module).size();
}

/// Bitcode of partition `part`: the module with the functions of the
/// groups assigned elsewhere reduced to declarations.
static SmallString<0> partitionBitcode(const Module &module,
                                       const std::map<std::string, unsigned> &owner,
                                       unsigned part) {
  ValueToValueMapTy map;
  std::unique_ptr<Module> clone = CloneModule(module, map);
  for (Function &f : *clone) {
    StringRef group = groupOf(f);
    if (!group.empty() && owner.at(group.str()) != part)
      f.deleteBody();
  }
  SmallVector<GlobalVariable *> appending;
  for (GlobalVariable &g : clone->globals()) {
    // Constructors and destructors (a CUDA graph's kernel loading) run once.
    if (g.hasAppendingLinkage()) {
      appending.push_back(&g);
      continue;
    }
    // Mutable state (a CUDA graph's module handles, which the constructors
    // set and the launches read) must be one variable, not one per
    // partition: hidden, defined in the first partition only.
    if (g.hasLocalLinkage() && !g.isConstant()) {
      g.setLinkage(GlobalValue::ExternalLinkage);
      g.setVisibility(GlobalValue::HiddenVisibility);
    }
    // Exported data (the graph description) is defined once too; read-only
    // local data may be duplicated.
    if (part != 0 && !g.isDeclaration() && !g.hasLocalLinkage()) {
      g.setInitializer(nullptr);
      g.setLinkage(GlobalValue::ExternalLinkage);
      g.setComdat(nullptr);
    }
  }
  if (part != 0)
    for (GlobalVariable *g : appending)
      g->eraseFromParent();
  SmallString<0> bitcode;
  raw_svector_ostream os(bitcode);
  WriteBitcodeToFile(*clone, os);
  return bitcode;
}

/// Parses, optimizes and compiles one partition into `objectPath`.
static std::string compilePartition(StringRef bitcode,
                                    orc::JITTargetMachineBuilder builder,
                                    unsigned optLevel, StringRef objectPath) {
  LLVMContext context;
  Expected<std::unique_ptr<Module>> module =
      parseBitcodeFile(MemoryBufferRef(bitcode, "partition"), context);
  if (!module)
    return toString(module.takeError());
  Expected<std::unique_ptr<TargetMachine>> machine =
      builder.createTargetMachine();
  if (!machine)
    return toString(machine.takeError());
  (*module)->setDataLayout((*machine)->createDataLayout());
  if (Error err = mlir::makeOptimizingTransformer(optLevel, 0, machine->get())(
          module->get()))
    return toString(std::move(err));
  std::error_code ec;
  raw_fd_ostream os(objectPath, ec, sys::fs::OF_None);
  if (ec)
    return "cannot write " + objectPath.str() + ": " + ec.message();
  legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, os, nullptr,
                                      CodeGenFileType::ObjectFile))
    return "the host target cannot emit object files";
  codegen.run(**module);
  return "";
}

std::string magicpig_compile::compileInParallel(
    const Module &module, const orc::JITTargetMachineBuilder &builder,
    unsigned optLevel, ArrayRef<std::string> objectPaths) {
  unsigned parts = objectPaths.size();
  // Largest groups first, each to the partition with the least work.
  auto groups = entryGroups(module);
  llvm::stable_sort(groups, [](const auto &a, const auto &b) {
    return a.second > b.second;
  });
  std::vector<size_t> load(parts, 0);
  std::map<std::string, unsigned> owner;
  for (const auto &[name, size] : groups) {
    unsigned part = std::min_element(load.begin(), load.end()) - load.begin();
    owner[name] = part;
    load[part] += size;
  }
  std::vector<SmallString<0>> bitcodes;
  for (unsigned part = 0; part < parts; ++part)
    bitcodes.push_back(partitionBitcode(module, owner, part));

  std::vector<std::string> errors(parts);
  std::vector<std::thread> threads;
  for (unsigned part = 0; part < parts; ++part)
    threads.emplace_back([&, part] {
      errors[part] = compilePartition(bitcodes[part], builder, optLevel,
                                      objectPaths[part]);
    });
  for (std::thread &thread : threads)
    thread.join();
  for (const std::string &error : errors)
    if (!error.empty())
      return error;
  return "";
}
