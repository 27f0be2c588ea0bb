//===- Sparsify.cpp - The magicpig-sparsify pass --------------------------===//
//
// Rewrites exact decode attention into the MagicPIG graph (hash, retrieve,
// estimate, window attention, merge) and adds the index build after prefill
// attention. The per-layer index crosses from prefill to decode through the
// function signatures (docs/ABI.md): prefill functions gain results, decode
// functions gain arguments, four per sparse layer in layer order.
//
//===----------------------------------------------------------------------===//

#include "AppendedKV.h"

#include "magicpig/Transforms/Passes.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "magicpig/Transforms/GaussianProjection.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGSPARSIFY
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

std::string mlir::magicpig::checkSparsifyOptions(
    const MagicPIGSparsifyOptions &options) {
  auto rule = [](StringRef option, const Twine &rule, int64_t got) {
    return ("option '" + option + "' " + rule + ", got " + Twine(got)).str();
  };
  if (options.lshBits < 1 || options.lshBits > 16)
    return rule("lsh-bits", "must be in [1, 16]", options.lshBits);
  if (options.lshTables < 1)
    return rule("lsh-tables", "must be >= 1", options.lshTables);
  if (options.minCollisions < 1 || options.minCollisions > options.lshTables)
    return rule("min-collisions",
                "must be in [1, lsh-tables = " + Twine(options.lshTables) + "]",
                options.minCollisions);
  if (options.sinkTokens < 0)
    return rule("sink-tokens", "must be >= 0", options.sinkTokens);
  if (options.windowTokens < 0)
    return rule("window-tokens", "must be >= 0", options.windowTokens);
  if (options.maxCandidates < 0)
    return rule("max-candidates", "must be >= 0", options.maxCandidates);
  bool keepNoneDense =
      options.denseLayers.size() == 1 && options.denseLayers[0] == -1;
  for (int64_t layer : options.denseLayers)
    if (layer < 0 && !keepNoneDense)
      return rule("dense-layers",
                  "must name layers >= 0 (or be -1 alone to keep none dense)",
                  layer);
  return "";
}

namespace {

/// Parameters of the rewrite, validated once per run.
struct SparsifyParams {
  int64_t bits, tables, minCollisions, sink, window, maxCandidates;
  uint64_t seed;
};

/// The layer number of an attention op: its `magicpig.layer` attribute, or
/// its position among the function's attention ops.
int64_t layerOf(AttentionOp op, int64_t position) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(kLayerAttrName))
    return attr.getInt();
  return position;
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

/// The shape of the index of one layer, as the decode side declares it:
/// prefill length dynamic, everything else from the key type.
struct IndexTypes {
  RankedTensorType offsets, indices, norms, mean;
};

IndexTypes indexTypesFor(MLIRContext *ctx, ShapedType key,
                         const SparsifyParams &p) {
  int64_t b = key.getDimSize(0), h = key.getDimSize(1), d = key.getDimSize(3);
  Type i32 = IntegerType::get(ctx, 32), f32 = Float32Type::get(ctx);
  int64_t dyn = ShapedType::kDynamic;
  return {RankedTensorType::get({b, h, p.tables, (int64_t(1) << p.bits) + 1},
                                i32),
          RankedTensorType::get({b, h, p.tables, dyn}, i32),
          RankedTensorType::get({b, h, dyn}, f32),
          RankedTensorType::get({b, h, d}, f32)};
}

/// The largest SimHash projection (f32 elements) materialized: 64M, far
/// above real models (head dim 128 x K*L = 16 * 1000 is 2M).
constexpr int64_t kMaxProjectionElements = int64_t(1) << 26;

/// The SimHash projection as a constant; prefill and decode rebuild the
/// same values from the same seed.
Value projectionConstant(OpBuilder &b, Location loc, int64_t headDim,
                         const SparsifyParams &p) {
  std::vector<float> values =
      gaussianProjection(headDim, p.bits * p.tables, p.seed);
  auto type =
      RankedTensorType::get({headDim, p.bits * p.tables}, b.getF32Type());
  auto attr = DenseElementsAttr::get(type, ArrayRef<float>(values));
  return arith::ConstantOp::create(b, loc, type, attr);
}

