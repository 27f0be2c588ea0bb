//===- SimHashKernel.cpp - simhash on the GPU -----------------------------===//
//
// One block per hashed row (a query head at decode, a key at prefill), its
// threads striding over the L tables: thread l computes the K projections
// x . P[:, l*K + i] and packs their signs into code l. The row stays in L1
// across the K * L dot products. As in the CPU lowering, a NaN projection
// is "not > 0" (bit 0). A simhash whose projection width is dynamic is left
// to the host lowering, which checks the width at run time.
//
//===----------------------------------------------------------------------===//

#include "DeviceTransfers.h"
#include "KernelBuilders.h"
#include "Patterns.h"

#include "../MagicPIGToSCF/LoweringUtils.h"
#include "../MagicPIGToSCF/RuntimeSizeChecks.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::magicpig;

/// Indices of the linear row `row` in the box `dims` (row-major).
static SmallVector<Value> delinearize(ImplicitLocOpBuilder &b, Value row,
                                      ArrayRef<Value> dims) {
  SmallVector<Value> indices(dims.size());
  for (int64_t i = static_cast<int64_t>(dims.size()) - 1; i > 0; --i) {
    indices[i] = arith::RemUIOp::create(b, row, dims[i]);
    row = arith::DivUIOp::create(b, row, dims[i]);
  }
  indices[0] = row;
  return indices;
}

static void buildSimHashKernel(ImplicitLocOpBuilder &b, SimHashOp op,
                               const DeviceBuffers &buffers,
                               const KernelIds &ids) {
  Value input = buffers.inputs[0], projection = buffers.inputs[1];
  Value codes = buffers.outputs[0];
  int64_t bits = op.getLshBits(), tables = op.getLshTables();
  int64_t rank = cast<MemRefType>(input.getType()).getRank();
  auto codeType = cast<IntegerType>(
      cast<MemRefType>(codes.getType()).getElementType());

  SmallVector<Value> dims;
  for (int64_t i = 0; i + 1 < rank; ++i)
    dims.push_back(dimSize(b, input, i));
  SmallVector<Value> row = delinearize(b, ids.blockX, dims);
  Value headDim = dimSize(b, input, rank - 1);
  Value zeroF = constantF32(b, 0.0f);

  buildBlockStridedFor(
      b, ids, constantIndex(b, tables), {},
      [&](ImplicitLocOpBuilder &b, Value table, ValueRange) {
        Value firstColumn = mulIndex(b, table, constantIndex(b, bits));
        Value bitsBegin = constantIndex(b, 0);
        Value bitsEnd = constantIndex(b, bits);
        Value bitsStep = constantIndex(b, 1);
        Value noBits =
            arith::ConstantOp::create(b, IntegerAttr::get(codeType, 0));
        Value code = buildFor(
            b, bitsBegin, bitsEnd, bitsStep, {noBits},
            [&](ImplicitLocOpBuilder &b, Value bit, ValueRange acc) {
              Value column = addIndex(b, firstColumn, bit);
              Value dimBegin = constantIndex(b, 0);
              Value dimStep = constantIndex(b, 1);
              Value dot = buildFor(
                  b, dimBegin, headDim, dimStep, {zeroF},
                  [&](ImplicitLocOpBuilder &b, Value i, ValueRange sum) {
                    SmallVector<Value> at(row);
                    at.push_back(i);
                    Value x = loadF32(b, input, at);
                    Value p = loadF32(b, projection, {i, column});
                    return SmallVector<Value>{
                        math::FmaOp::create(b, x, p, sum[0])};
                  })[0];
              Value positive = arith::CmpFOp::create(
                  b, arith::CmpFPredicate::OGT, dot, zeroF);
              Value shift =
                  arith::IndexCastUIOp::create(b, codeType, bit);
              Value set = arith::ShLIOp::create(
                  b, arith::ExtUIOp::create(b, codeType, positive), shift);
              return SmallVector<Value>{arith::OrIOp::create(b, acc[0], set)};
            })[0];
        SmallVector<Value> at(row);
        at.push_back(table);
        memref::StoreOp::create(b, code, codes, at);
        return SmallVector<Value>{};
      });
}

namespace {
struct SimHashToGPU : DeviceOpPattern<SimHashOp> {
  using DeviceOpPattern::DeviceOpPattern;

  LogicalResult rewriteOnDevice(SimHashOp op,
                                PatternRewriter &rewriter) const override {
    if (!isDeviceSimHash(op))
      return rewriter.notifyMatchFailure(
          op, "dynamic projection width: left to the host lowering");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    buildRuntimeSizeChecks(b, op);
    Value input = op.getInput();
    int64_t rank = cast<MemRefType>(input.getType()).getRank();
    Value rows = constantIndex(b, 1);
    for (int64_t i = 0; i + 1 < rank; ++i)
      rows = mulIndex(b, rows, dimSize(b, input, i));
    Value one = constantIndex(b, 1);
    DeviceWork work;
    work.inputs = {input, op.getProjection()};
    work.outputs = {op.getCodes()};
    work.grid = {rows};
    replaceWithDeviceWork(
        rewriter, op, work, options,
        [&](ImplicitLocOpBuilder &b, const DeviceBuffers &buffers,
            Value token) {
          return buildLaunch(b, token, rows, one, one, options, {},
                             [&](ImplicitLocOpBuilder &b, const KernelIds &ids) {
                               buildSimHashKernel(b, op, buffers, ids);
                             });
        });
    return success();
  }
};
} // namespace

bool mlir::magicpig::isDeviceSimHash(SimHashOp op) {
  auto projection = dyn_cast<MemRefType>(op.getProjection().getType());
  return projection && !projection.isDynamicDim(1);
}

void mlir::magicpig::populateSimHashToGPUPatterns(
    RewritePatternSet &patterns, const GPULoweringOptions &options) {
  patterns.add<SimHashToGPU>(patterns.getContext(), options);
}
