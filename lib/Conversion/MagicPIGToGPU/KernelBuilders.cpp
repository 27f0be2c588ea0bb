//===- KernelBuilders.cpp - Pieces of the device kernels ------------------===//

#include "KernelBuilders.h"

#include "../MagicPIGToSCF/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::magicpig;

Value mlir::magicpig::buildLaunch(
    ImplicitLocOpBuilder &b, Value token, Value gridX, Value gridY,
    Value gridZ, const GPULoweringOptions &options,
    ArrayRef<int64_t> workgroupSizes, llvm::function_ref<void(ImplicitLocOpBuilder &, const KernelIds &)> body) {
  Value one = constantIndex(b, 1);
  Value threads = constantIndex(b, options.threadsPerBlock);
  auto workgroupType = [&](int64_t size) {
    return MemRefType::get({size}, b.getF32Type(), MemRefLayoutAttrInterface(),
                           gpu::AddressSpaceAttr::get(
                               b.getContext(), gpu::AddressSpace::Workgroup));
  };
  // One f32 slot per warp of the largest block (buildBlockReduce).
  SmallVector<Type> workgroupTypes = {workgroupType(
      options.target.maxThreadsPerBlock / options.target.warpSize)};
  for (int64_t size : workgroupSizes)
    workgroupTypes.push_back(workgroupType(size));
  auto launch = gpu::LaunchOp::create(
      b, gridX, gridY, gridZ, threads, one, one,
      /*dynamicSharedMemorySize=*/nullptr, b.getType<gpu::AsyncTokenType>(),
      ValueRange{token}, workgroupTypes);

  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(&launch.getBody().front());
  KernelIds ids;
  ids.blockX = launch.getBlockIds().x;
  ids.blockY = launch.getBlockIds().y;
  ids.blockZ = launch.getBlockIds().z;
  ids.thread = launch.getThreadIds().x;
  ids.blockSize = launch.getBlockSize().x;
  ids.reductionScratch = launch.getWorkgroupAttributions().front();
  for (Value buffer : launch.getWorkgroupAttributions().drop_front())
    ids.workgroup.push_back(buffer);
  body(b, ids);
  gpu::TerminatorOp::create(b);
  return launch.getAsyncToken();
}

SmallVector<Value> mlir::magicpig::buildBlockStridedFor(
    ImplicitLocOpBuilder &b, const KernelIds &ids, Value end, ValueRange init,
    llvm::function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                          ValueRange)>
        body) {
  return buildFor(b, ids.thread, end, ids.blockSize, init,
                  [&](ImplicitLocOpBuilder &ib, Value iv, ValueRange carried) {
                    return body(ib, iv, carried);
                  });
}

Value mlir::magicpig::loadF32(ImplicitLocOpBuilder &b, Value memref,
                              ValueRange indices) {
  Value value = memref::LoadOp::create(b, memref, indices);
  if (value.getType().isF32())
    return value;
  return arith::ExtFOp::create(b, b.getF32Type(), value);
}

void mlir::magicpig::storeF32(ImplicitLocOpBuilder &b, Value value,
                              Value memref, ValueRange indices) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  if (element != value.getType())
    value = arith::TruncFOp::create(b, element, value);
  memref::StoreOp::create(b, value, memref, indices);
}

Value mlir::magicpig::buildScalarRowDot(ImplicitLocOpBuilder &b, Value lhs,
                                        ValueRange lhsRow, Value rhs,
                                        ValueRange rhsRow, Value length) {
  Value begin = constantIndex(b, 0);
  Value step = constantIndex(b, 1);
  Value zero = constantF32(b, 0.0f);
  return buildFor(b, begin, length, step, {zero},
                  [&](ImplicitLocOpBuilder &ib, Value i, ValueRange acc) {
                    SmallVector<Value> l(lhsRow), r(rhsRow);
                    l.push_back(i);
                    r.push_back(i);
                    Value x = loadF32(ib, lhs, l), y = loadF32(ib, rhs, r);
                    return SmallVector<Value>{
                        math::FmaOp::create(ib, x, y, acc[0])};
                  })[0];
}
