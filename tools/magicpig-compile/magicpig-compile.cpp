//===- magicpig-compile.cpp - Ahead-of-time compiler for decode graphs ----===//
//
// Compiles an exported model (linalg on tensors, or magicpig IR) into a
// shared library: raise attention -> sparsify -> lower for the target ->
// LLVM IR -> optimized host object -> shared library. Every public function
// gets a C entry point `_mlir_ciface_<name>` taking memref descriptors
// (docs/CompiledGraphABI.md).
//
//===----------------------------------------------------------------------===//

#include "GraphInfo.h"
#include "IndexABI.h"
#include "ParallelCodegen.h"
#include "common/ProjectLibrary.h"

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "magicpig/InitAllMagicPIG.h"
#include "magicpig/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

#include <chrono>
#include <thread>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("magicpig-compile options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<exported model .mlir>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::Required,
                                       cl::cat(category));

enum class Target { CPU, CUDA };
static cl::opt<Target> target(
    "target", cl::desc("Where the decode graph runs"), cl::init(Target::CPU),
    cl::values(clEnumValN(Target::CPU, "cpu", "the host CPU only"),
               clEnumValN(Target::CUDA, "cuda",
                          "GPU + host (MagicPIG's heterogeneous split)")),
    cl::cat(category));

enum class Emit { SharedLib, Object, LLVMIR, MLIR };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to write"), cl::init(Emit::SharedLib),
    cl::values(clEnumValN(Emit::SharedLib, "shared-lib", "a shared library"),
               clEnumValN(Emit::Object, "obj", "an object file"),
               clEnumValN(Emit::LLVMIR, "llvm", "optimized LLVM IR"),
               clEnumValN(Emit::MLIR, "mlir", "the LLVM-dialect MLIR")),
    cl::cat(category));

static cl::opt<std::string>
    attention("attention",
              cl::desc("Attention of the compiled graph: 'magicpig' (LSH "
                       "sampling) or 'dense' (exact)"),
              cl::init("magicpig"), cl::cat(category));
static cl::opt<int64_t> lshBits("lsh-bits", cl::init(10), cl::cat(category),
                                cl::desc("Bits per SimHash table (K)"));
static cl::opt<int64_t> lshTables("lsh-tables", cl::init(150),
                                  cl::cat(category),
                                  cl::desc("SimHash tables (L)"));
static cl::opt<int64_t> minCollisions("min-collisions", cl::init(2),
                                      cl::cat(category),
                                      cl::desc("Collision threshold (T)"));
static cl::opt<int64_t> sinkTokens("sink-tokens", cl::init(4),
                                   cl::cat(category),
                                   cl::desc("Sink tokens attended exactly"));
static cl::opt<int64_t> windowTokens("window-tokens", cl::init(64),
                                     cl::cat(category),
                                     cl::desc("Window tokens attended exactly"));
static cl::list<int64_t> denseLayers("dense-layers", cl::CommaSeparated,
                                     cl::cat(category),
                                     cl::desc("Layers kept exact"));
static cl::opt<bool> requireSparse(
    "require-sparse", cl::init(false), cl::cat(category),
    cl::desc("--attention=magicpig: fail, instead of warning, when no layer "
             "is sparsified (no attention raised, or every layer dense)"));
static cl::opt<uint64_t> seed("seed", cl::init(0), cl::cat(category),
                              cl::desc("Seed of the SimHash projection"));
static cl::opt<bool> returnCounts(
    "return-counts", cl::init(true), cl::cat(category),
    cl::desc("Decode also returns each sparse layer's retrieve count (for "
             "the fraction of keys touched)"));
static cl::opt<bool> splitAppendedKV(
    "split-appended-kv", cl::init(true), cl::cat(category),
    cl::desc("Run --magicpig-split-appended-kv after sparsify: decode "
             "attention reads the cache in place instead of a copy with the "
             "new rows appended"));
static cl::opt<bool> stridedKVArguments(
    "strided-kv-arguments", cl::init(true), cl::cat(category),
    cl::desc("Run --magicpig-strided-kv-arguments: the cache arguments that "
             "only attention reads accept strided views, so a caller can "
             "pass the filled part of a larger buffer without copying it"));
static cl::opt<bool> parallelContractions(
    "parallel-contractions", cl::init(true), cl::cat(category),
    cl::desc("Run --magicpig-parallel-contractions after the loop order: the "
             "weight matmuls' output features are split over OpenMP threads "
             "(default: on for --target=cpu, where it made SmolLM2's decode "
             "call about 20% faster on 2 cores, docs/model-export.md; off "
             "for --target=cuda)"));
