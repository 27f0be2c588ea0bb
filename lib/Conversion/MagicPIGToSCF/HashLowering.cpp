//===- HashLowering.cpp - simhash and build_tables to loops ---------------===//
//
// simhash: a register-blocked product of a tile of rows with the projection,
// then the signs of each table's K columns packed into a code.
// build_tables: a counting sort of the offloaded tokens per (b, g, table).
// Both are scf.parallel loops (OpenMP after convert-scf-to-openmp) over
// independent work items, with vector code along the projection columns.
//
// Defined behaviour outside the op's math: a NaN or infinite element makes
// some projections NaN, and a NaN projection counts as "not > 0" (bit 0),
// so every code stays a K-bit integer. build_tables uses only the low K
// bits of each stored code, so any integer names an existing bucket.
// Dynamic sizes are checked at run time (RuntimeSizeChecks.h): sizes that
// disagree between operands, a projection width other than K * L or an
// offsets row length other than 2^K + 1 stop the program.
//
//===----------------------------------------------------------------------===//

#include "HashSamplingUtils.h"
#include "LoweringUtils.h"

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
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

struct SimHashLowering : LoopLoweringPattern<SimHashOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  /// Parallel over tiles of kRowsPerTile rows (the leading dimensions of
  /// the input, linearized). Per tile:
  ///   1. copy the rows to an f32 scratch (any input type, any layout);
  ///   2. for each group of kVectorsPerTile * width projection columns,
  ///      acc[r, c] = sum_i x[r, i] * P[i, c] with the accumulators in
  ///      registers across the loop over i, stored to a scratch row;
  ///   3. per table l, code = sum_i [acc[r, l*K + i] > 0] << i, as a
  ///      select of the K lanes against {1, 2, 4, ...} and a reduction.
  void lower(SimHashOp op, ImplicitLocOpBuilder &b) const override {
    Value input = op.getInput(), projection = op.getProjection(),
          codes = op.getCodes();
    int64_t bits = op.getLshBits(), tables = op.getLshTables();
    int64_t columns = bits * tables;
    int64_t width = options.vectorWidth;
    int64_t rank = cast<MemRefType>(input.getType()).getRank();
    auto codeType =
        cast<IntegerType>(cast<MemRefType>(codes.getType()).getElementType());

    SmallVector<Value> leading;
    Value rows = constantIndex(b, 1);
    for (int64_t i = 0; i + 1 < rank; ++i) {
      leading.push_back(dimSize(b, input, i));
      rows = mulIndex(b, rows, leading.back());
    }
    Value headDim = dimSize(b, input, rank - 1);

    int64_t tileColumns = width * kVectorsPerTile;
    int64_t paddedColumns =
        llvm::divideCeil(columns, tileColumns) * tileColumns;
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
          forEachChunk(
              b, headDim, width, {},
              [&](ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange) {
                Value x =
                    readChunkF32(b, input, rowIndices.back(), chunk, width);
                writeChunkF32(b, x, rowsF32, scratchRow, chunk);
                return SmallVector<Value>{};
              });
        }

        // 2. Products with the projection, one column group at a time.
        auto projectColumns = [&](ImplicitLocOpBuilder &b, Value firstColumn,
                                  std::optional<int64_t> staticFirst) {
          Value zero = splatF32(b, width, constantF32(b, 0.0f));
          SmallVector<Value> init(kRowsPerTile * kVectorsPerTile, zero);
          Value dimBegin = constantIndex(b, 0);
          Value dimStep = constantIndex(b, 1);
          SmallVector<Value> sums = buildFor(
              b, dimBegin, headDim, dimStep, init,
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
            for (int64_t v = 0; v < kVectorsPerTile; ++v) {
              Value row = constantIndex(b, r);
              Value column =
                  addIndex(b, firstColumn, constantIndex(b, v * width));
              writeChunkF32(b, sums[r * kVectorsPerTile + v], products, row,
                            VectorChunk{column, Value()});
            }
        };
        int64_t fullColumns = columns / tileColumns * tileColumns;
        if (fullColumns > 0) {
          Value begin = constantIndex(b, 0);
          Value end = constantIndex(b, fullColumns);
          Value step = constantIndex(b, tileColumns);
          buildFor(b, begin, end, step, {},
                   [&](ImplicitLocOpBuilder &b, Value column, ValueRange) {
                     projectColumns(b, column, std::nullopt);
                     return SmallVector<Value>{};
                   });
        }
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
          buildIf(b, inRange, [&](ImplicitLocOpBuilder &b) {
            Value tablesBegin = constantIndex(b, 0);
            Value tablesEnd = constantIndex(b, tables);
            Value tablesStep = constantIndex(b, 1);
            buildFor(b, tablesBegin, tablesEnd, tablesStep, {},
                     [&](ImplicitLocOpBuilder &b, Value table, ValueRange) {
                       Value first = mulIndex(b, table, constantIndex(b, bits));
                       Value lanes = vector::TransferReadOp::create(
                           b, VectorType::get({bits}, f32), products,
                           ValueRange{constantIndex(b, r), first}, rowMap,
                           padding,
                           /*mask=*/Value(), b.getBoolArrayAttr({true}));
                       Value positive = arith::CmpFOp::create(
                           b, arith::CmpFPredicate::OGT, lanes, zeroF32);
                       Value setBits = arith::SelectOp::create(
                           b, positive, weightVector, noBits);
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
          });
        }
      });
    });
  }
};

