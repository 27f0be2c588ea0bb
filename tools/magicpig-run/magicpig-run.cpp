//===- magicpig-run.cpp - JIT runner for lowered MagicPIG programs --------===//
//
// Runs one function of an LLVM-dialect module (the output of a lowering
// pipeline) with MLIR's ExecutionEngine, like upstream mlir-runner, but with
// the libraries such programs need already loaded: MLIR's runner utilities,
// libomp, the project's runtime and, for GPU programs, the project's CUDA
// runtime. A lowered program therefore runs without any --shared-libs.
//
//===----------------------------------------------------------------------===//

#include "common/ProjectLibrary.h"
#include "magicpig/InitAllMagicPIG.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Target/TargetMachine.h"

#include <cstdint>
#include <cstdio>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory runnerCategory("magicpig-run options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input file>"),
                                          cl::init("-"),
                                          cl::cat(runnerCategory));

static cl::opt<std::string> entryName("e", cl::desc("The function to call"),
                                      cl::value_desc("function name"),
                                      cl::init("main"),
                                      cl::cat(runnerCategory));

// The default f32 matches mlir-runner, so its tests run here unchanged.
static cl::opt<std::string> entryResult(
    "entry-point-result",
    cl::desc("Result type of the entry function; a non-void result is "
             "printed on stdout"),
    cl::value_desc("void | i32 | i64 | f32"), cl::init("f32"),
    cl::cat(runnerCategory));

static cl::list<std::string> sharedLibs(
    "shared-libs",
    cl::desc("Further libraries to load, after the ones loaded by default"),
    cl::value_desc("a.so,b.so"), cl::CommaSeparated, cl::cat(runnerCategory));

// One option with a numeric suffix, so -O0 .. -O3 read as in mlir-runner.
static cl::opt<unsigned>
    optLevel("O",
             cl::desc("Optimize the LLVM IR (with the host CPU's cost model) "
                      "and generate code at this level, 0-3; without -O the "
                      "IR is not optimized, as in mlir-runner"),
             cl::Prefix, cl::cat(runnerCategory));

static cl::opt<bool>
    dumpLLVMIR("dump-llvm-ir",
               cl::desc("Print the LLVM IR as it is handed to code generation "
                        "(after -O) on stderr"),
               cl::cat(runnerCategory));

static cl::opt<std::string> targetCPU(
    "mcpu",
    cl::desc("Generate code for this CPU instead of the host's (e.g. haswell: "
             "AVX2 without AVX-512; x86-64: SSE2 only); refused when the host "
             "lacks a feature of it"),
    cl::value_desc("cpu name"), cl::cat(runnerCategory));

static constexpr const char *overview =
    R"(magicpig-run: JIT runner for LLVM-dialect MLIR

Calls a function without arguments of the input module (-e, default main) and
prints its result (-entry-point-result). Code is generated for the host CPU,
or for an older one the host can run (-mcpu).

Loaded before any --shared-libs, so lowered programs need none:
  libmlir_runner_utils.so, libmlir_c_runner_utils.so, libomp.so  (LLVM lib dir)
  libmagicpig_runtime.so          (<bin>/../lib, else the build tree)
  libmagicpig_cuda_runtime.so     only when the module has a gpu.binary or
                                  calls an mgpu* function; without a usable
                                  CUDA driver such a program stops with one
                                  "magicpig: CUDA driver not available" line.
)";

/// Prints "magicpig-run: <message>" and returns the exit code for failures.
static int fail(const llvm::Twine &message) {
  llvm::errs() << "magicpig-run: " << message << "\n";
  return EXIT_FAILURE;
}

/// An error message unless code generated for `cpu` runs on this machine: a
/// CPU of the host's architecture with no feature the host lacks (no
/// instruction it would trap on).
static std::optional<std::string>
checkRunsOnHost(const llvm::Triple &triple, llvm::StringRef cpu) {
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return error;
  // Asked first with no CPU, so that LLVM prints no warning of its own.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu))
    return "-mcpu=" + cpu.str() + " is not a CPU of " + triple.str();
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(triple, cpu, ""));
  std::string missing;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    if (!feature.second && info->checkFeatures("+" + feature.first().str()))
      missing += (missing.empty() ? "" : ", ") + feature.first().str();
  if (!missing.empty())
    return "-mcpu=" + cpu.str() + " needs features this CPU lacks: " + missing;
  return std::nullopt;
}