/// Builds the index of one prefill attention after it and returns
/// (offsets, indices, norms, mean).
SmallVector<Value> buildIndex(OpBuilder &b, AttentionOp op,
                              const SparsifyParams &p) {
  Location loc = op.getLoc();
  Value key = op.getKey();
  auto keyType = cast<ShapedType>(key.getType());
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  SmallVector<OpFoldResult> kSizes = tensor::getMixedSizes(b, loc, key);
  OpFoldResult B = kSizes[0], H = kSizes[1], N = kSizes[2], D = kSizes[3];
  OpFoldResult L = b.getIndexAttr(p.tables);

  Value centeredInit = emptyTensor(b, loc, kSizes, f32);
  Value meanInit = emptyTensor(b, loc, {B, H, D}, f32);
  auto center = CenterKeysOp::create(
      b, loc, TypeRange{RankedTensorType::get(keyType.getShape(), f32),
                        RankedTensorType::get({keyType.getDimSize(0),
                                               keyType.getDimSize(1),
                                               keyType.getDimSize(3)},
                                              f32)},
      key, centeredInit, meanInit,
      b.getI64IntegerAttr(p.sink), b.getI64IntegerAttr(p.window));
  Value centered = center.getResult(0), mean = center.getResult(1);

  Value normsInit = emptyTensor(b, loc, {B, H, N}, f32);
  auto norms = KeyNormsOp::create(b, loc, TypeRange{normsInit.getType()},
                                  centered, normsInit);

  Value projection = projectionConstant(b, loc, keyType.getDimSize(3), p);
  Value codesInit = emptyTensor(b, loc, {B, H, N, L}, i32);
  auto codes = SimHashOp::create(
      b, loc, TypeRange{codesInit.getType()}, centered, projection, codesInit,
      b.getI32IntegerAttr(p.bits), b.getI32IntegerAttr(p.tables));

  Value offsetsInit = emptyTensor(
      b, loc, {B, H, L, b.getIndexAttr((int64_t(1) << p.bits) + 1)}, i32);
  Value indicesInit = emptyTensor(b, loc, {B, H, L, N}, i32);
  auto tables = BuildTablesOp::create(
      b, loc, TypeRange{offsetsInit.getType(), indicesInit.getType()},
      codes.getResult(0), offsetsInit, indicesInit,
      b.getI32IntegerAttr(p.bits), b.getI64IntegerAttr(p.sink),
      b.getI64IntegerAttr(p.window));
  return {tables.getResult(0), tables.getResult(1), norms.getResult(0), mean};
}

/// `[B]` i64: sink + offsets[b, 0, 0, 2^K], the first token of each
/// sequence's window (build_tables hashes the tokens [sink, Np - window),
/// so the last offset of a table counts them).
static Value batchWindowStarts(OpBuilder &b, Location loc, Value offsets,
                               OpFoldResult batch, const SparsifyParams &p) {
  Type i64 = b.getI64Type();
  int64_t last = int64_t(1) << p.bits;
  SmallVector<OpFoldResult> offsetsAt = {b.getIndexAttr(0), b.getIndexAttr(0),
                                         b.getIndexAttr(0),
                                         b.getIndexAttr(last)};
  SmallVector<OpFoldResult> sizes = {batch, b.getIndexAttr(1),
                                     b.getIndexAttr(1), b.getIndexAttr(1)};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  auto sliceType = RankedTensorType::get(
      {cast<ShapedType>(offsets.getType()).getDimSize(0)},
      cast<ShapedType>(offsets.getType()).getElementType());
  Value counts = tensor::ExtractSliceOp::create(b, loc, sliceType, offsets,
                                                offsetsAt, sizes, strides);
  Value init = emptyTensor(b, loc, {batch}, i64);
  AffineMap identity = b.getMultiDimIdentityMap(1);
  auto starts = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{counts}, ValueRange{init},
      ArrayRef<AffineMap>{identity, identity},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value count = arith::ExtSIOp::create(nb, nloc, i64, args[0]);
        Value sink = arith::ConstantIntOp::create(nb, nloc, i64, p.sink);
        Value start = arith::AddIOp::create(nb, nloc, count, sink);
        linalg::YieldOp::create(nb, nloc, start);
      });
  return starts.getResult(0);
}

