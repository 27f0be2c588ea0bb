//===- MagicPIGOps.cpp - MagicPIG operations ------------------------------===//
//
// Verifiers and memory effects of the MagicPIG ops. Every rule on shapes,
// element types and attributes has its own diagnostic naming the operand or
// attribute at fault, so a bad op produced by a pass or written by hand is
// reported at its location instead of failing later in a lowering.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::magicpig;

namespace {
/// Checks shared by the op verifiers. Each check emits its own diagnostic
/// on the op and returns failure, so verifiers chain them with `failed()`.
class Checker {
public:
  explicit Checker(Operation *op) : op(op) {}

  static ShapedType shaped(Value v) { return cast<ShapedType>(v.getType()); }

  /// Tensor and memref operands may not be mixed in one op.
  LogicalResult sameSemantics() {
    bool anyTensor = false, anyMemRef = false;
    for (Value v : op->getOperands()) {
      anyTensor |= isa<RankedTensorType>(v.getType());
      anyMemRef |= isa<MemRefType>(v.getType());
    }
    if (anyTensor && anyMemRef)
      return op->emitOpError(
          "operands must be all ranked tensors or all memrefs, not a mix");
    return success();
  }

  /// The static sizes of each operand must span at most 2^63 - 1 bytes: the
  /// lowerings compute element offsets and byte sizes in 64-bit index
  /// arithmetic, which a larger operand would overflow (and no target can
  /// address it). Dynamic sizes count as 1.
  LogicalResult
  addressable(std::initializer_list<std::pair<StringRef, Value>> operands) {
    for (auto [name, v] : operands) {
      ShapedType type = shaped(v);
      Type element = type.getElementType();
      int64_t bytes = element.isIntOrFloat()
                          ? llvm::divideCeil(element.getIntOrFloatBitWidth(), 8)
                          : 8;
      if (llvm::is_contained(type.getShape(), 0))
        continue;
      bool overflow = false;
      for (int64_t size : type.getShape())
        if (!ShapedType::isDynamic(size))
          overflow |= llvm::MulOverflow(bytes, size, bytes);
      if (overflow)
        return op->emitOpError()
               << "'" << name << "' of type " << v.getType()
               << " spans more than 2^63 - 1 bytes, which the target cannot "
                  "address";
    }
    return success();
  }

  LogicalResult rank(StringRef name, Value v, int64_t expected,
                     StringRef layout) {
    int64_t r = shaped(v).getRank();
    if (r != expected)
      return op->emitOpError() << "'" << name << "' must have rank "
                               << expected << " (" << layout << "), got rank "
                               << r;
    return success();
  }

  /// Dimension `da` of `a` must equal dimension `db` of `b` when both are
  /// static; `what` names the dimension's role.
  LogicalResult sameDim(StringRef what, StringRef aName, Value a, int64_t da,
                        StringRef bName, Value b, int64_t db) {
    int64_t x = shaped(a).getDimSize(da), y = shaped(b).getDimSize(db);
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
      return op->emitOpError()
             << what << " mismatch: '" << aName << "' has " << x << " but '"
             << bName << "' has " << y;
    return success();
  }

  /// `a` and `b` must agree on the batch (dim 0) and on the heads (dim 1),
  /// whose role `heads` names ("query heads" or "kv heads").
  LogicalResult sameBatchAndHeads(StringRef heads, StringRef aName, Value a,
                                  StringRef bName, Value b) {
    return failure(failed(sameDim("batch", aName, a, 0, bName, b, 0)) ||
                   failed(sameDim(heads, aName, a, 1, bName, b, 1)));
  }

  /// Dimension `da` of `a` must not exceed dimension `db` of `b` when both
  /// are static.
  LogicalResult notLonger(StringRef what, StringRef aName, Value a, int64_t da,
                          StringRef bName, Value b, int64_t db) {
    int64_t x = shaped(a).getDimSize(da), y = shaped(b).getDimSize(db);
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x > y)
      return op->emitOpError() << what << " of '" << aName << "' (" << x
                               << ") must not exceed the length of '" << bName
                               << "' (" << y << ")";
    return success();
  }

