//===- RowContractions.cpp - Register-blocked many-row contractions ------===//
//
// C[b, i, j] += sum_k A[b, i, k] * W[j, k] over many rows i (a prefill's
// projections) as parallel, cache- and register-blocked vector loops
// (Passes.td, magicpig-lower-row-contractions).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "magicpig/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGLOWERROWCONTRACTIONS
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

namespace {
/// Rows of A per parallel task and rows of W per cache block.
constexpr int64_t kRowBlock = 64;
constexpr int64_t kWeightBlock = 64;
/// Rows of W in a register block.
constexpr int64_t kColumns = 4;

/// A matched contraction: `batch` leading dims shared by A and C.
struct RowContraction {
  Operation *op;
  Value a, w, c;
  int64_t batch;
  int64_t n, k;
};
} // namespace

static bool hasUnitInnerStride(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

static bool isReassociable(Operation *op) {
  auto fm = dyn_cast<arith::ArithFastMathInterface>(op);
  return fm && bitEnumContainsAll(fm.getFastMathFlagsAttr().getValue(),
                                  arith::FastMathFlags::reassoc);
}

/// out + in0 * in1 (either order of the add), both reassociable; in1 may be
/// read through an arith.extf (a bf16 weight, magicpig-narrow-weights).
static bool isMultiplyAccumulate(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add || !isReassociable(add))
    return false;
  Value out = body.getArgument(2);
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  if (add.getLhs() != out && add.getRhs() != out)
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || !isReassociable(mul))
    return false;
  Value x = body.getArgument(0), y = body.getArgument(1);
  size_t ops = 3;
  for (Operation *user : y.getUsers())
    if (auto widen = dyn_cast<arith::ExtFOp>(user)) {
      y = widen.getOut();
      ops = 4;
    }
  if (body.getOperations().size() != ops)
    return false;
  return (mul.getLhs() == x && mul.getRhs() == y) ||
         (mul.getLhs() == y && mul.getRhs() == x);
}

static std::optional<RowContraction> match(linalg::GenericOp op,
                                           int64_t width, int64_t minRows) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  int64_t loops = op.getNumLoops();
  if (loops != 3 && loops != 4)
    return std::nullopt;
  int64_t batch = loops - 3;
  auto iterators = op.getIteratorTypesArray();
  for (int64_t d = 0; d < loops - 1; ++d)
    if (iterators[d] != utils::IteratorType::parallel)
      return std::nullopt;
  if (iterators.back() != utils::IteratorType::reduction)
    return std::nullopt;

  // A: (batch, i, k); W: (j, k); C: (batch, i, j).
  MLIRContext *ctx = op.getContext();
  auto dims = [&](ArrayRef<int64_t> positions) {
    SmallVector<AffineExpr> exprs;
    for (int64_t p : positions)
      exprs.push_back(getAffineDimExpr(p, ctx));
    return AffineMap::get(loops, 0, exprs, ctx);
  };
  int64_t i = batch, j = batch + 1, k = batch + 2;
  SmallVector<int64_t> aDims, cDims;
  for (int64_t d = 0; d < batch; ++d) {
    aDims.push_back(d);
    cDims.push_back(d);
  }
  aDims.append({i, k});
  cDims.append({i, j});
  auto maps = op.getIndexingMapsArray();
  if (maps[0] != dims(aDims) || maps[1] != dims({j, k}) ||
      maps[2] != dims(cDims) || !isMultiplyAccumulate(op))
    return std::nullopt;

  RowContraction m{op.getOperation(), op.getDpsInputs()[0], op.getDpsInputs()[1],
                   op.getDpsInits()[0], batch, 0, 0};
  auto aType = cast<MemRefType>(m.a.getType());
  auto wType = cast<MemRefType>(m.w.getType());
  auto cType = cast<MemRefType>(m.c.getType());
  Type wElement = wType.getElementType();
  if (!aType.getElementType().isF32() ||
      !(wElement.isF32() || wElement.isBF16()) ||
      !cType.getElementType().isF32() || !wType.hasStaticShape())
    return std::nullopt;
  m.n = wType.getDimSize(0);
  m.k = wType.getDimSize(1);
  int64_t rows = cType.getDimSize(batch);
  if (m.k % width != 0 || m.n % kColumns != 0 ||
      (!ShapedType::isDynamic(rows) && rows < minRows) ||
      !hasUnitInnerStride(m.a) || !hasUnitInnerStride(m.w) ||
      !hasUnitInnerStride(m.c))
    return std::nullopt;
  return m;
}