static cl::opt<bool> parallelTokenLoops(
    "parallel-token-loops", cl::init(true), cl::cat(category),
    cl::desc("--target=cpu: magicpig-cpu-pipeline's parallel-token-loops: "
             "the prefill's element-wise ops, norms and transposes run on "
             "every core (SmolLM2, 4K tokens: prefill -13%; "
             "docs/model-export.md)"));
static cl::opt<bool> reorderContractions(
    "contraction-loop-order", cl::init(true), cl::cat(category),
    cl::desc("Run --magicpig-contraction-loop-order before lowering: matmul "
             "loops (i, k, j) so that LLVM vectorizes the innermost one"));
static cl::opt<std::string> weightType(
    "weight-type", cl::init("f32"), cl::cat(category),
    cl::desc("Element type of the weight matrix arguments: f32, or bf16 "
             "(--magicpig-narrow-weights: half the bytes a decode step "
             "reads, widened to f32 as they are loaded)"));
static cl::opt<std::string> kvType(
    "kv-type", cl::init("f32"), cl::cat(category),
    cl::desc("Element type of the K/V cache arguments decode takes: f32, "
             "bf16 or f16 (--magicpig-narrow-kv-cache: half the cache's "
             "bytes, widened to f32 as attention reads each row)"));
static cl::opt<int64_t> minWeightElements(
    "min-weight-elements", cl::init(65536), cl::cat(category),
    cl::desc("Least elements of a static rank-2 argument or input taken for "
             "a weight matrix (--weight-type=bf16, --parallel-contractions)"));
static cl::opt<std::string> chip(
    "chip", cl::init("sm_90"), cl::cat(category),
    cl::desc("--target=cuda: NVIDIA chip of the kernels (sm_80 or newer)"));
static cl::opt<std::string> gpuFormat(
    "gpu-format", cl::init("fatbin"), cl::cat(category),
    cl::desc("--target=cuda: what the library embeds: isa (PTX, compiled by "
             "the driver at load), bin (cubin), fatbin (cubin + PTX)"));
static cl::opt<std::string> cudaToolkit(
    "cuda-toolkit", cl::init("/usr/local/cuda"), cl::cat(category),
    cl::desc("--target=cuda: toolkit holding ptxas, fatbinary, libdevice"));
static cl::opt<std::string> loweringPipeline(
    "lowering-pipeline", cl::cat(category),
    cl::desc("Pass pipeline from the sparsified graph to the LLVM dialect "
             "(default: magicpig-cpu-pipeline, or magicpig-cuda-pipeline "
             "with --chip, --gpu-format and --cuda-toolkit for "
             "--target=cuda)"));
static cl::opt<unsigned> optLevel("O", cl::init(3), cl::Prefix,
                                  cl::cat(category),
                                  cl::desc("LLVM optimization level 0-3"));
static cl::opt<unsigned> jobs(
    "j", cl::init(0), cl::Prefix, cl::cat(category),
    cl::desc("Threads that optimize and compile the entry points of a shared "
             "library in parallel (0: one per core)"));
static cl::opt<bool> quiet("quiet", cl::init(false), cl::cat(category),
                           cl::desc("Do not print progress"));

namespace {
/// Prints "[magicpig-compile] i/n what (seconds)" as each stage ends.
class Progress {
public:
  explicit Progress(int stages) : stages(stages) {}
  template <typename Fn> LogicalResult stage(StringRef what, Fn &&fn) {
    ++current;
    auto start = std::chrono::steady_clock::now();
    if (!quiet)
      llvm::errs() << "[magicpig-compile] " << current << "/" << stages << " "
                   << what << "...";
    LogicalResult result = fn();
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    if (!quiet)
      llvm::errs() << (succeeded(result) ? " done" : " FAILED") << " ("
                   << llvm::format("%.2f", seconds) << " s)\n";
    return result;
  }

private:
  int stages, current = 0;
};
} // namespace

static int fail(const Twine &message) {
  llvm::errs() << "magicpig-compile: error: " << message << "\n";
  return 1;
}

/// The sparsify options of the command line.
static magicpig::MagicPIGSparsifyOptions sparsifyOptions() {
  magicpig::MagicPIGSparsifyOptions options;
  options.lshBits = lshBits;
  options.lshTables = lshTables;
  options.minCollisions = minCollisions;
  options.sinkTokens = sinkTokens;
  options.windowTokens = windowTokens;
  options.denseLayers.assign(denseLayers.begin(), denseLayers.end());
  options.seed = seed;
  options.returnCounts = returnCounts;
  return options;
}

