//===- GraphInfo.cpp - The self-description of a compiled graph -----------===//

#include "GraphInfo.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace magicpig_compile {

static std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isF64())
    return "f64";
  if (type.isIndex())
    return "index";
  if (auto i = dyn_cast<IntegerType>(type))
    return "i" + std::to_string(i.getWidth());
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

static llvm::json::Value describeType(Type type) {
  llvm::json::Object o;
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    llvm::json::Array shape;
    for (int64_t size : shaped.getShape())
      shape.push_back(ShapedType::isDynamic(size) ? int64_t(-1) : size);
    o["shape"] = std::move(shape);
    o["dtype"] = dtypeName(shaped.getElementType());
  } else {
    o["shape"] = nullptr; // a scalar passed by value
    o["dtype"] = dtypeName(type);
  }
  return o;
}

llvm::json::Object describeEntryPoints(ModuleOp module) {
  llvm::json::Object functions;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    llvm::json::Array arguments, results;
    for (auto [i, t] : llvm::enumerate(func.getArgumentTypes())) {
      llvm::json::Value argument = describeType(t);
      // Set by --magicpig-strided-kv-arguments: a strided view may be passed.
      if (func.getArgAttr(
              i, bufferization::BufferizationDialect::kBufferLayoutAttrName))
        argument.getAsObject()->insert({"strided", true});
      arguments.push_back(std::move(argument));
    }
    for (Type t : func.getResultTypes())
      results.push_back(describeType(t));
    functions[func.getSymName()] = llvm::json::Object{
        {"arguments", std::move(arguments)}, {"results", std::move(results)}};
  }
  int64_t sparseLayers = 0;
  module.walk([&](magicpig::BuildTablesOp) { ++sparseLayers; });
  return llvm::json::Object{{"functions", std::move(functions)},
                            {"sparse_layers", sparseLayers}};
}

void embedGraphInfo(ModuleOp module, StringRef text) {
  // A --lowering-pipeline that does not reach the LLVM dialect leaves it
  // unloaded; the global needs it either way.
  module.getContext()->getOrLoadDialect<LLVM::LLVMDialect>();
  OpBuilder b(module.getBodyRegion());
  std::string bytes = text.str();
  bytes.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(IntegerType::get(module.getContext(), 8),
                                       bytes.size());
  LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true,
                         LLVM::Linkage::External, kGraphInfoSymbol,
                         b.getStringAttr(bytes));
}

} // namespace magicpig_compile