/// C[lead, row0 + r, col0 + c] += sum_k A[lead, row0 + r, k] * W[col0 + c, k]
/// for r < rows, c < kColumns: rows x kColumns vector accumulators.
static void buildRegisterBlock(ImplicitLocOpBuilder &b,
                               const RowContraction &m, ValueRange lead,
                               Value row0, Value col0, int64_t rows,
                               int64_t width) {
  auto vectorType = VectorType::get({width}, b.getF32Type());
  Value zero = splatF32(b, width, constantF32(b, 0.0f));
  SmallVector<Value> init(rows * kColumns, zero);
  auto index = [&](ValueRange prefix, Value a, Value c) {
    SmallVector<Value> indices(prefix);
    indices.append({a, c});
    return indices;
  };
  SmallVector<Value> rowIndex, colIndex;
  for (int64_t r = 0; r < rows; ++r)
    rowIndex.push_back(addIndex(b, row0, constantIndex(b, r)));
  for (int64_t c = 0; c < kColumns; ++c)
    colIndex.push_back(addIndex(b, col0, constantIndex(b, c)));

  // A bf16 weight is widened as it is loaded.
  Type wElement = cast<MemRefType>(m.w.getType()).getElementType();
  Value kBegin = constantIndex(b, 0);
  Value kEnd = constantIndex(b, m.k);
  Value kStep = constantIndex(b, width);
  SmallVector<Value> sums = buildFor(
      b, kBegin, kEnd, kStep, init,
      [&](ImplicitLocOpBuilder &b, Value kk, ValueRange acc) {
        SmallVector<Value> w;
        for (int64_t c = 0; c < kColumns; ++c) {
          Value row = vector::LoadOp::create(
              b, VectorType::get({width}, wElement), m.w,
              ValueRange{colIndex[c], kk});
          w.push_back(wElement.isF32()
                          ? row
                          : arith::ExtFOp::create(b, vectorType, row));
        }
        SmallVector<Value> next;
        for (int64_t r = 0; r < rows; ++r) {
          Value x = vector::LoadOp::create(b, vectorType, m.a,
                                           index(lead, rowIndex[r], kk));
          for (int64_t c = 0; c < kColumns; ++c)
            next.push_back(
                vector::FMAOp::create(b, x, w[c], acc[r * kColumns + c]));
        }
        return next;
      });

  auto blockType = VectorType::get({kColumns}, b.getF32Type());
  for (int64_t r = 0; r < rows; ++r) {
    Value dots = buildTransposedSums(
        b, ArrayRef<Value>(sums).slice(r * kColumns, kColumns));
    SmallVector<Value> at = index(lead, rowIndex[r], col0);
    Value old = vector::LoadOp::create(b, blockType, m.c, at);
    vector::StoreOp::create(b, arith::AddFOp::create(b, old, dots), m.c, at);
  }
}

/// Rows [row0, row1) of A against every row of W, blocked for the caches.
static void buildRowBlock(ImplicitLocOpBuilder &b, const RowContraction &m,
                          ValueRange lead, Value row0, Value row1,
                          int64_t width) {
  int64_t blockRows = width >= 16 ? 4 : 2;
  Value count = subIndex(b, row1, row0);
  Value rowsPerBlock = constantIndex(b, blockRows);
  Value fullBlocks = b.createOrFold<arith::DivUIOp>(count, rowsPerBlock);
  Value blockEnd = addIndex(b, row0, mulIndex(b, fullBlocks, rowsPerBlock));
  Value n = constantIndex(b, m.n);
  Value columns = constantIndex(b, kColumns);
  Value colBegin = constantIndex(b, 0);
  Value colStep = constantIndex(b, kWeightBlock);
  buildFor(b, colBegin, n, colStep, {},
           [&](ImplicitLocOpBuilder &b, Value col0, ValueRange) {
             Value colEnd =
                 minIndex(b, addIndex(b, col0, constantIndex(b, kWeightBlock)),
                          n);
             auto sweep = [&](Value from, Value to, int64_t rows) {
               buildFor(
                   b, from, to, constantIndex(b, rows), {},
                   [&](ImplicitLocOpBuilder &b, Value row, ValueRange) {
                     buildFor(b, col0, colEnd, columns, {},
                              [&](ImplicitLocOpBuilder &b, Value col,
                                  ValueRange) {
                                buildRegisterBlock(b, m, lead, row, col, rows,
                                                   width);
                                return SmallVector<Value>{};
                              });
                     return SmallVector<Value>{};
                   });
             };
             sweep(row0, blockEnd, blockRows);
             sweep(blockEnd, row1, 1);
             return SmallVector<Value>{};
           });
}

