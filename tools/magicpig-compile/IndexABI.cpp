//===- IndexABI.cpp - Prefill and decode agree on the MagicPIG index ------===//

#include "IndexABI.h"

#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace magicpig_compile {
namespace {

/// The index buffers one entry point returns (prefill) or takes (decode),
/// in signature order.
struct IndexSide {
  func::FuncOp func;
  SmallVector<int64_t> layers; // one per buffer
  SmallVector<Type> types;
  SmallVector<Location> locs; // decode: the layer's attention

  /// The layer of the `group`-th group of four buffers.
  int64_t layerOfGroup(size_t group) const { return layers[4 * group]; }
  size_t groups() const { return layers.size() / 4; }
};

constexpr StringLiteral kBufferNames[] = {"offsets", "indices", "norms",
                                          "mean"};

std::optional<int64_t> layerOf(DictionaryAttr attrs) {
  if (auto layer = dyn_cast_or_null<IntegerAttr>(
          attrs ? attrs.get(mlir::magicpig::kLayerAttrName) : Attribute()))
    return layer.getInt();
  return std::nullopt;
}

IndexSide returnedIndex(func::FuncOp func) {
  IndexSide side{func, {}, {}, {}};
  for (auto [i, type] : llvm::enumerate(func.getResultTypes()))
    if (std::optional<int64_t> layer = layerOf(func.getResultAttrDict(i))) {
      side.layers.push_back(*layer);
      side.types.push_back(type);
      side.locs.push_back(func.getLoc());
    }
  return side;
}

IndexSide takenIndex(func::FuncOp func) {
  IndexSide side{func, {}, {}, {}};
  for (BlockArgument arg : func.getArguments())
    if (std::optional<int64_t> layer =
            layerOf(func.getArgAttrDict(arg.getArgNumber()))) {
      side.layers.push_back(*layer);
      side.types.push_back(arg.getType());
      side.locs.push_back(arg.getLoc());
    }
  return side;
}

bool compatible(Type a, Type b) {
  return getElementTypeOrSelf(a) == getElementTypeOrSelf(b) &&
         succeeded(verifyCompatibleShape(a, b));
}

LogicalResult verifyPair(const IndexSide &prefill, const IndexSide &decode) {
  // Op handles are cheap copies; their accessors are not const.
  func::FuncOp prefillFunc = prefill.func, decodeFunc = decode.func;
  StringRef p = prefillFunc.getSymName(), d = decodeFunc.getSymName();
  for (size_t g = 0;; ++g) {
    bool inPrefill = g < prefill.groups(), inDecode = g < decode.groups();
    if (!inPrefill && !inDecode)
      return success();
    // Both sides list their layers in increasing order: the smaller of the
    // two at the first difference is the one the other side lacks.
    if (inDecode && (!inPrefill || decode.layerOfGroup(g) <
                                       prefill.layerOfGroup(g)))
      return emitError(decode.locs[4 * g])
             << "magicpig-compile: '" << d
             << "' takes the MagicPIG index of layer " << decode.layerOfGroup(g)
             << ", which '" << p
             << "' does not return (its attention there was not raised, or "
                "is dense)";
    if (!inDecode || prefill.layerOfGroup(g) < decode.layerOfGroup(g))
      return emitError(prefillFunc.getLoc())
             << "magicpig-compile: '" << p
             << "' returns the MagicPIG index of layer "
             << prefill.layerOfGroup(g) << ", which '" << d
             << "' does not take (its attention there was not raised, or is "
                "dense)";
    for (size_t i = 4 * g; i < 4 * g + 4; ++i)
      if (!compatible(prefill.types[i], decode.types[i]))
        return emitError(decode.locs[i])
               << "magicpig-compile: layer " << decode.layers[i] << ": '" << d
               << "' takes the index buffer '" << kBufferNames[i % 4]
               << "' as " << decode.types[i] << ", but '" << p
               << "' returns " << prefill.types[i];
  }
}

} // namespace

int64_t countIndexedLayers(ModuleOp module) {
  llvm::SmallSetVector<int64_t, 32> layers;
  for (auto func : module.getOps<func::FuncOp>()) {
    IndexSide returned = returnedIndex(func), taken = takenIndex(func);
    layers.insert(returned.layers.begin(), returned.layers.end());
    layers.insert(taken.layers.begin(), taken.layers.end());
  }
  return layers.size();
}

LogicalResult verifyIndexABI(ModuleOp module) {
  SmallVector<IndexSide> prefills, decodes;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    IndexSide returned = returnedIndex(func), taken = takenIndex(func);
    if (!returned.layers.empty() || func.getSymName() == "prefill")
      prefills.push_back(std::move(returned));
    if (!taken.layers.empty() || func.getSymName() == "decode")
      decodes.push_back(std::move(taken));
  }
  for (const IndexSide &prefill : prefills)
    for (const IndexSide &decode : decodes)
      if (prefill.func != decode.func &&
          failed(verifyPair(prefill, decode)))
        return failure();
  return success();
}

} // namespace magicpig_compile