  /// Dimension `d` of `v` must be `expected` when static.
  LogicalResult dimIs(StringRef what, StringRef name, Value v, int64_t d,
                      int64_t expected) {
    int64_t x = shaped(v).getDimSize(d);
    if (!ShapedType::isDynamic(x) && x != expected)
      return op->emitOpError() << "'" << name << "' " << what << " must be "
                               << expected << ", got " << x;
    return success();
  }

  LogicalResult floatElement(StringRef name, Value v) {
    Type t = shaped(v).getElementType();
    if (!t.isF32() && !t.isF16() && !t.isBF16())
      return op->emitOpError() << "'" << name
                               << "' element type must be f32, f16 or bf16, "
                                  "got "
                               << t;
    return success();
  }

  LogicalResult f32Element(StringRef name, Value v) {
    Type t = shaped(v).getElementType();
    if (!t.isF32())
      return op->emitOpError()
             << "'" << name << "' element type must be f32, got " << t;
    return success();
  }

  LogicalResult indexElement(StringRef name, Value v) {
    Type t = shaped(v).getElementType();
    if (!t.isSignlessInteger(32) && !t.isSignlessInteger(64))
      return op->emitOpError()
             << "'" << name << "' element type must be i32 or i64, got " << t;
    return success();
  }

  /// Codes hold K-bit integers: any signless integer of at least K bits.
  LogicalResult codeElement(StringRef name, Value v, int64_t bits) {
    Type t = shaped(v).getElementType();
    auto it = dyn_cast<IntegerType>(t);
    if (!it || !it.isSignless() || it.getWidth() < bits || it.getWidth() > 64)
      return op->emitOpError()
             << "'" << name << "' element type must be a signless integer of "
             << bits << " to 64 bits to hold " << bits << "-bit codes, got "
             << t;
    return success();
  }

  LogicalResult sameElement(StringRef aName, Value a, StringRef bName,
                            Value b) {
    Type x = shaped(a).getElementType(), y = shaped(b).getElementType();
    if (x != y)
      return op->emitOpError() << "'" << aName << "' and '" << bName
                               << "' must have the same element type, got "
                               << x << " and " << y;
    return success();
  }

  LogicalResult lshBits(int64_t k) {
    if (k < 1 || k > 16)
      return op->emitOpError() << "'lsh_bits' must be in [1, 16], got " << k;
    return success();
  }

  LogicalResult lshTables(int64_t l) {
    if (l < 1)
      return op->emitOpError() << "'lsh_tables' must be >= 1, got " << l;
    return success();
  }

  /// The threshold must lie in [1, L]; L is checked only when static.
  LogicalResult minCollisions(int64_t t, int64_t l) {
    if (t < 1)
      return op->emitOpError() << "'min_collisions' must be >= 1, got " << t;
    if (!ShapedType::isDynamic(l) && t > l)
      return op->emitOpError() << "'min_collisions' (" << t
                               << ") must not exceed the number of tables ("
                               << l << ")";
    return success();
  }

  LogicalResult nonNegative(StringRef name, int64_t v) {
    if (v < 0)
      return op->emitOpError() << "'" << name << "' must be >= 0, got " << v;
    return success();
  }

  LogicalResult positiveScale(float s) {
    if (!(s > 0.0f) || !std::isfinite(s))
      return op->emitOpError()
             << "'scale' must be positive and finite, got " << s;
    return success();
  }

  /// Query heads are grouped onto kv heads: Hq must be a multiple of Hkv.
  LogicalResult headGroups(StringRef qName, Value q, StringRef kName,
                           Value k) {
    int64_t hq = shaped(q).getDimSize(1), hkv = shaped(k).getDimSize(1);
    if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv))
      return success();
    if (hkv == 0 || hq % hkv != 0)
      return op->emitOpError()
             << "query heads of '" << qName << "' (" << hq
             << ") must be a multiple of the kv heads of '" << kName << "' ("
             << hkv << ")";
    return success();
  }