//===----------------------------------------------------------------------===//
// build_tables
//===----------------------------------------------------------------------===//

/// Bytes of codes a task reads per token: one cache line, so a block of
/// 64 / sizeof(code) adjacent tables shares every line read from the
/// [.., N, L] codes.
constexpr int64_t kCodeBytesPerTask = 64;
/// Tokens per tile of the transpose (256 rows of codes: at most 256 cache
/// lines, within L1).
constexpr int64_t kTransposeTokens = 256;

/// Per (b, g, block of tables):
///   1. transpose: bucket[t, k] = low K bits of codes[b, g, sink + k, l0 + t]
///      (a heap scratch of i16: the codes of one table become contiguous);
///   2. per table, a stable counting sort of the tokens of
///      M = [sink, N - window) by bucket:
///        offsets[c] = 0;  for k: offsets[bucket[k]] += 1
///        offsets[c] = sum_{c' <= c} offsets[c']      (end of bucket c)
///        for k descending: offsets[bucket[k]] -= 1;
///                          indices[offsets[bucket[k]]] = sink + k
///      Filling each bucket from its end with descending tokens leaves them
///      ascending in the bucket and offsets[c] at the bucket's start, with
///      offsets[2^K] = |M|, without a scratch cursor array;
///   3. indices[|M|, N) = 0.
/// Reading the codes column by column from the [N, L] layout would load a
/// cache line per token per table (L times the codes' size from DRAM, the
/// bottleneck); the tiled transpose reads each line once per block, and
/// the sort then works on a bucket row and an index row that stay in L2.
/// At N = 64K, L = 150, Hkv = 8 on 2 cores this is ~185 ms, the speed of
/// the same algorithm written in C (the scatter's random stores into the
/// 256 KB index row dominate).
struct BuildTablesLowering : LoopLoweringPattern<BuildTablesOp> {
  using LoopLoweringPattern::LoopLoweringPattern;

