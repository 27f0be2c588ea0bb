//===- LoweringUtils.h - Building blocks of the lowerings ------*- C++ -*-===//
//
// The lowerings of all op families build the same few things: loops over
// the independent (batch, head) pairs, and f32 vector code along the
// innermost (head) dimension of a row, split into chunks of `width` lanes
// with one masked tail chunk when the row length is not a multiple of the
// width. These helpers build them, so every lowering handles tails, element
// types and dynamic sizes the same way.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_LOWERINGUTILS_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_LOWERINGUTILS_H

#include "RuntimeSizeChecks.h"

#include "magicpig/Conversion/MagicPIGToSCF/MagicPIGToSCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::magicpig {

/// The most lanes a host lowering unrolls a vector into (four AVX-512
/// registers of f32): wider is no real target and only grows the output.
inline constexpr int64_t kMaxVectorWidth = 64;

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Fails, with an error on the first magicpig op under `root` that is not in
/// its memref form: "must be bufferized before `pass` (run
/// one-shot-bufferize, or the whole `pipeline`)". The lowerings read and
/// write buffers; this says so instead of a generic legalization failure or
/// a tensor op left behind.
LogicalResult checkBufferized(Operation *root, StringRef pass,
                              StringRef pipeline);

/// A lowering of the memref form of the destination-style op `OpTy` (the
/// only form the loop and device lowerings handle), configured by
/// `Options`. Subclasses implement `rewriteMemRefOp`.
template <typename OpTy, typename Options>
struct MemRefOpPattern : OpRewritePattern<OpTy> {
  MemRefOpPattern(MLIRContext *context, const Options &options,
                  PatternBenefit benefit = 1)
      : OpRewritePattern<OpTy>(context, benefit), options(options) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const final {
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(
          op, "expected the memref form (bufferize first)");
    return rewriteMemRefOp(op, rewriter);
  }

  virtual LogicalResult rewriteMemRefOp(OpTy op,
                                        PatternRewriter &rewriter) const = 0;

  Options options;
};

/// A loop lowering (convert-magicpig-to-scf): `lower` builds the loops at
/// the op, after the run-time checks of its dynamic sizes; the op is then
/// erased.
template <typename OpTy>
struct LoopLoweringPattern : MemRefOpPattern<OpTy, LoweringOptions> {
  LoopLoweringPattern(MLIRContext *context, const LoweringOptions &options)
      : MemRefOpPattern<OpTy, LoweringOptions>(context, options) {}

  LogicalResult rewriteMemRefOp(OpTy op,
                                PatternRewriter &rewriter) const final {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    buildRuntimeSizeChecks(b, op);
    lower(op, b);
    rewriter.eraseOp(op);
    return success();
  }

  virtual void lower(OpTy op, ImplicitLocOpBuilder &b) const = 0;
};

//===----------------------------------------------------------------------===//
// Scalars and loops
//===----------------------------------------------------------------------===//

Value constantIndex(ImplicitLocOpBuilder &b, int64_t value);
Value constantF32(ImplicitLocOpBuilder &b, float value);

/// Size of dimension `dim` of a memref: a constant when static, else
/// memref.dim.
Value dimSize(ImplicitLocOpBuilder &b, Value memref, int64_t dim);

/// Folding index arithmetic (constants stay constants).
Value addIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs);
Value subIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs);
Value mulIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs);
Value minIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs);
Value maxIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs);
/// ceil(lhs / rhs) for non-negative lhs and positive rhs.
Value ceilDivIndex(ImplicitLocOpBuilder &b, Value lhs, Value rhs);

/// Body of an scf.for: gets the induction variable and the carried values,
/// returns the carried values of the next iteration.
using LoopBody = llvm::function_ref<SmallVector<Value>(
    ImplicitLocOpBuilder &b, Value iv, ValueRange carried)>;

/// scf.for %iv = lb to ub step step iter_args(init); returns the results.
SmallVector<Value> buildFor(ImplicitLocOpBuilder &b, Value lb, Value ub,
                            Value step, ValueRange init, LoopBody body);

