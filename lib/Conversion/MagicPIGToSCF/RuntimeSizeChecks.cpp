//===- RuntimeSizeChecks.cpp - Run-time checks of dynamic sizes -----------===//
//
// The rules mirror the verifiers (MagicPIGOps.cpp), each rule with a
// dynamic size becoming a cf.assert. convert-cf-to-llvm lowers a failed
// assert to printing its message and calling abort.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSizeChecks.h"
#include "LoweringUtils.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::magicpig;

namespace {
/// Builds the asserts of one op; each rule is skipped when all its sizes
/// are static.
class SizeChecks {
public:
  SizeChecks(ImplicitLocOpBuilder &b, Operation *op)
      : b(b), opName(op->getName().getStringRef()) {}

  /// Dimension `da` of `a` equals dimension `db` of `b`.
  void sameDim(StringRef what, StringRef aName, Value a, int64_t da,
               StringRef bName, Value bValue, int64_t db) {
    if (isStatic(a, da) && isStatic(bValue, db))
      return;
    Value sizeA = dimSize(b, a, da);
    Value sizeB = dimSize(b, bValue, db);
    check(arith::CmpIPredicate::eq, sizeA, sizeB,
          what + " mismatch between '" + aName + "' and '" + bName + "'");
  }

  /// Dimensions 0 (batch) and 1 (`heads`) of `a` and `b` agree.
  void sameBatchAndHeads(StringRef heads, StringRef aName, Value a,
                         StringRef bName, Value bValue) {
    sameDim("batch", aName, a, 0, bName, bValue, 0);
    sameDim(heads, aName, a, 1, bName, bValue, 1);
  }

  /// Dimension `d` of `v` is `expected`.
  void dimIs(StringRef what, StringRef name, Value v, int64_t d,
             int64_t expected) {
    if (isStatic(v, d))
      return;
    Value size = dimSize(b, v, d);
    Value expectedSize = constantIndex(b, expected);
    check(arith::CmpIPredicate::eq, size, expectedSize,
          "'" + name + "' " + what + " must be " + Twine(expected));
  }

  /// Dimension `da` of `a` does not exceed dimension `db` of `b`.
  void notLonger(const Twine &message, Value a, int64_t da, Value bValue,
                 int64_t db) {
    if (isStatic(a, da) && isStatic(bValue, db))
      return;
    Value sizeA = dimSize(b, a, da);
    Value sizeB = dimSize(b, bValue, db);
    check(arith::CmpIPredicate::ule, sizeA, sizeB, message);
  }

  /// The query heads (dim 1 of `q`) are a multiple of the kv heads (dim 1
  /// of `k`), which are at least one: Hq < Hkv fails too, unless Hq = 0.
  void headGroups(StringRef qName, Value q, StringRef kName, Value k) {
    if (isStatic(q, 1) && isStatic(k, 1))
      return;
    Value zero = constantIndex(b, 0);
    Value hq = dimSize(b, q, 1), hkv = dimSize(b, k, 1);
    Value some =
        arith::CmpIOp::create(b, arith::CmpIPredicate::ne, hkv, zero);
    // The remainder is taken by max(Hkv, 1): never a division by zero.
    Value rest = b.createOrFold<arith::RemUIOp>(
        hq, maxIndex(b, hkv, constantIndex(b, 1)));
    Value whole =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, rest, zero);
    assertThat(arith::AndIOp::create(b, some, whole),
               "query heads of '" + qName +
                   "' must be a multiple of the kv heads of '" + kName + "'");
  }

private:
  static bool isStatic(Value v, int64_t d) {
    return !cast<ShapedType>(v.getType()).isDynamicDim(d);
  }

  void check(arith::CmpIPredicate predicate, Value lhs, Value rhs,
             const Twine &message) {
    assertThat(arith::CmpIOp::create(b, predicate, lhs, rhs), message);
  }

  void assertThat(Value condition, const Twine &message) {
    cf::AssertOp::create(b, condition, (opName + ": " + message).str());
  }

  ImplicitLocOpBuilder &b;
  StringRef opName;
};
} // namespace

/// Query, key and value of attention and window_attention.
static void checkQueryKeyValue(SizeChecks &c, Value q, Value k, Value v) {
  c.sameDim("batch", "query", q, 0, "key", k, 0);
  c.sameBatchAndHeads("kv heads", "key", k, "value", v);
  c.sameDim("sequence length", "key", k, 2, "value", v, 2);
  c.headGroups("query", q, "key", k);
  int64_t qHeadDim = cast<ShapedType>(q.getType()).getRank() - 1;
  c.sameDim("head dim", "query", q, qHeadDim, "key", k, 3);
}