/// The sparsify invocation for the command-line options.
static std::string sparsifyPipeline() {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "magicpig-sparsify{lsh-bits=" << lshBits << " lsh-tables=" << lshTables
     << " min-collisions=" << minCollisions << " sink-tokens=" << sinkTokens
     << " window-tokens=" << windowTokens << " seed=" << seed
     << " return-counts=" << (returnCounts ? 1 : 0);
  if (!denseLayers.empty()) {
    os << " dense-layers=";
    llvm::interleave(denseLayers, os, ",");
  }
  os << "}";
  return s;
}

/// Parses `pipeline` into `pm`, before any work, so that a typo does not
/// wait for the stages before it.
static LogicalResult parsePipeline(StringRef pipeline, PassManager &pm) {
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (succeeded(parsePassPipeline(pipeline, pm, errorStream)))
    return success();
  llvm::errs() << "magicpig-compile: error: bad pipeline '" << pipeline
               << "': " << errors << "\n";
  return failure();
}

/// Why `-o path` cannot be written, or "": checked before any work, since
/// compiling a model takes a minute.
static std::string outputPathError(StringRef path) {
  namespace fs = llvm::sys::fs;
  if (path == "-")
    return emit == Emit::SharedLib
               ? "--emit=shared-lib writes a file: -o - is not supported"
               : "";
  if (fs::is_directory(path))
    return "cannot write '" + path.str() + "': it is a directory";
  StringRef dir = llvm::sys::path::parent_path(path);
  if (dir.empty())
    dir = ".";
  if (!fs::is_directory(dir))
    return "cannot write '" + path.str() + "': no directory '" + dir.str() +
           "'";
  if (fs::access(dir, fs::AccessMode::Write) ||
      (fs::exists(path) && fs::access(path, fs::AccessMode::Write)))
    return "cannot write '" + path.str() + "': permission denied";
  return "";
}

/// Public functions get a C entry point taking memref descriptors.
static void addCInterfaces(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(module.getContext()));
}

static LogicalResult writeFile(StringRef path,
                               llvm::function_ref<void(raw_ostream &)> fn) {
  std::string error;
  auto out = openOutputFile(path, &error);
  if (!out) {
    llvm::errs() << "\nmagicpig-compile: error: " << error << "\n";
    return failure();
  }
  fn(out->os());
  out->keep();
  return success();
}

static LogicalResult emitObject(llvm::Module &module, llvm::TargetMachine &tm,
                                StringRef path) {
  return writeFile(path, [&](raw_ostream &os) {
    llvm::SmallVector<char, 0> buffer;
    llvm::raw_svector_ostream bufferStream(buffer);
    llvm::legacy::PassManager codegen;
    if (tm.addPassesToEmitFile(codegen, bufferStream, nullptr,
                               llvm::CodeGenFileType::ObjectFile)) {
      llvm::errs() << "\nmagicpig-compile: error: the host target cannot "
                      "emit object files\n";
      return;
    }
    codegen.run(module);
    os << bufferStream.str();
  });
}

/// Links the object into a shared library with clang, against libomp and
/// the given project runtime libraries (found again at load through rpath).
static LogicalResult linkSharedLibrary(ArrayRef<std::string> objects,
                                       StringRef output,
                                       ArrayRef<std::string> runtimes) {
  std::string clang = MAGICPIG_LLVM_TOOLS_DIR "/clang";
  if (!llvm::sys::fs::can_execute(clang)) {
    llvm::errs() << "\nmagicpig-compile: error: linker driver not found: "
                 << clang << "\n";
    return failure();
  }
  std::string libDir = MAGICPIG_LLVM_LIBRARY_DIR;
  std::string rpath = "-Wl,-rpath," + libDir;
  std::string libFlag = "-L" + libDir;
  // memref copies call memrefCopy from MLIR's C runner utils.
  llvm::SmallVector<std::string> runtimeRpaths;
  for (const std::string &runtime : runtimes)
    runtimeRpaths.push_back(
        "-Wl,-rpath," + llvm::sys::path::parent_path(runtime).str());
  llvm::SmallVector<StringRef> args = {clang, "-shared", "-o", output};
  for (const std::string &object : objects)
    args.push_back(object);
  args.append({libFlag, "-lomp", "-lmlir_c_runner_utils", "-lm", rpath,
               "-fuse-ld=lld"});
  for (const std::string &runtime : runtimes)
    args.push_back(runtime);
  for (const std::string &runtimeRpath : runtimeRpaths)
    args.push_back(runtimeRpath);
  std::string errorMessage;
  int rc = llvm::sys::ExecuteAndWait(clang, args, std::nullopt, {}, 0, 0,
                                     &errorMessage);
  if (rc != 0) {
    llvm::errs() << "\nmagicpig-compile: error: linking failed (" << rc
                 << ") " << errorMessage << "\n";
    return failure();
  }
  return success();
}