/// scf.if (cond) { body } with no results.
void buildIf(ImplicitLocOpBuilder &b, Value cond,
             llvm::function_ref<void(ImplicitLocOpBuilder &b)> body);

/// Runs `body` inside a memref.alloca_scope, so that stack scratch buffers
/// allocated per iteration of an enclosing loop are released every
/// iteration (whether or not the loop becomes an OpenMP loop).
void buildAllocaScope(ImplicitLocOpBuilder &b,
                      llvm::function_ref<void(ImplicitLocOpBuilder &)> body);

/// scf.parallel over the box [0, upperBounds) with unit steps.
void buildParallel(
    ImplicitLocOpBuilder &b, ValueRange upperBounds,
    llvm::function_ref<void(ImplicitLocOpBuilder &b, ValueRange ivs)> body);

//===----------------------------------------------------------------------===//
// f32 vector chunks of a row
//===----------------------------------------------------------------------===//

/// One chunk of `width` lanes of a row: the row position of its first lane
/// and the mask of lanes inside the row (null when all lanes are).
struct VectorChunk {
  Value offset;
  Value mask;
};

/// Body of forEachChunk: gets the chunk and the carried values, returns the
/// carried values of the next chunk.
using ChunkBody = llvm::function_ref<SmallVector<Value>(
    ImplicitLocOpBuilder &b, VectorChunk chunk, ValueRange carried)>;

/// Visits [0, length) in chunks of `width` lanes: an scf.for over the full
/// chunks (no mask), then one masked tail chunk. The tail is omitted when
/// `length` is a static multiple of `width`; for a dynamic length it is
/// always emitted (an all-false mask touches no memory). Returns the carried
/// values after the last chunk.
SmallVector<Value> forEachChunk(ImplicitLocOpBuilder &b, Value length,
                                int64_t width, ValueRange init, ChunkBody body);

/// Reads chunk `chunk` of the row `row` (all indices but the innermost) of
/// `memref` as vector<width x f32>, extending f16/bf16 with arith.extf.
/// Lanes outside the mask read `padding`.
Value readChunkF32(ImplicitLocOpBuilder &b, Value memref, ValueRange row,
                   VectorChunk chunk, int64_t width, float padding = 0.0f);

/// Writes the f32 vector `value` into chunk `chunk` of the row `row` of
/// `memref`, truncating to its element type with arith.truncf. Lanes outside
/// the mask are not written.
void writeChunkF32(ImplicitLocOpBuilder &b, Value value, Value memref,
                   ValueRange row, VectorChunk chunk);

/// sum_i lhs[lhsRow, i] * rhs[rhsRow, i] over i < length, in f32 whatever
/// the element types (f32, f16, bf16).
Value buildRowDot(ImplicitLocOpBuilder &b, Value lhs, ValueRange lhsRow,
                  Value rhs, ValueRange rhsRow, Value length, int64_t width);

/// Horizontal sums of several f32 vectors at once: returns a
/// vector<M x f32> whose lane i is the sum of the lanes of vectors[i]. M
/// and the width must be powers of two with M <= width. A tree of shuffles
/// that take the first and second half of every source's lanes, and adds,
/// costs about 3 ops per source instead of the ~9 of a separate
/// vector.reduction for each (the dot products of one key with a group's
/// query heads, or of several keys, are reduced together this way).
Value buildTransposedSums(ImplicitLocOpBuilder &b, ArrayRef<Value> vectors);

/// Prefetches the cache lines (64 bytes) holding the first `length`
/// elements of row `row` of `memref`, so that a later pass over the row does
/// not stall on memory. `locality` is memref.prefetch's hint: 3 keeps the
/// lines in L1, 2 in L2 (prefetcht1), 0 streams them. Rows of up to 16
/// static lines get one prefetch per line, longer ones a loop.
void prefetchRow(ImplicitLocOpBuilder &b, Value memref, ValueRange row,
                 Value length, int64_t locality);

/// vector<width x f32> filled with `value` (an f32 constant or scalar).
Value splatF32(ImplicitLocOpBuilder &b, int64_t width, Value value);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOSCF_LOWERINGUTILS_H