private:
  Operation *op;
};
} // namespace

/// Memref operands of a destination-style op: inputs are read, inits are
/// read and written. The tensor form has no memory effects.
static void
getDpsEffects(DestinationStyleOpInterface op,
              SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                  &effects) {
  for (OpOperand *operand : op.getDpsInputOperands()) {
    if (!isa<MemRefType>(operand->get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), operand, /*stage=*/0,
                         /*effectOnFullRegion=*/true,
                         SideEffects::DefaultResource::get());
  }
  for (OpOperand &operand : op.getDpsInitsMutable()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand, /*stage=*/0,
                         /*effectOnFullRegion=*/true,
                         SideEffects::DefaultResource::get());
    effects.emplace_back(MemoryEffects::Write::get(), &operand, /*stage=*/0,
                         /*effectOnFullRegion=*/true,
                         SideEffects::DefaultResource::get());
  }
}

#define MAGICPIG_DPS_EFFECTS(OP)                                               \
  void OP::getEffects(                                                         \
      SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>      \
          &effects) {                                                          \
    getDpsEffects(cast<DestinationStyleOpInterface>(getOperation()), effects); \
  }
MAGICPIG_DPS_EFFECTS(AttentionOp)
MAGICPIG_DPS_EFFECTS(CenterKeysOp)
MAGICPIG_DPS_EFFECTS(KeyNormsOp)
MAGICPIG_DPS_EFFECTS(SimHashOp)
MAGICPIG_DPS_EFFECTS(BuildTablesOp)
MAGICPIG_DPS_EFFECTS(RetrieveOp)
MAGICPIG_DPS_EFFECTS(EstimateOp)
MAGICPIG_DPS_EFFECTS(WindowAttentionOp)
MAGICPIG_DPS_EFFECTS(MergeOp)
#undef MAGICPIG_DPS_EFFECTS

static constexpr StringLiteral kQLayout = "[B, Hq, d]";
static constexpr StringLiteral kKLayout = "[B, Hkv, N, d]";
static constexpr StringLiteral kVLayout = "[B, Hkv, N, dv]";
static constexpr StringLiteral kOutLayout = "[B, Hq, dv]";
static constexpr StringLiteral kLseLayout = "[B, Hq]";

/// Rules shared by the ops that attend a query to a K/V cache: ranks, batch,
/// head grouping, head dims and element types of query, key and value.
static LogicalResult verifyQueryKeyValue(Checker &c, Value q, Value k,
                                         Value v) {
  if (failed(c.rank("key", k, 4, kKLayout)) ||
      failed(c.rank("value", v, 4, kVLayout)) ||
      failed(c.floatElement("query", q)) || failed(c.floatElement("key", k)) ||
      failed(c.sameElement("key", k, "value", v)) ||
      failed(c.sameDim("batch", "query", q, 0, "key", k, 0)) ||
      failed(c.sameBatchAndHeads("kv heads", "key", k, "value", v)) ||
      failed(c.sameDim("sequence length", "key", k, 2, "value", v, 2)) ||
      failed(c.headGroups("query", q, "key", k)))
    return failure();
  int64_t qHeadDim = Checker::shaped(q).getRank() - 1;
  return c.sameDim("head dim", "query", q, qHeadDim, "key", k, 3);
}

/// Rules for an `[B, Hq, dv]` output with its `[B, Hq]` f32 log-sum-exp.
static LogicalResult verifyOutputAndLse(Checker &c, Value q, Value v,
                                        Value out, Value lse) {
  return failure(
      failed(c.rank("output", out, 3, kOutLayout)) ||
      failed(c.rank("lse", lse, 2, kLseLayout)) ||
      failed(c.floatElement("output", out)) ||
      failed(c.f32Element("lse", lse)) ||
      failed(c.sameBatchAndHeads("query heads", "query", q, "output", out)) ||
      failed(c.sameDim("value head dim", "value", v, 3, "output", out, 2)) ||
      failed(c.sameBatchAndHeads("query heads", "output", out, "lse", lse)));
}