/// The loops of `m` (its a, w, c values) at the builder's position.
static void buildContraction(ImplicitLocOpBuilder &b, const RowContraction &m,
                             int64_t width, bool nested) {
  auto rowsOf = [&](ImplicitLocOpBuilder &b, ValueRange lead) {
    Value rows = dimSize(b, m.c, m.batch);
    Value blockSize = constantIndex(b, kRowBlock);
    auto block = [&](ImplicitLocOpBuilder &b, Value index) {
      Value row0 = mulIndex(b, index, blockSize);
      Value row1 = minIndex(b, addIndex(b, row0, blockSize), rows);
      buildRowBlock(b, m, lead, row0, row1, width);
    };
    Value blocks = ceilDivIndex(b, rows, blockSize);
    // Nested OpenMP regions would oversubscribe the cores.
    if (nested) {
      Value begin = constantIndex(b, 0);
      Value step = constantIndex(b, 1);
      buildFor(b, begin, blocks, step, {},
               [&](ImplicitLocOpBuilder &b, Value index, ValueRange) {
                 block(b, index);
                 return SmallVector<Value>{};
               });
      return;
    }
    buildParallel(b, blocks, [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
      block(b, ivs[0]);
    });
  };
  if (m.batch == 0) {
    rowsOf(b, {});
    return;
  }
  Value leadBegin = constantIndex(b, 0);
  Value leadEnd = dimSize(b, m.c, 0);
  Value leadStep = constantIndex(b, 1);
  buildFor(b, leadBegin, leadEnd, leadStep, {},
           [&](ImplicitLocOpBuilder &b, Value lead, ValueRange) {
             rowsOf(b, lead);
             return SmallVector<Value>{};
           });
}

/// `shape` with every size but the innermost dynamic, and dynamic strides
/// but a unit innermost one: the type every operand of one shape casts to.
static MemRefType generalType(MemRefType type, bool keepSizes) {
  SmallVector<int64_t> shape(type.getShape());
  if (!keepSizes)
    for (int64_t d = 0; d + 1 < type.getRank(); ++d)
      shape[d] = ShapedType::kDynamic;
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  strides.back() = 1;
  return MemRefType::get(
      shape, type.getElementType(),
      StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides));
}

namespace {
/// One private function per contraction shape (batch rank, N, K, nested):
/// the loops are compiled once however many layers share the shape.
class ContractionFunctions {
public:
  ContractionFunctions(ModuleOp module, int64_t width)
      : module(module), width(width) {}

  void replace(const RowContraction &m) {
    Operation *op = m.op;
    bool nested = op->getParentOfType<scf::ParallelOp>() ||
                  op->getParentOfType<scf::ForallOp>();
    SmallVector<Type> types = {
        generalType(cast<MemRefType>(m.a.getType()), false),
        generalType(cast<MemRefType>(m.w.getType()), true),
        generalType(cast<MemRefType>(m.c.getType()), false)};
    func::FuncOp callee = get(m, types, nested);
    OpBuilder b(op);
    SmallVector<Value> operands;
    SmallVector<Value> values = {m.a, m.w, m.c};
    for (auto [value, type] : llvm::zip(values, types))
      operands.push_back(
          value.getType() == type
              ? value
              : memref::CastOp::create(b, op->getLoc(), type, value));
    func::CallOp::create(b, op->getLoc(), callee, operands);
    op->erase();
  }

private:
  func::FuncOp get(const RowContraction &m, ArrayRef<Type> types,
                   bool nested) {
    std::string name = "__magicpig_row_contraction_b" +
                       std::to_string(m.batch) + "_n" + std::to_string(m.n) +
                       "_k" + std::to_string(m.k) +
                       (cast<MemRefType>(m.w.getType()).getElementType().isBF16()
                            ? "_bf16"
                            : "") +
                       (nested ? "_serial" : "");
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto func = func::FuncOp::create(b, m.op->getLoc(), name,
                                     b.getFunctionType(types, {}));
    func.setPrivate();
    Block *entry = func.addEntryBlock();
    ImplicitLocOpBuilder body =
        ImplicitLocOpBuilder::atBlockBegin(m.op->getLoc(), entry);
    RowContraction args = m;
    args.a = entry->getArgument(0);
    args.w = entry->getArgument(1);
    args.c = entry->getArgument(2);
    buildContraction(body, args, width, nested);
    func::ReturnOp::create(body);
    return func;
  }

  ModuleOp module;
  int64_t width;
};
} // namespace

namespace {
struct LowerRowContractionsPass
    : magicpig::impl::MagicPIGLowerRowContractionsBase<
          LowerRowContractionsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (vectorWidth < 4 || vectorWidth > kMaxVectorWidth ||
        !llvm::isPowerOf2_64(vectorWidth)) {
      getOperation()->emitError("magicpig-lower-row-contractions: "
                                "vector-width must be a power of two in [4, 64]");
      return signalPassFailure();
    }
    SmallVector<RowContraction> matches;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (auto m = match(op, vectorWidth, minRows))
        matches.push_back(*m);
    });
    ContractionFunctions functions(getOperation(), vectorWidth);
    for (const RowContraction &m : matches)
      functions.replace(m);
  }
};
} // namespace