/// GPU programs reach the device through mgpu* calls, emitted either
/// directly (gpu-to-llvm) or by translating a gpu.binary.
static bool needsCudaRuntime(ModuleOp module) {
  bool found = false;
  module.walk([&](Operation *op) {
    auto func = dyn_cast<LLVM::LLVMFuncOp>(op);
    if (isa<gpu::BinaryOp>(op) ||
        (func && func.getSymName().starts_with("mgpu"))) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

/// Checks that `name` is an llvm.func with a body, no arguments and the
/// result -entry-point-result promises, with a message saying what is wrong.
static LogicalResult checkEntryPoint(ModuleOp module, llvm::StringRef name,
                                     llvm::StringRef resultKind,
                                     std::string &error) {
  llvm::raw_string_ostream os(error);
  Operation *symbol = SymbolTable::lookupSymbolIn(module, name);
  if (!symbol) {
    os << "entry function '" << name << "' not found in the input";
    return failure();
  }
  auto func = dyn_cast<LLVM::LLVMFuncOp>(symbol);
  if (!func) {
    os << "entry function '" << name << "' is a '"
       << symbol->getName().getStringRef()
       << "', not an 'llvm.func'; lower the input to the LLVM dialect first";
    return failure();
  }
  if (func.isExternal()) {
    os << "entry function '" << name << "' is only declared, it has no body";
    return failure();
  }
  LLVM::LLVMFunctionType type = func.getFunctionType();
  if (type.getNumParams() != 0 || type.isVarArg()) {
    os << "entry function '" << name << "' has type " << type
       << "; only functions without arguments can be called";
    return failure();
  }
  Type result = type.getReturnType();
  MLIRContext *ctx = module.getContext();
  Type expected = llvm::StringSwitch<Type>(resultKind)
                      .Case("void", LLVM::LLVMVoidType::get(ctx))
                      .Case("i32", IntegerType::get(ctx, 32))
                      .Case("i64", IntegerType::get(ctx, 64))
                      .Case("f32", Float32Type::get(ctx))
                      .Default(Type());
  if (result != expected) {
    os << "entry function '" << name << "' returns ";
    if (isa<LLVM::LLVMVoidType>(result))
      os << "void";
    else
      os << result;
    os << " but -entry-point-result=" << resultKind << " was given";
    return failure();
  }
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // A failed run-time check prints its message with puts and then aborts,
  // which does not flush: line buffering keeps the message when stdout is
  // a pipe or a file.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();
  cl::HideUnrelatedOptions(runnerCategory);
  cl::ParseCommandLineOptions(argc, argv, overview);

  llvm::StringRef resultKind = entryResult;
  if (resultKind != "void" && resultKind != "i32" && resultKind != "i64" &&
      resultKind != "f32")
    return fail("unsupported -entry-point-result=" + entryResult +
                " (expected void, i32, i64 or f32)");
  if (optLevel.getNumOccurrences() && optLevel > 3)
    return fail("unsupported optimization level -O" +
                llvm::Twine(optLevel.getValue()) + " (expected -O0 .. -O3)");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  magicpig::registerAllMagicPIGDialects(registry);
  MLIRContext context(registry);

  // Parse with a source manager so that errors point into the input.
  std::string openError;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFilename, &openError);
  if (!file)
    return fail(openError);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("could not parse " + (inputFilename == "-"
                                          ? std::string("the standard input")
                                          : "'" + inputFilename + "'"));

  std::string entryError;
  if (failed(checkEntryPoint(*module, entryName, entryResult, entryError)))
    return fail(entryError);

  // The default libraries first, so that --shared-libs can add to them.
  std::vector<std::string> libraries = {
      MAGICPIG_LLVM_LIBRARY_DIR "/libmlir_runner_utils.so",
      MAGICPIG_LLVM_LIBRARY_DIR "/libmlir_c_runner_utils.so",
      MAGICPIG_LLVM_LIBRARY_DIR "/libomp.so",
      magicpig_tools::findProjectLibrary("libmagicpig_runtime.so", argv[0])};
  if (needsCudaRuntime(*module))
    libraries.push_back(
        magicpig_tools::findProjectLibrary("libmagicpig_cuda_runtime.so", argv[0]));
  // Loaded into the process (RTLD_GLOBAL): the engine's process-wide symbol
  // search then resolves calls into them, and a missing file is reported here
  // rather than as an unresolved symbol later.
  for (const std::string &library : libraries) {
    std::string loadError;
    if (llvm::sys::DynamicLibrary::LoadLibraryPermanently(library.c_str(),
                                                          &loadError))
      return fail("cannot load '" + library + "': " + loadError);
  }
  // Also hand --shared-libs to the engine, which honours the
  // __mlir_execution_engine_init protocol some libraries implement.
  std::vector<std::string> userLibraries;
  for (const std::string &library : sharedLibs) {
    std::string loadError;
    if (llvm::sys::DynamicLibrary::LoadLibraryPermanently(library.c_str(),
                                                          &loadError))
      return fail("cannot load '" + library + "': " + loadError);
    userLibraries.push_back(library);
  }
  llvm::SmallVector<llvm::StringRef> userLibraryRefs(userLibraries.begin(),
                                                     userLibraries.end());

  // Generate code for this machine's CPU and features (AVX-512 where present)
  // instead of the generic x86-64 baseline.
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return fail("cannot target the host: " +
                llvm::toString(tmBuilder.takeError()));
  if (targetCPU.getNumOccurrences()) {
    if (std::optional<std::string> error = checkRunsOnHost(tmBuilder->getTargetTriple(), targetCPU))
      return fail(*error);
    tmBuilder->setCPU(targetCPU);
    tmBuilder->setFeatures(""); // The named CPU's own features.
  }
  if (optLevel.getNumOccurrences()) {
    // The engine ignores its jitCodeGenOptLevel once given a target machine,
    // so the level goes into the machine itself.
    static const llvm::CodeGenOptLevel levels[] = {
        llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
        llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
    tmBuilder->setCodeGenOptLevel(levels[optLevel]);
  }
  auto targetMachine = tmBuilder->createTargetMachine();
  if (!targetMachine)
    return fail("cannot create a target machine for the host: " +
                llvm::toString(targetMachine.takeError()));
  // The engine takes ownership; the machine outlives the transformer's use.
  llvm::TargetMachine *hostMachine = targetMachine->get();
  std::string hostCPU = hostMachine->getTargetCPU().str();
  std::string hostFeatures = hostMachine->getTargetFeatureString().str();

  std::function<llvm::Error(llvm::Module *)> optimize;
  if (optLevel.getNumOccurrences())
    optimize =
        makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, hostMachine);
  auto transformer = [&](llvm::Module *llvmModule) -> llvm::Error {
    // Stamp the host CPU on every function, as clang -march=native does, so
    // that the IR says what it was optimized for.
    for (llvm::Function &func : *llvmModule) {
      if (func.isDeclaration())
        continue;
      func.addFnAttr("target-cpu", hostCPU);
      func.addFnAttr("target-features", hostFeatures);
    }
    if (optimize)
      if (llvm::Error error = optimize(llvmModule))
        return error;
    if (dumpLLVMIR)
      llvmModule->print(llvm::errs(), /*AAW=*/nullptr);
    return llvm::Error::success();
  };

  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.sharedLibPaths = userLibraryRefs;
  auto engine = ExecutionEngine::create(*module, engineOptions,
                                        std::move(*targetMachine));
  if (!engine)
    return fail("cannot compile the input: " +
                llvm::toString(engine.takeError()));

  // The packed wrapper takes an array of argument pointers followed by a
  // pointer to the result slot; there are no arguments here.
  union {
    int32_t i32;
    int64_t i64;
    float f32;
  } result;
  void *resultSlot = &result;
  if (llvm::Error error =
          (*engine)->invokePacked(entryName, llvm::MutableArrayRef(resultSlot)))
    return fail("cannot run '" + entryName +
                "': " + llvm::toString(std::move(error)));

  // The program printed through C stdio; keep the result after its output.
  std::fflush(stdout);
  if (entryResult == "i32")
    llvm::outs() << result.i32 << "\n";
  else if (entryResult == "i64")
    llvm::outs() << result.i64 << "\n";
  else if (entryResult == "f32")
    llvm::outs() << result.f32 << "\n";
  return EXIT_SUCCESS;
}