/// A per-sequence operand of a padded batch: `[B]` i32 or i64, B the
/// query's batch.
static LogicalResult verifySequenceLengths(Checker &c, StringRef name,
                                           Value v, Value q) {
  return failure(failed(c.addressable({{name, v}})) ||
                 failed(c.rank(name, v, 1, "[B]")) ||
                 failed(c.indexElement(name, v)) ||
                 failed(c.sameDim("batch", "query", q, 0, name, v, 0)));
}

LogicalResult AttentionOp::verify() {
  Checker c(*this);
  Value q = getQuery(), k = getKey(), v = getValue(), out = getOutput();
  int64_t qRank = Checker::shaped(q).getRank();
  if (qRank != 3 && qRank != 4)
    return emitOpError() << "'query' must have rank 3 ([B, Hq, d]) or 4 "
                            "([B, Hq, S, d]), got rank "
                         << qRank;
  if (failed(c.sameSemantics()) ||
      failed(c.addressable(
          {{"query", q}, {"key", k}, {"value", v}, {"output", out}})) ||
      failed(c.positiveScale(getScale().convertToFloat())) ||
      failed(verifyQueryKeyValue(c, q, k, v)) ||
      failed(c.rank("output", out, qRank,
                    qRank == 3 ? "[B, Hq, dv]" : "[B, Hq, S, dv]")) ||
      failed(c.floatElement("output", out)) ||
      failed(c.sameBatchAndHeads("query heads", "query", q, "output", out)) ||
      failed(c.sameDim("value head dim", "value", v, 3, "output", out,
                       qRank - 1)))
    return failure();
  if (qRank == 4 &&
      failed(c.sameDim("query length", "query", q, 2, "output", out, 2)))
    return failure();
  if (std::optional<int64_t> window = getWindow()) {
    if (*window < 1)
      return emitOpError() << "'window' must be at least 1 (the query sees "
                              "itself), got "
                           << *window;
    // A window is the last W positions up to the query; without `causal`
    // the later keys of a [B, Hq, S, d] query would have no meaning.
    if (qRank == 4 && !getCausal())
      return emitOpError() << "'window' on a [B, Hq, S, d] query needs "
                              "'causal' (the window ends at the query's own "
                              "position)";
  }
  if (Value lengths = getKeyLengths()) {
    if (qRank == 4 && Checker::shaped(q).getDimSize(2) != 1)
      return emitOpError() << "'lengths' needs a decode query ([B, Hq, d] or "
                              "[B, Hq, 1, d])";
    if (failed(verifySequenceLengths(c, "lengths", lengths, q)))
      return failure();
  }
  if (getCausal() && qRank == 4) {
    int64_t s = Checker::shaped(q).getDimSize(2);
    int64_t n = Checker::shaped(k).getDimSize(2);
    if (!ShapedType::isDynamic(s) && !ShapedType::isDynamic(n) && s > n)
      return emitOpError() << "causal attention needs at least as many keys ("
                           << n << ") as queries (" << s << ")";
  }
  return success();
}