/// Replaces one decode attention with the sampled graph, reading the index
/// from `state` = (offsets, indices, norms, mean). Returns the retrieve
/// count `[B, Hq]` i32.
Value sparsifyDecode(OpBuilder &b, AttentionOp op, ValueRange state,
                    const SparsifyParams &p) {
  Location loc = op.getLoc();
  Value offsets = state[0], indices = state[1], norms = state[2],
        mean = state[3];
  Value query = op.getQuery(), key = op.getKey(), value = op.getValue();
  // When the step appends its new rows to the cache (a concat), the
  // estimate and the window read the cache in place and the appended rows
  // are attended apart (AppendedKV.h). This relies on the cache holding at
  // least the prefill (docs/ABI.md): the sampled indices are prefill rows,
  // and the window start is within the cache, so every appended row is in
  // the window.
  std::optional<AppendedKV> appended = matchAppendedKV(key, value);
  if (appended) {
    key = appended->cacheKey;
    value = appended->cacheValue;
  }
  auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
  query = decodeQuery(b, op);
  auto qType = cast<ShapedType>(query.getType());
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  SmallVector<OpFoldResult> qSizes = tensor::getMixedSizes(b, loc, query);
  OpFoldResult B = qSizes[0], Hq = qSizes[1];
  OpFoldResult Dv = tensor::getMixedSize(b, loc, value, 3);

  Value projection = projectionConstant(b, loc, qType.getDimSize(2), p);
  Value codesInit = emptyTensor(b, loc, {B, Hq, b.getIndexAttr(p.tables)}, i32);
  auto codes = SimHashOp::create(
      b, loc, TypeRange{codesInit.getType()}, query, projection, codesInit,
      b.getI32IntegerAttr(p.bits), b.getI32IntegerAttr(p.tables));

  Value prefillLength = tensor::DimOp::create(b, loc, indices, 3);
  OpFoldResult capacity = p.maxCandidates > 0
                              ? OpFoldResult(b.getIndexAttr(p.maxCandidates))
                              : OpFoldResult(prefillLength);
  Value candInit = emptyTensor(b, loc, {B, Hq, capacity}, i32);
  Value countInit = emptyTensor(b, loc, {B, Hq}, i32);
  auto retrieved = RetrieveOp::create(
      b, loc, TypeRange{candInit.getType(), countInit.getType()},
      codes.getResult(0), offsets, indices, candInit, countInit,
      b.getI32IntegerAttr(p.bits), b.getI32IntegerAttr(p.minCollisions));

  Value outInit = emptyTensor(b, loc, {B, Hq, Dv}, f32);
  Value lseInit = emptyTensor(b, loc, {B, Hq}, f32);
  SmallVector<Type> partialTypes{outInit.getType(), lseInit.getType()};
  auto sampled = EstimateOp::create(
      b, loc, partialTypes, query, key, value, norms, mean,
      retrieved.getResult(0), retrieved.getResult(1), outInit, lseInit,
      b.getI32IntegerAttr(p.bits), b.getI32IntegerAttr(p.tables),
      b.getI32IntegerAttr(p.minCollisions), op.getScaleAttr());

  // Tokens hashed at prefill end at Np - window; the rest is the window.
  // One op per statement: the order of nested arguments is the compiler's.
  Value window = arith::ConstantIndexOp::create(b, loc, p.window);
  Value hashedEnd = arith::SubIOp::create(b, loc, prefillLength, window);
  Value sink = arith::ConstantIndexOp::create(b, loc, p.sink);
  Value windowStart = arith::MaxSIOp::create(b, loc, hashedEnd, sink);
  // In a padded batch each sequence has its own prefill length, and the
  // index buffers are padded to the longest: the window of sequence b
  // starts at sink + its count of hashed tokens (offsets[b, 0, 0, 2^K]),
  // and its keys end at its length.
  Value keyLengths = op.getKeyLengths(), windowStarts;
  if (keyLengths) {
    windowStart = sink;
    windowStarts = batchWindowStarts(b, loc, offsets, B, p);
  }
  Value windowOutInit = emptyTensor(b, loc, {B, Hq, Dv}, f32);
  Value windowLseInit = emptyTensor(b, loc, {B, Hq}, f32);
  auto windowed = WindowAttentionOp::create(
      b, loc, partialTypes, query, key, value, windowStart, windowOutInit,
      windowLseInit, b.getI64IntegerAttr(p.sink), op.getScaleAttr(),
      keyLengths, windowStarts);

  std::pair<Value, Value> sampledPart{sampled.getResult(0),
                                      sampled.getResult(1)};
  std::pair<Value, Value> windowPart{windowed.getResult(0),
                                     windowed.getResult(1)};
  Type resultElement = resultType.getElementType();
  Value result;
  if (appended) {
    auto cachePart = mergePartials(b, loc, sampledPart, windowPart, f32);
    auto appendedPart =
        attendWithLse(b, loc, query, appended->appendedKey,
                      appended->appendedValue, op.getScaleAttr());
    result =
        mergePartials(b, loc, cachePart, appendedPart, resultElement).first;
  } else {
    result =
        mergePartials(b, loc, sampledPart, windowPart, resultElement).first;
  }
  replaceDecodeAttention(b, op, result);
  return retrieved.getResult(1);
}