static void checkOutput(SizeChecks &c, Value q, Value v, Value out) {
  int64_t rank = cast<ShapedType>(out.getType()).getRank();
  c.sameBatchAndHeads("query heads", "query", q, "output", out);
  c.sameDim("value head dim", "value", v, 3, "output", out, rank - 1);
}

static void check(SizeChecks &c, AttentionOp op) {
  Value q = op.getQuery(), k = op.getKey(), out = op.getOutput();
  checkQueryKeyValue(c, q, k, op.getValue());
  checkOutput(c, q, op.getValue(), out);
  if (Value lengths = op.getKeyLengths())
    c.sameDim("batch", "query", q, 0, "lengths", lengths, 0);
  if (!op.hasQueryLength())
    return;
  c.sameDim("query length", "query", q, 2, "output", out, 2);
  if (op.getCausal())
    c.notLonger("causal attention needs at least as many keys as queries", q,
                2, k, 2);
}

static void check(SizeChecks &c, WindowAttentionOp op) {
  Value q = op.getQuery(), out = op.getOutput();
  checkQueryKeyValue(c, q, op.getKey(), op.getValue());
  checkOutput(c, q, op.getValue(), out);
  c.sameBatchAndHeads("query heads", "output", out, "lse", op.getLse());
  if (Value lengths = op.getKeyLengths())
    c.sameDim("batch", "query", q, 0, "lengths", lengths, 0);
  if (Value starts = op.getWindowStarts())
    c.sameDim("batch", "query", q, 0, "starts", starts, 0);
}

static void check(SizeChecks &c, MergeOp op) {
  Value oa = op.getOutputA();
  for (int64_t d = 0; d < 3; ++d) {
    c.sameDim("output shape", "output_a", oa, d, "output_b", op.getOutputB(),
              d);
    c.sameDim("output shape", "output_a", oa, d, "output", op.getOutput(), d);
  }
  for (int64_t d = 0; d < 2; ++d) {
    c.sameDim("lse shape", "output_a", oa, d, "lse_a", op.getLseA(), d);
    c.sameDim("lse shape", "output_a", oa, d, "lse_b", op.getLseB(), d);
    c.sameDim("lse shape", "output_a", oa, d, "lse", op.getLse(), d);
  }
}

static void check(SizeChecks &c, KeyNormsOp op) {
  Value k = op.getKey(), norms = op.getNorms();
  c.sameBatchAndHeads("kv heads", "key", k, "norms", norms);
  c.sameDim("sequence length", "key", k, 2, "norms", norms, 2);
}

static void check(SizeChecks &c, CenterKeysOp op) {
  Value k = op.getKey(), centered = op.getCentered(), mean = op.getMean();
  c.sameBatchAndHeads("kv heads", "key", k, "centered", centered);
  c.sameDim("sequence length", "key", k, 2, "centered", centered, 2);
  c.sameDim("head dim", "key", k, 3, "centered", centered, 3);
  c.sameBatchAndHeads("kv heads", "key", k, "mean", mean);
  c.sameDim("head dim", "key", k, 3, "mean", mean, 2);
}

static void check(SizeChecks &c, SimHashOp op) {
  Value x = op.getInput(), p = op.getProjection(), codes = op.getCodes();
  int64_t rank = cast<ShapedType>(x.getType()).getRank();
  for (int64_t i = 0; i + 1 < rank; ++i)
    c.sameDim("leading dim " + std::to_string(i), "input", x, i, "codes",
              codes, i);
  c.sameDim("head dim", "input", x, rank - 1, "projection", p, 0);
  c.dimIs("dim 1 (K * L)", "projection", p, 1,
          int64_t(op.getLshBits()) * op.getLshTables());
  c.dimIs("last dim (L)", "codes", codes, rank - 1, op.getLshTables());
}

static void check(SizeChecks &c, BuildTablesOp op) {
  Value codes = op.getCodes(), offsets = op.getOffsets(),
        indices = op.getIndices();
  c.sameBatchAndHeads("kv heads", "codes", codes, "offsets", offsets);
  c.sameDim("tables", "codes", codes, 3, "offsets", offsets, 2);
  c.dimIs("last dim (2^K + 1)", "offsets", offsets, 3,
          (int64_t(1) << op.getLshBits()) + 1);
  c.sameBatchAndHeads("kv heads", "codes", codes, "indices", indices);
  c.sameDim("tables", "codes", codes, 3, "indices", indices, 2);
  c.sameDim("sequence length", "codes", codes, 2, "indices", indices, 3);
}

void mlir::magicpig::buildRuntimeSizeChecks(ImplicitLocOpBuilder &b,
                                            Operation *op) {
  SizeChecks c(b, op);
  llvm::TypeSwitch<Operation *>(op)
      .Case<AttentionOp, WindowAttentionOp, MergeOp, KeyNormsOp, CenterKeysOp,
            SimHashOp, BuildTablesOp>([&](auto op) { check(c, op); });
}