LogicalResult CenterKeysOp::verify() {
  Checker c(*this);
  Value k = getKey(), centered = getCentered(), mean = getMean();
  return failure(
      failed(c.sameSemantics()) ||
      failed(c.addressable(
          {{"key", k}, {"centered", centered}, {"mean", mean}})) ||
      failed(c.nonNegative("sink_tokens", getSinkTokens())) ||
      failed(c.nonNegative("window_tokens", getWindowTokens())) ||
      failed(c.rank("key", k, 4, kKLayout)) ||
      failed(c.rank("centered", centered, 4, kKLayout)) ||
      failed(c.rank("mean", mean, 3, "[B, Hkv, d]")) ||
      failed(c.floatElement("key", k)) ||
      failed(c.floatElement("centered", centered)) ||
      failed(c.f32Element("mean", mean)) ||
      failed(c.sameBatchAndHeads("kv heads", "key", k, "centered", centered)) ||
      failed(c.sameDim("sequence length", "key", k, 2, "centered", centered,
                       2)) ||
      failed(c.sameDim("head dim", "key", k, 3, "centered", centered, 3)) ||
      failed(c.sameBatchAndHeads("kv heads", "key", k, "mean", mean)) ||
      failed(c.sameDim("head dim", "key", k, 3, "mean", mean, 2)));
}

LogicalResult KeyNormsOp::verify() {
  Checker c(*this);
  Value k = getKey(), norms = getNorms();
  return failure(
      failed(c.sameSemantics()) ||
      failed(c.addressable({{"key", k}, {"norms", norms}})) ||
      failed(c.rank("key", k, 4, kKLayout)) ||
      failed(c.rank("norms", norms, 3, "[B, Hkv, N]")) ||
      failed(c.floatElement("key", k)) ||
      failed(c.f32Element("norms", norms)) ||
      failed(c.sameBatchAndHeads("kv heads", "key", k, "norms", norms)) ||
      failed(c.sameDim("sequence length", "key", k, 2, "norms", norms, 2)));
}

LogicalResult SimHashOp::verify() {
  Checker c(*this);
  Value x = getInput(), p = getProjection(), codes = getCodes();
  int64_t bits = getLshBitsAttr().getInt(), tables = getLshTablesAttr().getInt();
  if (failed(c.sameSemantics()) ||
      failed(c.addressable(
          {{"input", x}, {"projection", p}, {"codes", codes}})) ||
      failed(c.lshBits(bits)) ||
      failed(c.lshTables(tables)) || failed(c.floatElement("input", x)) ||
      failed(c.f32Element("projection", p)) ||
      failed(c.codeElement("codes", codes, bits)) ||
      failed(c.rank("projection", p, 2, "[d, K * L]")))
    return failure();
  int64_t rank = Checker::shaped(x).getRank();
  if (rank < 2)
    return emitOpError() << "'input' must have rank >= 2 ([..., d]), got rank "
                         << rank;
  if (failed(c.rank("codes", codes, rank, "[..., L], the rank of 'input'")))
    return failure();
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (failed(c.sameDim("leading dim " + std::to_string(i), "input", x, i,
                         "codes", codes, i)))
      return failure();
  return failure(
      failed(c.sameDim("head dim", "input", x, rank - 1, "projection", p, 0)) ||
      failed(c.dimIs("dim 1 (K * L)", "projection", p, 1, bits * tables)) ||
      failed(c.dimIs("last dim (L)", "codes", codes, rank - 1, tables)));
}

LogicalResult BuildTablesOp::verify() {
  Checker c(*this);
  Value codes = getCodes(), offsets = getOffsets(), indices = getIndices();
  int64_t bits = getLshBitsAttr().getInt();
  return failure(
      failed(c.sameSemantics()) ||
      failed(c.addressable(
          {{"codes", codes}, {"offsets", offsets}, {"indices", indices}})) ||
      failed(c.lshBits(bits)) ||
      failed(c.nonNegative("sink_tokens", getSinkTokens())) ||
      failed(c.nonNegative("window_tokens", getWindowTokens())) ||
      failed(c.rank("codes", codes, 4, "[B, Hkv, N, L]")) ||
      failed(c.rank("offsets", offsets, 4, "[B, Hkv, L, 2^K + 1]")) ||
      failed(c.rank("indices", indices, 4, "[B, Hkv, L, N]")) ||
      failed(c.codeElement("codes", codes, bits)) ||
      failed(c.indexElement("offsets", offsets)) ||
      failed(c.indexElement("indices", indices)) ||
      failed(c.sameBatchAndHeads("kv heads", "codes", codes,
                                 "offsets", offsets)) ||
      failed(c.sameDim("tables", "codes", codes, 3, "offsets", offsets, 2)) ||
      failed(c.dimIs("last dim (2^K + 1)", "offsets", offsets, 3,
                     (int64_t(1) << bits) + 1)) ||
      failed(c.sameBatchAndHeads("kv heads", "codes", codes,
                                 "indices", indices)) ||
      failed(c.sameDim("tables", "codes", codes, 3, "indices", indices, 2)) ||
      failed(c.sameDim("sequence length", "codes", codes, 2, "indices",
                       indices, 3)));
}