struct MagicPIGSparsifyPass
    : magicpig::impl::MagicPIGSparsifyBase<MagicPIGSparsifyPass> {
  using Base::Base;

  LogicalResult validate(ModuleOp module) {
    MagicPIGSparsifyOptions options;
    options.lshBits = lshBits;
    options.lshTables = lshTables;
    options.minCollisions = minCollisions;
    options.sinkTokens = sinkTokens;
    options.windowTokens = windowTokens;
    options.denseLayers.assign(denseLayers.begin(), denseLayers.end());
    options.maxCandidates = maxCandidates;
    std::string error = checkSparsifyOptions(options);
    if (!error.empty())
      return module.emitError() << "magicpig-sparsify: " << error;
    return success();
  }

  /// Dense layers: the option, or the first and middle layer of models with
  /// at least three attention layers (DESIGN.md section 2).
  FailureOr<llvm::DenseSet<int64_t>> denseLayerSet(ModuleOp module,
                                                   int64_t numLayers) {
    llvm::DenseSet<int64_t> dense;
    if (denseLayers.empty()) {
      if (numLayers >= 3)
      {
        dense.insert(0);
        dense.insert(numLayers / 2);
      }
      return dense;
    }
    if (denseLayers.size() == 1 && denseLayers[0] == -1)
      return dense;
    for (int64_t layer : denseLayers) {
      if (layer >= numLayers) // checkSparsifyOptions rejected the rest.
        return module.emitError()
               << "magicpig-sparsify: option 'dense-layers' names layer "
               << layer << " but the module has " << numLayers
               << " attention layers (use -1 alone to keep none dense)";
      dense.insert(layer);
    }
    return dense;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(validate(module)))
      return signalPassFailure();
    SparsifyParams params{lshBits,      lshTables,     minCollisions,
                          sinkTokens,   windowTokens,  maxCandidates,
                          seed};

    // Attention ops per function, in program order, with their layers.
    SmallVector<std::pair<func::FuncOp, SmallVector<std::pair<int64_t, AttentionOp>>>>
        work;
    int64_t numLayers = 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      SmallVector<std::pair<int64_t, AttentionOp>> ops;
      func.walk([&](AttentionOp op) {
        ops.push_back({layerOf(op, ops.size()), op});
      });
      for (auto &[layer, op] : ops)
        numLayers = std::max(numLayers, layer + 1);
      if (!ops.empty())
        work.push_back({func, std::move(ops)});
    }
    FailureOr<llvm::DenseSet<int64_t>> dense = denseLayerSet(module, numLayers);
    if (failed(dense))
      return signalPassFailure();

    SymbolTableCollection symbols;
    SymbolUserMap users(symbols, module);
    for (auto &[func, ops] : work) {
      // Layer order; program order breaks ties (ops is in program order).
      SmallVector<std::pair<int64_t, AttentionOp>> ordered(ops);
      SmallVector<size_t> order(ops.size());
      for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
      llvm::sort(order, [&ordered](size_t a, size_t b) {
        return std::make_pair(ordered[a].first, a) <
               std::make_pair(ordered[b].first, b);
      });
      for (size_t i = 0; i < order.size(); ++i)
        ops[i] = ordered[order[i]];
      llvm::erase_if(ops, [&](auto &entry) { return dense->contains(entry.first); });
      // A sliding window already bounds the layer's cost by W keys, and the
      // sample would not know the window: the layer stays exact.
      llvm::erase_if(ops, [&](auto &entry) {
        std::optional<int64_t> w = entry.second.getWindow();
        if (w)
          entry.second.emitRemark()
              << "magicpig-sparsify: layer " << entry.first
              << " keeps exact attention: it attends to a sliding window of "
              << *w << " keys";
        return w.has_value();
      });
      if (ops.empty())
        continue;
      if (!users.getUsers(func).empty()) {
        func.emitError() << "magicpig-sparsify: cannot thread the index "
                            "through calls to '"
                         << func.getSymName()
                         << "'; sparsify entry points only";
        return signalPassFailure();
      }
      if (failed(rewriteFunction(func, ops, params)))
        return signalPassFailure();
    }
  }

  LogicalResult
  rewriteFunction(func::FuncOp func,
                  ArrayRef<std::pair<int64_t, AttentionOp>> ops,
                  const SparsifyParams &p) {
    OpBuilder b(func.getContext());
    SmallVector<Value> prefillState, counts;
    SmallVector<int64_t> prefillLayers;
    for (auto [layer, op] : ops) {
      auto keyType = cast<ShapedType>(op.getKey().getType());
      if (keyType.isDynamicDim(3))
        return op.emitError("magicpig-sparsify: the head dim must be static "
                            "to build the SimHash projection");
      if (!isa<RankedTensorType>(keyType))
        return op.emitError("magicpig-sparsify: expects tensor semantics");
      int64_t headDim = keyType.getDimSize(3);
      if (p.tables > kMaxProjectionElements / p.bits ||
          headDim > kMaxProjectionElements / (p.bits * p.tables))
        return op.emitError()
               << "magicpig-sparsify: the SimHash projection [head dim "
               << headDim << ", lsh-bits * lsh-tables] = [" << headDim << ", "
               << p.bits << " * " << p.tables << "] exceeds "
               << kMaxProjectionElements << " elements";
      // The padding of a batch lies between each sequence's cache and its
      // own key; only the split form (cache, appended rows) separates them.
      if (op.getKeyLengths() &&
          !matchAppendedKV(op.getKey(), op.getValue()))
        return op.emitError(
            "magicpig-sparsify: a decode attention with 'lengths' must read "
            "its keys and values as tensor.concat(cache, appended rows)");
      if (isDecodeAttention(op)) {
        IndexTypes types = indexTypesFor(func.getContext(), keyType, p);
        SmallVector<Value> state;
        for (Type t : {types.offsets, types.indices, types.norms, types.mean}) {
          unsigned index = func.getNumArguments();
          if (failed(func.insertArgument(index, t, layerAttr(b, layer),
                                         op.getLoc())))
            return failure();
          state.push_back(func.getArgument(index));
        }
        b.setInsertionPoint(op);
        counts.push_back(sparsifyDecode(b, op, state, p));
      } else {
        b.setInsertionPointAfter(op);
        llvm::append_range(prefillState, buildIndex(b, op, p));
        prefillLayers.append(4, layer);
      }
    }
    // Prefill: the index leaves through extra results of every return;
    // decode, with return-counts, its retrieve counts.
    if (failed(appendResults(func, prefillState, prefillLayers,
                             "prefill attention")))
      return failure();
    if (returnCounts && failed(appendResults(func, counts, /*layers=*/{},
                                             "sampled decode attention")))
      return failure();
    return success();
  }

  /// Marks an index argument or result with its layer, so that a caller
  /// (magicpig-compile) can check that prefill returns what decode takes.
  static DictionaryAttr layerAttr(OpBuilder &b, int64_t layer) {
    return b.getDictionaryAttr(
        b.getNamedAttr(kLayerAttrName, b.getI64IntegerAttr(layer)));
  }

  /// Appends `values` to every return of `func`; `layers`, when not empty,
  /// gives the layer of each.
  LogicalResult appendResults(func::FuncOp func, ArrayRef<Value> values,
                              ArrayRef<int64_t> layers, StringRef what) {
    if (values.empty())
      return success();
    OpBuilder b(func.getContext());
    unsigned first = func.getNumResults();
    for (auto [i, v] : llvm::enumerate(values))
      if (failed(func.insertResult(
              first + i, v.getType(),
              layers.empty() ? DictionaryAttr() : layerAttr(b, layers[i]))))
        return failure();
    for (auto ret : llvm::make_early_inc_range(func.getOps<func::ReturnOp>())) {
      if (!llvm::all_of(values, [&](Value v) {
            return v.getParentBlock() == ret->getBlock();
          }))
        return ret.emitError("magicpig-sparsify: ")
               << what << " must be in the block that returns";
      ret.getOperandsMutable().append(values);
    }
    return success();
  }
};

} // namespace