  void lower(BuildTablesOp op, ImplicitLocOpBuilder &b) const override {
    Value codes = op.getCodes(), offsets = op.getOffsets(),
          indices = op.getIndices();
    int64_t bits = op.getLshBits(), buckets = int64_t(1) << bits;
    Type codeType = cast<MemRefType>(codes.getType()).getElementType();
    Type offsetType = cast<MemRefType>(offsets.getType()).getElementType();
    Type indexType = cast<MemRefType>(indices.getType()).getElementType();
    int64_t width = options.vectorWidth;
    int64_t tablesPerTask = std::max<int64_t>(
        1, kCodeBytesPerTask * 8 / codeType.getIntOrFloatBitWidth());

    // The operands agree on these sizes (checked at run time when dynamic).
    Value batch = dimSize(b, codes, 0), heads = dimSize(b, codes, 1);
    Value tables = dimSize(b, codes, 3), tokens = dimSize(b, codes, 2);

    // M = [sink, N - window), empty when N <= sink + window.
    Value begin = minIndex(b, constantIndex(b, op.getSinkTokens()), tokens);
    Value end = maxIndex(
        b, subIndex(b, tokens, constantIndex(b, op.getWindowTokens())), begin);
    Value size = subIndex(b, end, begin);

    Value zero = constantIndex(b, 0), one = constantIndex(b, 1);
    Value perTask = constantIndex(b, tablesPerTask);
    Value tasks = ceilDivIndex(b, tables, perTask);
    auto bucketType = b.getI16Type();
    buildParallel(
        b, ValueRange{batch, heads, tasks},
        [&](ImplicitLocOpBuilder &b, ValueRange ivs) {
          Value bi = ivs[0], g = ivs[1];
          Value firstTable = mulIndex(b, ivs[2], perTask);
          Value count =
              subIndex(b, minIndex(b, addIndex(b, firstTable, perTask), tables),
                       firstTable);

          // 1. Buckets of the block's tables, one contiguous row per table.
          Value bucketRows = memref::AllocOp::create(
              b,
              MemRefType::get({tablesPerTask, ShapedType::kDynamic},
                              bucketType),
              ValueRange{size}, b.getI64IntegerAttr(64));
          // Tiles of kTransposeTokens tokens: the tile's code lines stay in L1
          // while each bucket row is written contiguously.
          Value tile = constantIndex(b, kTransposeTokens);
          buildFor(
              b, zero, size, tile, {},
              [&](ImplicitLocOpBuilder &b, Value k0, ValueRange) {
                Value k1 = minIndex(b, addIndex(b, k0, tile), size);
                buildFor(
                    b, zero, count, one, {},
                    [&](ImplicitLocOpBuilder &b, Value t, ValueRange) {
                      Value l = addIndex(b, firstTable, t);
                      buildFor(
                          b, k0, k1, one, {},
                          [&](ImplicitLocOpBuilder &b, Value k, ValueRange) {
                            Value code = memref::LoadOp::create(
                                b, codes,
                                ValueRange{bi, g, addIndex(b, begin, k), l});
                            Value bucket = arith::IndexCastUIOp::create(
                                b, bucketType, bucketOfCode(b, code, bits));
                            memref::StoreOp::create(b, bucket, bucketRows,
                                                    ValueRange{t, k});
                            return SmallVector<Value>{};
                          });
                      return SmallVector<Value>{};
                    });
                return SmallVector<Value>{};
              });

          // 2. Counting sort of each table from its bucket row.
          Value oneStored =
              arith::ConstantOp::create(b, b.getIntegerAttr(offsetType, 1));
          buildFor(
              b, zero, count, one, {},
              [&](ImplicitLocOpBuilder &b, Value t, ValueRange) {
                Value l = addIndex(b, firstTable, t);
                auto bucketAt = [&](ImplicitLocOpBuilder &b, Value k) {
                  Value bucket =
                      memref::LoadOp::create(b, bucketRows, ValueRange{t, k});
                  return arith::IndexCastUIOp::create(b, b.getIndexType(),
                                                      bucket);
                };
                fillIntegerRange(b, offsets, ValueRange{bi, g, l}, zero,
                                 constantIndex(b, buckets + 1), 0, width);
                // Count: offsets[c] = tokens of M with bucket c.
                buildFor(b, zero, size, one, {},
                         [&](ImplicitLocOpBuilder &b, Value k, ValueRange) {
                           SmallVector<Value> at{bi, g, l, bucketAt(b, k)};
                           Value n = memref::LoadOp::create(b, offsets, at);
                           memref::StoreOp::create(
                               b, arith::AddIOp::create(b, n, oneStored),
                               offsets, at);
                           return SmallVector<Value>{};
                         });
                // Inclusive prefix sum: offsets[c] = end of bucket c.
                Value none = arith::ConstantOp::create(
                    b, b.getIntegerAttr(offsetType, 0));
                buildFor(
                    b, zero, constantIndex(b, buckets + 1), one, none,
                    [&](ImplicitLocOpBuilder &b, Value c, ValueRange running) {
                      SmallVector<Value> at{bi, g, l, c};
                      Value total = arith::AddIOp::create(
                          b, running[0],
                          memref::LoadOp::create(b, offsets, at));
                      memref::StoreOp::create(b, total, offsets, at);
                      return SmallVector<Value>{total};
                    });
                // Scatter, descending tokens: each bucket fills from its end.
                Value last = subIndex(b, size, one);
                buildFor(
                    b, zero, size, one, {},
                    [&](ImplicitLocOpBuilder &b, Value i, ValueRange) {
                      Value k = subIndex(b, last, i);
                      SmallVector<Value> at{bi, g, l, bucketAt(b, k)};
                      Value slot = arith::SubIOp::create(
                          b, memref::LoadOp::create(b, offsets, at), oneStored);
                      memref::StoreOp::create(b, slot, offsets, at);
                      Value stored =
                          storedOfIndex(b, addIndex(b, begin, k), indexType);
                      Value position = indexOfStored(b, slot);
                      memref::StoreOp::create(b, stored, indices,
                                              ValueRange{bi, g, l, position});
                      return SmallVector<Value>{};
                    });
                // 3. Entries past |M| are zero.
                fillIntegerRange(b, indices, ValueRange{bi, g, l}, size, tokens,
                                 0, width);
                return SmallVector<Value>{};
              });
          memref::DeallocOp::create(b, bucketRows);
        });
  }
};

} // namespace

void mlir::magicpig::populateHashLoweringPatterns(
    RewritePatternSet &patterns, const LoweringOptions &options) {
  patterns.add<SimHashLowering, BuildTablesLowering>(patterns.getContext(),
                                                     options);
}