/// Rules shared by retrieve and estimate on the candidate list and counts.
static LogicalResult verifyCandidates(Checker &c, StringRef qName, Value q,
                                      Value cand, Value counts) {
  return failure(
      failed(c.rank("candidates", cand, 3, "[B, Hq, C]")) ||
      failed(c.rank("counts", counts, 2, "[B, Hq]")) ||
      failed(c.indexElement("candidates", cand)) ||
      failed(c.indexElement("counts", counts)) ||
      failed(c.sameBatchAndHeads("query heads", qName, q,
                                 "candidates", cand)) ||
      failed(c.sameBatchAndHeads("query heads", qName, q, "counts", counts)));
}

LogicalResult RetrieveOp::verify() {
  Checker c(*this);
  Value qc = getQueryCodes(), offsets = getOffsets(), indices = getIndices();
  int64_t bits = getLshBitsAttr().getInt();
  if (failed(c.sameSemantics()) ||
      failed(c.addressable({{"query_codes", qc},
                            {"offsets", offsets},
                            {"indices", indices},
                            {"candidates", getCandidates()},
                            {"counts", getCounts()}})) ||
      failed(c.lshBits(bits)) ||
      failed(c.rank("query_codes", qc, 3, "[B, Hq, L]")) ||
      failed(c.rank("offsets", offsets, 4, "[B, Hkv, L, 2^K + 1]")) ||
      failed(c.rank("indices", indices, 4, "[B, Hkv, L, N]")) ||
      failed(c.minCollisions(getMinCollisionsAttr().getInt(),
                             Checker::shaped(qc).getDimSize(2))) ||
      failed(c.codeElement("query_codes", qc, bits)) ||
      failed(c.indexElement("offsets", offsets)) ||
      failed(c.indexElement("indices", indices)) ||
      failed(c.sameDim("batch", "query_codes", qc, 0, "offsets", offsets, 0)) ||
      failed(c.headGroups("query_codes", qc, "offsets", offsets)) ||
      failed(c.sameDim("tables", "query_codes", qc, 2, "offsets", offsets,
                       2)) ||
      failed(c.dimIs("last dim (2^K + 1)", "offsets", offsets, 3,
                     (int64_t(1) << bits) + 1)) ||
      failed(c.sameBatchAndHeads("kv heads", "offsets", offsets,
                                 "indices", indices)) ||
      failed(c.sameDim("tables", "offsets", offsets, 2, "indices", indices,
                       2)))
    return failure();
  return verifyCandidates(c, "query_codes", qc, getCandidates(), getCounts());
}