/// The device kernels take one key range for the whole batch: an entry
/// point whose attention has per-sequence lengths (a padded batch, the
/// export's decode_batch) is left out of a CUDA graph, with a note; its
/// caller decodes one sequence per call instead.
static void dropPaddedBatchEntryPoints(ModuleOp module) {
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
    bool padded = func.walk([](Operation *op) {
                        auto a = dyn_cast<mlir::magicpig::AttentionOp>(op);
                        auto w = dyn_cast<mlir::magicpig::WindowAttentionOp>(op);
                        return (a && a.getKeyLengths()) ||
                                       (w && (w.getKeyLengths() ||
                                              w.getWindowStarts()))
                                   ? WalkResult::interrupt()
                                   : WalkResult::advance();
                      })
                      .wasInterrupted();
    if (!padded || !func.isPublic())
      continue;
    llvm::errs() << "magicpig-compile: note: '" << func.getSymName()
                 << "' is left out of the --target=cuda graph: its attention "
                    "takes per-sequence lengths (a padded batch), which the "
                    "device kernels do not support yet\n";
    func.erase();
  }
}

/// The index buffers' `magicpig.layer` argument and result attributes have
/// served (the index ABI check, the graph info): LLVM IR has no place for
/// them, and translation would warn once per buffer.
static void dropLayerAttributes(ModuleOp module) {
  module.walk([](LLVM::LLVMFuncOp func) {
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      func.removeArgAttr(i, mlir::magicpig::kLayerAttrName);
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      func.removeResultAttr(i, StringAttr::get(func.getContext(),
                                               mlir::magicpig::kLayerAttrName));
  });
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerAllPasses();
  magicpig::registerAllMagicPIGPasses();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "magicpig-compile: compile an exported model into a decode graph\n");

  if (attention != "magicpig" && attention != "dense")
    return fail("--attention must be 'magicpig' or 'dense', got '" +
                attention + "'");
  if (gpuFormat != "isa" && gpuFormat != "bin" && gpuFormat != "fatbin")
    return fail("--gpu-format must be 'isa', 'bin' or 'fatbin', got '" +
                gpuFormat + "'");
  // The kernels' host side calls the mgpu* wrappers of the CUDA runtime
  // library, which the shared library links.
  std::vector<std::string> runtimes;
  if (target == Target::CUDA) {
    std::string cudaRuntime =
        magicpig_tools::findProjectLibrary("libmagicpig_cuda_runtime.so",
                                           argv[0]);
    if (emit == Emit::SharedLib && !llvm::sys::fs::exists(cudaRuntime))
      return fail("--target=cuda needs " + cudaRuntime +
                  ", which this build lacks (cuda.h was not found when it "
                  "was configured)");
    runtimes.push_back(cudaRuntime);
  }
  if (parallelTokenLoops.getNumOccurrences() != 0 &&
      (target == Target::CUDA || loweringPipeline.getNumOccurrences() != 0))
    return fail("--parallel-token-loops configures the default CPU "
                "pipeline; it does not combine with --target=cuda or "
                "--lowering-pipeline");
  if (loweringPipeline.getNumOccurrences() == 0)
    loweringPipeline = target == Target::CUDA
                           ? "magicpig-cuda-pipeline{chip=" + chip +
                                 " format=" + gpuFormat +
                                 " toolkit=" + cudaToolkit + "}"
                           : std::string("magicpig-cpu-pipeline") +
                                 (parallelTokenLoops
                                      ? ""
                                      : "{parallel-token-loops=false}");
  if (optLevel > 3)
    return fail("-O must be 0 to 3");
  if (minWeightElements < 1)
    return fail("--min-weight-elements must be >= 1");
  if (weightType != "f32" && weightType != "bf16")
    return fail("--weight-type must be f32 or bf16, got '" + weightType +
                "'");
  if (kvType != "f32" && kvType != "bf16" && kvType != "f16")
    return fail("--kv-type must be f32, bf16 or f16, got '" + kvType + "'");
  // Everything that can be checked without the model is checked before it
  // is parsed: the later stages take a minute on a real model.
  if (attention == "magicpig") {
    std::string error = magicpig::checkSparsifyOptions(sparsifyOptions());
    if (!error.empty())
      return fail(error);
  }
  if (target == Target::CUDA) {
    std::string error;
    if (failed(magicpig::GPUTargetInfo::forChip(chip, error)))
      return fail("--chip: " + error);
  }
  if (std::string error = outputPathError(outputFile); !error.empty())
    return fail(error);

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  magicpig::registerAllMagicPIGDialects(registry);
  MLIRContext context(registry);
  // A failing pass names the problem at its location; the whole module
  // after it would bury that line.
  context.printOpOnDiagnostic(false);

  std::string graphPipeline = "magicpig-raise-attention";
  if (attention == "magicpig")
    graphPipeline += "," + sparsifyPipeline();
  if (splitAppendedKV)
    graphPipeline += ",magicpig-split-appended-kv";
  if (stridedKVArguments)
    graphPipeline += ",magicpig-strided-kv-arguments";
  if (kvType != "f32")
    graphPipeline += ",magicpig-narrow-kv-cache{kv-type=" + kvType + "}";
  std::string weights =
      "{min-weight-elements=" + std::to_string(minWeightElements) + "}";
  if (weightType == "bf16")
    graphPipeline += ",magicpig-narrow-weights" + weights;
  if (reorderContractions)
    graphPipeline += ",magicpig-contraction-loop-order";
  bool splitContractions = parallelContractions.getNumOccurrences()
                                ? bool(parallelContractions)
                                : target == Target::CPU;
  if (splitContractions)
    graphPipeline += ",magicpig-parallel-contractions" + weights;
  PassManager graphPM(&context), lowerPM(&context);
  if (failed(parsePipeline(graphPipeline, graphPM)) ||
      failed(parsePipeline(loweringPipeline, lowerPM)))
    return 1;

  bool wantsLLVM = emit != Emit::MLIR;
  bool wantsObject = emit == Emit::Object || emit == Emit::SharedLib;
  Progress progress(3 + wantsLLVM + wantsObject + (emit == Emit::SharedLib));

  OwningOpRef<ModuleOp> module;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  if (failed(progress.stage("parse " + inputFile.getValue(), [&] {
        std::string error;
        auto file = openInputFile(inputFile, &error);
        if (!file) {
          llvm::errs() << "\nmagicpig-compile: error: " << error << "\n";
          return failure();
        }
        sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
        module = parseSourceFile<ModuleOp>(sourceMgr, &context);
        return success(static_cast<bool>(module));
      })))
    return 1;
  // An empty module would give a library with nothing to call.
  if (llvm::none_of(module->getOps<func::FuncOp>(), [](func::FuncOp func) {
        return func.isPublic() && !func.isExternal();
      }))
    return fail("'" + inputFile + "' defines no entry point (a public " +
                "func.func with a body): nothing to compile");

  if (failed(progress.stage("raise attention" +
                                std::string(attention == "magicpig"
                                                ? " + sparsify"
                                                : ""),
                            [&] { return graphPM.run(*module); })))
    return 1;
  if (target == Target::CUDA)
    dropPaddedBatchEntryPoints(*module);
  // A library whose prefill returns another index than decode takes would
  // crash its caller; so would one the caller takes for sparse and is not.
  if (failed(magicpig_compile::verifyIndexABI(*module)))
    return 1;
  if (attention == "magicpig" &&
      magicpig_compile::countIndexedLayers(*module) == 0) {
    StringRef why = "--attention=magicpig, but no layer was sparsified (no "
                    "attention was raised, or every layer is dense)";
    if (requireSparse)
      return fail(why + Twine(" and --require-sparse is set"));
    llvm::errs() << "magicpig-compile: warning: " << why
                 << ": the graph is exact\n";
  }

  // What the caller needs to drive the graph, taken before lowering.
  llvm::json::Object info = magicpig_compile::describeEntryPoints(*module);
  info["format"] = "magicpig-graph/1";
  info["attention"] = attention.getValue();
  info["target"] = target == Target::CUDA ? "cuda" : "cpu";
  if (target == Target::CUDA)
    info["chip"] = chip.getValue();
  llvm::json::Array dense;
  for (int64_t layer : denseLayers)
    dense.push_back(layer);
  info["options"] = llvm::json::Object{
      {"lsh-bits", int64_t(lshBits)},
      {"lsh-tables", int64_t(lshTables)},
      {"min-collisions", int64_t(minCollisions)},
      {"sink-tokens", int64_t(sinkTokens)},
      {"window-tokens", int64_t(windowTokens)},
      {"seed", uint64_t(seed)},
      {"dense-layers", denseLayers.empty() ? llvm::json::Value(nullptr)
                                           : llvm::json::Value(std::move(dense))},
      {"return-counts", attention == "magicpig" && returnCounts},
      {"weight-type", weightType.getValue()},
      {"kv-type", kvType.getValue()}};
  std::string infoText;
  llvm::raw_string_ostream(infoText) << llvm::json::Value(std::move(info));

  addCInterfaces(*module);
  if (failed(progress.stage("lower to the LLVM dialect (" + loweringPipeline +
                                ")",
                            [&] { return lowerPM.run(*module); })))
    return 1;
  magicpig_compile::embedGraphInfo(*module, infoText);
  if (emit == Emit::MLIR)
    return failed(writeFile(outputFile,
                            [&](raw_ostream &os) { module->print(os); }));
  dropLayerAttributes(*module);

  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return fail(llvm::toString(builder.takeError()));
  builder->setCodeGenOptLevel(optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                                            : llvm::CodeGenOptLevel::Default);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return fail(llvm::toString(machine.takeError()));
  std::unique_ptr<llvm::TargetMachine> tm = std::move(*machine);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule;
  auto translate = [&]() -> LogicalResult {
    llvmModule = translateModuleToLLVMIR(*module, llvmContext);
    if (!llvmModule)
      return failure();
    llvmModule->setDataLayout(tm->createDataLayout());
    llvmModule->setTargetTriple(tm->getTargetTriple());
    return success();
  };

  // A shared library: its entry points are optimized and compiled in
  // parallel partitions (ParallelCodegen.h), linked together.
  if (emit == Emit::SharedLib) {
    if (failed(progress.stage("translate to LLVM IR", translate)))
      return 1;
    unsigned threads = jobs ? unsigned(jobs)
                            : std::max(1u, std::thread::hardware_concurrency());
    unsigned parts = std::max(
        1u, std::min(threads, magicpig_compile::countEntryGroups(*llvmModule)));
    std::vector<std::string> objects;
    for (unsigned part = 0; part < parts; ++part) {
      llvm::SmallString<128> path;
      int fd;
      if (llvm::sys::fs::createTemporaryFile("magicpig", "o", fd, path))
        return fail("cannot create a temporary object file");
      llvm::sys::Process::SafelyCloseFileDescriptor(fd);
      objects.push_back(path.str().str());
    }
    auto removeObjects = [&] {
      for (const std::string &object : objects)
        llvm::sys::fs::remove(object);
    };
    if (failed(progress.stage(
            "optimize (-O" + std::to_string(optLevel) +
                ", host CPU) and emit object code, " + std::to_string(parts) +
                (parts == 1 ? " thread" : " threads in parallel"),
            [&]() -> LogicalResult {
              std::string error = magicpig_compile::compileInParallel(
                  *llvmModule, *builder, optLevel, objects);
              if (error.empty())
                return success();
              llvm::errs() << "\nmagicpig-compile: error: " << error << "\n";
              return failure();
            }))) {
      removeObjects();
      return 1;
    }
    LogicalResult linked = progress.stage("link " + outputFile.getValue(), [&] {
      return linkSharedLibrary(objects, outputFile, runtimes);
    });
    removeObjects();
    return failed(linked);
  }

  if (failed(progress.stage("translate and optimize LLVM IR (-O" +
                                std::to_string(optLevel) + ", host CPU)",
                            [&]() -> LogicalResult {
        if (failed(translate()))
          return failure();
        if (auto err = makeOptimizingTransformer(optLevel, 0, tm.get())(
                llvmModule.get())) {
          llvm::errs() << "\nmagicpig-compile: error: "
                       << llvm::toString(std::move(err)) << "\n";
          return failure();
        }
        return success();
      })))
    return 1;
  if (emit == Emit::LLVMIR)
    return failed(writeFile(outputFile,
                            [&](raw_ostream &os) { llvmModule->print(os, nullptr); }));
  return failed(progress.stage("emit object code", [&] {
    return emitObject(*llvmModule, *tm, outputFile);
  }));
}
