//===- HashLowering.cpp - simhash and build_tables to loops ---------------===//
//
// simhash: a register-blocked product of a tile of rows with the projection,
// then the signs of each table's K columns packed into a code.
// build_tables: a counting sort of the offloaded tokens per (b, g, table).
// Both are scf.parallel loops (OpenMP after convert-scf-to-openmp) over
// independent work items, with vector code along the projection columns.
//
//===----------------------------------------------------------------------===//

#include "HashSamplingUtils.h"
#include "LoweringUtils.h"

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::magicpig;

namespace {

//===----------------------------------------------------------------------===//
// simhash
//===----------------------------------------------------------------------===//

/// Rows hashed together: each projection vector loaded from memory is
/// reused for all of them.
constexpr int64_t kRowsPerTile = 4;
/// Projection vectors per tile. kRowsPerTile * kVectorsPerTile = 8 vector
/// accumulators, plus the loads, fit the 16 registers of AVX2 (AVX-512 has
/// 32), so the inner loop is FMAs on registers only.
constexpr int64_t kVectorsPerTile = 2;

/// Multi-dimensional index of the linear row `row` of a row-major box with
/// dimensions `dims` (the leading dimensions of the input).
static SmallVector<Value> delinearize(ImplicitLocOpBuilder &b, Value row,
                                      ArrayRef<Value> dims) {
  SmallVector<Value> indices(dims.size());
  for (int64_t i = dims.size() - 1; i > 0; --i) {
    indices[i] = b.createOrFold<arith::RemUIOp>(row, dims[i]);
    row = b.createOrFold<arith::DivUIOp>(row, dims[i]);
  }
  indices[0] = row;
  return indices;
}

struct SimHashLowering : OpRewritePattern<SimHashOp> {
  SimHashLowering(MLIRContext *context, const LoweringOptions &options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(SimHashOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasOnlyMemRefOperands(op))
      return rewriter.notifyMatchFailure(
          op, "expects memref operands (bufferize first)");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value projection = op.getProjection();
    int64_t columns = int64_t(op.getLshBits()) * op.getLshTables();

    // The kernel reads K * L projection columns; a dynamic projection width
    // is checked at run time and a mismatch leaves the codes untouched.
    auto projectionType = cast<MemRefType>(projection.getType());
    if (!projectionType.isDynamicDim(1)) {
      buildKernel(b, op);
    } else {
      Value matches = arith::CmpIOp::create(
          b, arith::CmpIPredicate::eq, dimSize(b, projection, 1),
          constantIndex(b, columns));
      scf::IfOp::create(b, matches, [&](OpBuilder &nested, Location loc) {
        ImplicitLocOpBuilder ib(loc, nested);
        buildKernel(ib, op);
        scf::YieldOp::create(ib);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }

  /// Parallel over tiles of kRowsPerTile rows (the leading dimensions of
  /// the input, linearized). Per tile:
  ///   1. copy the rows to an f32 scratch (any input type, any layout);
  ///   2. for each group of kVectorsPerTile * width projection columns,
  ///      acc[r, c] = sum_i x[r, i] * P[i, c] with the accumulators in
  ///      registers across the loop over i, stored to a scratch row;
  ///   3. per table l, code = sum_i [acc[r, l*K + i] > 0] << i, as a
  ///      select of the K lanes against {1, 2, 4, ...} and a reduction.
  void buildKernel(ImplicitLocOpBuilder &b, SimHashOp op) const {
    Value input = op.getInput(), projection = op.getProjection(),
          codes = op.getCodes();
    int64_t bits = op.getLshBits(), tables = op.getLshTables();
    int64_t columns = bits * tables;
    int64_t width = options.vectorWidth;
    int64_t rank = cast<MemRefType>(input.getType()).getRank();
    auto codeType = cast<IntegerType>(
        cast<MemRefType>(codes.getType()).getElementType());

    SmallVector<Value> leading;
    Value rows = constantIndex(b, 1);
    for (int64_t i = 0; i + 1 < rank; ++i) {
      leading.push_back(
          minIndex(b, dimSize(b, input, i), dimSize(b, codes, i)));
      rows = mulIndex(b, rows, leading.back());
    }
    Value headDim =
        minIndex(b, dimSize(b, input, rank - 1), dimSize(b, projection, 0));

    int64_t tileColumns = width * kVectorsPerTile;
    int64_t paddedColumns = llvm::divideCeil(columns, tileColumns) *
                            tileColumns;
    Value rowTiles = ceilDivIndex(b, rows, constantIndex(b, kRowsPerTile));

    buildParallel(b, rowTiles, [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
      buildAllocaScope(b, [&](ImplicitLocOpBuilder &b) {
        Value firstRow = mulIndex(b, ivs[0], constantIndex(b, kRowsPerTile));
        Value lastRow = subIndex(b, rows, constantIndex(b, 1));
        auto f32 = b.getF32Type();
        Value rowsF32 = memref::AllocaOp::create(
            b, MemRefType::get({kRowsPerTile, ShapedType::kDynamic}, f32),
            ValueRange{headDim});
        Value products = memref::AllocaOp::create(
            b, MemRefType::get({kRowsPerTile, paddedColumns}, f32),
            b.getI64IntegerAttr(64));

        // 1. The tile's rows in f32. Rows past the end repeat the last row
        // (their codes are not stored), so the kernel has no row branches.
        SmallVector<SmallVector<Value>> rowIndices;
        for (int64_t r = 0; r < kRowsPerTile; ++r) {
          Value row =
              minIndex(b, addIndex(b, firstRow, constantIndex(b, r)), lastRow);
          rowIndices.push_back(delinearize(b, row, leading));
          Value scratchRow = constantIndex(b, r);
          forEachChunk(b, headDim, width, {},
                       [&](ImplicitLocOpBuilder &b, VectorChunk chunk,
                           ValueRange) {
                         Value x = readChunkF32(b, input, rowIndices.back(),
                                                chunk, width);
                         writeChunkF32(b, x, rowsF32, scratchRow, chunk);
                         return SmallVector<Value>{};
                       });
        }

        // 2. Products with the projection, one column group at a time.
        auto projectColumns = [&](ImplicitLocOpBuilder &b, Value firstColumn,
                                  std::optional<int64_t> staticFirst) {
          Value zero = splatF32(b, width, constantF32(b, 0.0f));
          SmallVector<Value> init(kRowsPerTile * kVectorsPerTile, zero);
          SmallVector<Value> sums = buildFor(
              b, constantIndex(b, 0), headDim, constantIndex(b, 1), init,
              [&](ImplicitLocOpBuilder &b, Value i, ValueRange acc) {
                SmallVector<Value> p;
                for (int64_t v = 0; v < kVectorsPerTile; ++v) {
                  Value column =
                      addIndex(b, firstColumn, constantIndex(b, v * width));
                  // Only the last group (static position) reaches past the
                  // K * L columns: its vectors are masked or zero.
                  int64_t live = width;
                  if (staticFirst)
                    live = std::clamp<int64_t>(
                        columns - *staticFirst - v * width, 0, width);
                  if (live == 0) {
                    p.push_back(Value()); // Past the last column: no work.
                    continue;
                  }
                  Value mask;
                  if (live < width)
                    mask = vector::CreateMaskOp::create(
                        b, VectorType::get({width}, b.getI1Type()),
                        ValueRange{constantIndex(b, live)});
                  p.push_back(readChunkF32(b, projection, i,
                                           VectorChunk{column, mask}, width));
                }
                SmallVector<Value> next;
                for (int64_t r = 0; r < kRowsPerTile; ++r) {
                  Value x = memref::LoadOp::create(
                      b, rowsF32, ValueRange{constantIndex(b, r), i});
                  Value xs = splatF32(b, width, x);
                  for (int64_t v = 0; v < kVectorsPerTile; ++v) {
                    Value sum = acc[r * kVectorsPerTile + v];
                    next.push_back(
                        p[v] ? vector::FMAOp::create(b, xs, p[v], sum) : sum);
                  }
                }
                return next;
              });
          for (int64_t r = 0; r < kRowsPerTile; ++r)
            for (int64_t v = 0; v < kVectorsPerTile; ++v)
              writeChunkF32(
                  b, sums[r * kVectorsPerTile + v], products,
                  constantIndex(b, r),
                  VectorChunk{
                      addIndex(b, firstColumn, constantIndex(b, v * width)),
                      Value()});
        };
        int64_t fullColumns = columns / tileColumns * tileColumns;
        if (fullColumns > 0)
          buildFor(b, constantIndex(b, 0), constantIndex(b, fullColumns),
                   constantIndex(b, tileColumns), {},
                   [&](ImplicitLocOpBuilder &b, Value column, ValueRange) {
                     projectColumns(b, column, std::nullopt);
                     return SmallVector<Value>{};
                   });
        if (fullColumns < columns)
          projectColumns(b, constantIndex(b, fullColumns), fullColumns);

        // 3. Pack the signs of each table's K columns into its code.
        auto i32 = b.getI32Type();
        auto bitsType = VectorType::get({bits}, i32);
        SmallVector<int32_t> weights;
        for (int64_t i = 0; i < bits; ++i)
          weights.push_back(int32_t(1) << i);
        Value weightVector = arith::ConstantOp::create(
            b, DenseElementsAttr::get(bitsType, ArrayRef<int32_t>(weights)));
        Value noBits = arith::ConstantOp::create(
            b, DenseElementsAttr::get(bitsType, b.getI32IntegerAttr(0)));
        Value zeroF32 = arith::ConstantOp::create(
            b, DenseElementsAttr::get(VectorType::get({bits}, f32),
                                      b.getF32FloatAttr(0.0f)));
        Value padding = constantF32(b, 0.0f);
        AffineMap rowMap = AffineMap::getMinorIdentityMap(2, 1, b.getContext());
        for (int64_t r = 0; r < kRowsPerTile; ++r) {
          Value inRange = arith::CmpIOp::create(
              b, arith::CmpIPredicate::ult,
              addIndex(b, firstRow, constantIndex(b, r)), rows);
          scf::IfOp::create(b, inRange, [&](OpBuilder &nested, Location loc) {
            ImplicitLocOpBuilder b(loc, nested);
            buildFor(
                b, constantIndex(b, 0), constantIndex(b, tables),
                constantIndex(b, 1), {},
                [&](ImplicitLocOpBuilder &b, Value table, ValueRange) {
                  Value first = mulIndex(b, table, constantIndex(b, bits));
                  Value lanes = vector::TransferReadOp::create(
                      b, VectorType::get({bits}, f32), products,
                      ValueRange{constantIndex(b, r), first}, rowMap, padding,
                      /*mask=*/Value(), b.getBoolArrayAttr({true}));
                  Value positive = arith::CmpFOp::create(
                      b, arith::CmpFPredicate::OGT, lanes, zeroF32);
                  Value setBits = arith::SelectOp::create(b, positive,
                                                          weightVector, noBits);
                  Value code = vector::ReductionOp::create(
                      b, vector::CombiningKind::ADD, setBits);
                  if (codeType.getWidth() < 32)
                    code = arith::TruncIOp::create(b, codeType, code);
                  else if (codeType.getWidth() > 32)
                    code = arith::ExtUIOp::create(b, codeType, code);
                  SmallVector<Value> at(rowIndices[r]);
                  at.push_back(table);
                  memref::StoreOp::create(b, code, codes, at);
                  return SmallVector<Value>{};
                });
            scf::YieldOp::create(b);
          });
        }
      });
    });
  }

  LoweringOptions options;
};

//===----------------------------------------------------------------------===//
// build_tables
//===----------------------------------------------------------------------===//

/// Tables sorted by one parallel task. Codes are stored [.., N, L]: a task
/// reads kTablesPerTask adjacent codes of each token, so one cache line of
/// codes serves several tables instead of one.
constexpr int64_t kTablesPerTask = 8;

/// Per (b, g, block of tables), a stable counting sort of the tokens
/// j in M = [sink, N - window) by code (low K bits):
///   offsets[c] = 0;  for j in M: offsets[code(j)] += 1
///   offsets[c] = sum_{c' <= c} offsets[c']      (end of bucket c)
///   for j in M descending: offsets[code(j)] -= 1; indices[offsets[..]] = j
/// Filling each bucket from its end with descending j leaves the tokens
/// ascending in the bucket and offsets[c] at the bucket's start, with
/// offsets[2^K] = |M|, without a scratch cursor array. Then
/// indices[|M|, N) = 0.
struct BuildTablesLowering : OpRewritePattern<BuildTablesOp> {
  BuildTablesLowering(MLIRContext *context, const LoweringOptions &options)
      : OpRewritePattern(context), options(options) {}

  LogicalResult matchAndRewrite(BuildTablesOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasOnlyMemRefOperands(op))
      return rewriter.notifyMatchFailure(
          op, "expects memref operands (bufferize first)");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value offsets = op.getOffsets();
    int64_t buckets = int64_t(1) << op.getLshBits();

    // Offsets rows must hold 2^K + 1 entries; a dynamic size is checked at
    // run time and a mismatch leaves the outputs untouched.
    if (!cast<MemRefType>(offsets.getType()).isDynamicDim(3)) {
      buildSort(b, op);
    } else {
      Value matches = arith::CmpIOp::create(
          b, arith::CmpIPredicate::eq, dimSize(b, offsets, 3),
          constantIndex(b, buckets + 1));
      scf::IfOp::create(b, matches, [&](OpBuilder &nested, Location loc) {
        ImplicitLocOpBuilder ib(loc, nested);
        buildSort(ib, op);
        scf::YieldOp::create(ib);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }

  void buildSort(ImplicitLocOpBuilder &b, BuildTablesOp op) const {
    Value codes = op.getCodes(), offsets = op.getOffsets(),
          indices = op.getIndices();
    int64_t bits = op.getLshBits(), buckets = int64_t(1) << bits;
    Type offsetType = cast<MemRefType>(offsets.getType()).getElementType();
    Type indexType = cast<MemRefType>(indices.getType()).getElementType();
    int64_t width = options.vectorWidth;

    // Sizes are the smallest over the operands that carry them, so dynamic
    // shapes that disagree cannot make a loop run past any operand.
    Value batch = minIndex(b, dimSize(b, codes, 0),
                           minIndex(b, dimSize(b, offsets, 0),
                                    dimSize(b, indices, 0)));
    Value heads = minIndex(b, dimSize(b, codes, 1),
                           minIndex(b, dimSize(b, offsets, 1),
                                    dimSize(b, indices, 1)));
    Value tables = minIndex(b, dimSize(b, codes, 3),
                            minIndex(b, dimSize(b, offsets, 2),
                                     dimSize(b, indices, 2)));
    Value tokens = minIndex(b, dimSize(b, codes, 2), dimSize(b, indices, 3));

    // M = [sink, N - window), empty when N <= sink + window.
    Value begin = minIndex(b, constantIndex(b, op.getSinkTokens()), tokens);
    Value end = maxIndex(
        b, subIndex(b, tokens, constantIndex(b, op.getWindowTokens())), begin);
    Value size = subIndex(b, end, begin);

    Value zero = constantIndex(b, 0), one = constantIndex(b, 1);
    Value tasks = ceilDivIndex(b, tables, constantIndex(b, kTablesPerTask));
    buildParallel(b, ValueRange{batch, heads, tasks},
                  [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
      Value bi = ivs[0], g = ivs[1];
      Value firstTable = mulIndex(b, ivs[2], constantIndex(b, kTablesPerTask));
      Value endTable = minIndex(
          b, addIndex(b, firstTable, constantIndex(b, kTablesPerTask)),
          tables);
      auto forTables = [&](ImplicitLocOpBuilder &b,
                           llvm::function_ref<void(ImplicitLocOpBuilder &,
                                                   Value)>
                               body) {
        buildFor(b, firstTable, endTable, one, {},
                 [&](ImplicitLocOpBuilder &b, Value l, ValueRange) {
                   body(b, l);
                   return SmallVector<Value>{};
                 });
      };
      auto bucketOf = [&](ImplicitLocOpBuilder &b, Value j, Value l) {
        Value code = memref::LoadOp::create(b, codes, ValueRange{bi, g, j, l});
        return bucketOfCode(b, code, bits);
      };

      forTables(b, [&](ImplicitLocOpBuilder &b, Value l) {
        fillIntegerRange(b, offsets, ValueRange{bi, g, l}, zero,
                         constantIndex(b, buckets + 1), 0, width);
      });
      Value oneStored =
          arith::ConstantOp::create(b, b.getIntegerAttr(offsetType, 1));
      // Count: offsets[c] = tokens of M with code c.
      buildFor(b, begin, end, one, {},
               [&](ImplicitLocOpBuilder &b, Value j, ValueRange) {
                 forTables(b, [&](ImplicitLocOpBuilder &b, Value l) {
                   SmallVector<Value> at{bi, g, l, bucketOf(b, j, l)};
                   Value count = memref::LoadOp::create(b, offsets, at);
                   memref::StoreOp::create(
                       b, arith::AddIOp::create(b, count, oneStored), offsets,
                       at);
                 });
                 return SmallVector<Value>{};
               });
      // Inclusive prefix sum: offsets[c] = end of bucket c.
      forTables(b, [&](ImplicitLocOpBuilder &b, Value l) {
        Value none =
            arith::ConstantOp::create(b, b.getIntegerAttr(offsetType, 0));
        buildFor(b, zero, constantIndex(b, buckets + 1), one, none,
                 [&](ImplicitLocOpBuilder &b, Value c, ValueRange running) {
                   SmallVector<Value> at{bi, g, l, c};
                   Value total = arith::AddIOp::create(
                       b, running[0], memref::LoadOp::create(b, offsets, at));
                   memref::StoreOp::create(b, total, offsets, at);
                   return SmallVector<Value>{total};
                 });
      });
      // Scatter, descending j: each bucket fills from its end.
      Value last = subIndex(b, end, one);
      buildFor(b, zero, size, one, {},
               [&](ImplicitLocOpBuilder &b, Value k, ValueRange) {
                 Value j = subIndex(b, last, k);
                 Value stored = storedOfIndex(b, j, indexType);
                 forTables(b, [&](ImplicitLocOpBuilder &b, Value l) {
                   SmallVector<Value> at{bi, g, l, bucketOf(b, j, l)};
                   Value slot = arith::SubIOp::create(
                       b, memref::LoadOp::create(b, offsets, at), oneStored);
                   memref::StoreOp::create(b, slot, offsets, at);
                   memref::StoreOp::create(
                       b, stored, indices,
                       ValueRange{bi, g, l, indexOfStored(b, slot)});
                 });
                 return SmallVector<Value>{};
               });
      forTables(b, [&](ImplicitLocOpBuilder &b, Value l) {
        fillIntegerRange(b, indices, ValueRange{bi, g, l}, size, tokens, 0,
                         width);
      });
    });
  }

  LoweringOptions options;
};

} // namespace

void mlir::magicpig::populateHashLoweringPatterns(
    RewritePatternSet &patterns, const LoweringOptions &options) {
  patterns.add<SimHashLowering, BuildTablesLowering>(patterns.getContext(),
                                                     options);
}