LogicalResult EstimateOp::verify() {
  Checker c(*this);
  Value q = getQuery(), k = getKey(), v = getValue(), norms = getKeyNorms();
  Value mean = getKeyMean();
  return failure(
      failed(c.sameSemantics()) ||
      failed(c.addressable({{"query", q},
                            {"key", k},
                            {"value", v},
                            {"key_norms", norms},
                            {"key_mean", mean},
                            {"candidates", getCandidates()},
                            {"counts", getCounts()},
                            {"output", getOutput()},
                            {"lse", getLse()}})) ||
      failed(c.lshBits(getLshBitsAttr().getInt())) ||
      failed(c.lshTables(getLshTablesAttr().getInt())) ||
      failed(c.minCollisions(getMinCollisionsAttr().getInt(), getLshTablesAttr().getInt())) ||
      failed(c.positiveScale(getScale().convertToFloat())) ||
      failed(c.rank("query", q, 3, kQLayout)) ||
      failed(verifyQueryKeyValue(c, q, k, v)) ||
      failed(c.rank("key_norms", norms, 3, "[B, Hkv, N]")) ||
      failed(c.f32Element("key_norms", norms)) ||
      failed(c.sameBatchAndHeads("kv heads", "key", k, "key_norms", norms)) ||
      failed(c.notLonger("indexed length", "key_norms", norms, 2, "key", k,
                         2)) ||
      failed(c.rank("key_mean", mean, 3, "[B, Hkv, d]")) ||
      failed(c.f32Element("key_mean", mean)) ||
      failed(c.sameBatchAndHeads("kv heads", "key", k, "key_mean", mean)) ||
      failed(c.sameDim("head dim", "key", k, 3, "key_mean", mean, 2)) ||
      failed(verifyCandidates(c, "query", q, getCandidates(), getCounts())) ||
      failed(verifyOutputAndLse(c, q, v, getOutput(), getLse())));
}

LogicalResult WindowAttentionOp::verify() {
  Checker c(*this);
  Value q = getQuery(), k = getKey(), v = getValue();
  Value lengths = getKeyLengths(), starts = getWindowStarts();
  return failure(
      (lengths && failed(verifySequenceLengths(c, "lengths", lengths, q))) ||
      (starts && failed(verifySequenceLengths(c, "starts", starts, q))) ||
      failed(c.sameSemantics()) ||
      failed(c.addressable({{"query", q},
                            {"key", k},
                            {"value", v},
                            {"output", getOutput()},
                            {"lse", getLse()}})) ||
      failed(c.nonNegative("sink_tokens", getSinkTokens())) ||
      failed(c.positiveScale(getScale().convertToFloat())) ||
      failed(c.rank("query", q, 3, kQLayout)) ||
      failed(verifyQueryKeyValue(c, q, k, v)) ||
      failed(verifyOutputAndLse(c, q, v, getOutput(), getLse())));
}

LogicalResult MergeOp::verify() {
  Checker c(*this);
  Value oa = getOutputA(), la = getLseA(), ob = getOutputB(), lb = getLseB();
  Value out = getOutput(), lse = getLse();
  if (failed(c.sameSemantics()) ||
      failed(c.addressable({{"output_a", oa},
                            {"lse_a", la},
                            {"output_b", ob},
                            {"lse_b", lb},
                            {"output", out},
                            {"lse", lse}})))
    return failure();
  for (auto [name, v] : {std::pair<StringRef, Value>{"output_a", oa},
                         {"output_b", ob},
                         {"output", out}})
    if (failed(c.rank(name, v, 3, kOutLayout)) ||
        failed(c.floatElement(name, v)))
      return failure();
  for (auto [name, v] : {std::pair<StringRef, Value>{"lse_a", la},
                         {"lse_b", lb},
                         {"lse", lse}})
    if (failed(c.rank(name, v, 2, kLseLayout)) || failed(c.f32Element(name, v)))
      return failure();
  for (int64_t d = 0; d < 3; ++d) {
    if (failed(c.sameDim("output shape", "output_a", oa, d, "output_b", ob,
                         d)) ||
        failed(c.sameDim("output shape", "output_a", oa, d, "output", out, d)))
      return failure();
  }
  for (int64_t d = 0; d < 2; ++d) {
    if (failed(c.sameDim("lse shape", "output_a", oa, d, "lse_a", la, d)) ||
        failed(c.sameDim("lse shape", "output_a", oa, d, "lse_b", lb, d)) ||
        failed(c.sameDim("lse shape", "output_a", oa, d, "lse", lse, d)))
      return failure();
  }
  return success();
}

#define GET_OP_CLASSES
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.cpp.inc"
