//===- MergeKernel.cpp - merge on the GPU ---------------------------------===//
//
// One block per (query head, batch): every thread evaluates the two merge
// weights (AttentionMath.h, shared with the CPU lowering: a side at -inf
// weighs 0), then the threads stride over the value dim; thread 0 stores
// the merged lse.
//
//===----------------------------------------------------------------------===//

#include "DeviceTransfers.h"
#include "KernelBuilders.h"
#include "Patterns.h"

#include "../MagicPIGToSCF/AttentionMath.h"
#include "../MagicPIGToSCF/LoweringUtils.h"
#include "../MagicPIGToSCF/RuntimeSizeChecks.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::magicpig;

static void buildMergeKernel(ImplicitLocOpBuilder &b,
                             const DeviceBuffers &buffers,
                             const KernelIds &ids) {
  Value outA = buffers.inputs[0], lseA = buffers.inputs[1];
  Value outB = buffers.inputs[2], lseB = buffers.inputs[3];
  Value out = buffers.outputs[0], lse = buffers.outputs[1];
  SmallVector<Value> row = {ids.blockY, ids.blockX};

  Value a = memref::LoadOp::create(b, lseA, row);
  Value c = memref::LoadOp::create(b, lseB, row);
  MergeWeights weights = buildMergeWeights(b, a, c);
  buildBlockStridedFor(
      b, ids, dimSize(b, out, 2), {},
      [&](ImplicitLocOpBuilder &b, Value e, ValueRange) {
        SmallVector<Value> index = {row[0], row[1], e};
        Value a = loadF32(b, outA, index), c = loadF32(b, outB, index);
        Value merged = math::FmaOp::create(
            b, weights.weightA, a, arith::MulFOp::create(b, weights.weightB, c));
        storeF32(b, merged, out, index);
        return SmallVector<Value>{};
      });
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, ids.thread,
                                      constantIndex(b, 0));
  buildIf(b, first, [&](ImplicitLocOpBuilder &b) {
    memref::StoreOp::create(b, weights.lse, lse, row);
  });
}

namespace {
struct MergeToGPU : DeviceOpPattern<MergeOp> {
  using DeviceOpPattern::DeviceOpPattern;

  LogicalResult rewriteOnDevice(MergeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    buildRuntimeSizeChecks(b, op);
    Value batchSize = dimSize(b, op.getOutput(), 0);
    Value queryHeads = dimSize(b, op.getOutput(), 1);
    DeviceWork work;
    work.inputs = {op.getOutputA(), op.getLseA(), op.getOutputB(),
                   op.getLseB()};
    work.outputs = {op.getOutput(), op.getLse()};
    work.grid = {queryHeads, batchSize};
    replaceWithDeviceWork(
        rewriter, op, work, options,
        [&](ImplicitLocOpBuilder &b, const DeviceBuffers &buffers,
            Value token) {
          return buildLaunch(b, token, queryHeads, batchSize,
                             constantIndex(b, 1), options, {},
                             [&](ImplicitLocOpBuilder &b, const KernelIds &ids) {
                               buildMergeKernel(b, buffers, ids);
                             });
        });
    return success();
  }
};
} // namespace

void mlir::magicpig::populateMergeToGPUPatterns(
    RewritePatternSet &patterns, const GPULoweringOptions &options) {
  patterns.add<MergeToGPU>(patterns.getContext(), options);
}
