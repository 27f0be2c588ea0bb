//===- DeviceTransfers.cpp - Run one kernel on device copies --------------===//

#include "DeviceTransfers.h"

#include "../MagicPIGToSCF/LoweringUtils.h"

#include "mlir/Analysis/AliasAnalysis/LocalAliasAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <functional>

using namespace mlir;
using namespace mlir::magicpig;

LogicalResult mlir::magicpig::checkDeviceOperands(Operation *op,
                                                 PatternRewriter &rewriter) {
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<MemRefType>(operand.getType());
        type && type.getMemorySpace())
      return rewriter.notifyMatchFailure(
          op, "operand in a non-default memory space: not a host buffer");
  return success();
}

/// A buffer of the type (identity layout) and dynamic sizes of `like`,
/// either on the host (memref.alloc) or on the device (gpu.alloc after
/// `token`, which is updated).
static Value allocLike(ImplicitLocOpBuilder &b, Value like, Value *token) {
  auto type = cast<MemRefType>(like.getType());
  auto contiguous =
      MemRefType::get(type.getShape(), type.getElementType());
  SmallVector<Value> sizes;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    if (type.isDynamicDim(dim))
      sizes.push_back(memref::DimOp::create(b, like, dim));
  if (!token)
    return memref::AllocOp::create(b, contiguous, sizes);
  auto alloc =
      gpu::AllocOp::create(b, contiguous, b.getType<gpu::AsyncTokenType>(),
                           ValueRange{*token}, sizes, ValueRange{});
  *token = alloc.getAsyncToken();
  return alloc.getMemref();
}

/// dst[.., dstBegin + r, ..] = src[.., srcBegin + r, ..] for r < rows in
/// dimension `rowDim` and every index of the other dimensions (those of
/// `src`), as a loop nest whose innermost loop runs over the last
/// dimension. Plain loops rather than memref.copy of two subviews: a copy of
/// views with dynamic sizes and strides becomes a call to the runtime's
/// generic memrefCopy, one element per iteration, whereas these loops are
/// unit-stride on both sides in the innermost dimension, which LLVM
/// vectorizes; and an empty range needs no view at offset N, which
/// memref.subview rejects once N is known.
static void buildRowCopyLoops(ImplicitLocOpBuilder &b, Value src,
                              Value srcBegin, Value dst, Value dstBegin,
                              int64_t rowDim, Value rows) {
  int64_t rank = cast<MemRefType>(src.getType()).getRank();
  Value zero = constantIndex(b, 0), one = constantIndex(b, 1);
  SmallVector<Value> ivs;
  std::function<void(ImplicitLocOpBuilder &)> nest =
      [&](ImplicitLocOpBuilder &b) {
        int64_t dim = ivs.size();
        if (dim == rank) {
          SmallVector<Value> from(ivs), to(ivs);
          from[rowDim] = addIndex(b, srcBegin, ivs[rowDim]);
          to[rowDim] = addIndex(b, dstBegin, ivs[rowDim]);
          memref::StoreOp::create(b, memref::LoadOp::create(b, src, from),
                                  dst, to);
          return;
        }
        Value upper = dim == rowDim ? rows : dimSize(b, src, dim);
        buildFor(b, zero, upper, one, {},
                 [&](ImplicitLocOpBuilder &b, Value iv, ValueRange) {
                   ivs.push_back(iv);
                   nest(b);
                   ivs.pop_back();
                   return SmallVector<Value>{};
                 });
      };
  nest(b);
}

/// A contiguous host buffer holding the rows of a gathered input (see
/// DeviceInput): each range is copied from the host memref into its place
/// in the compact buffer.
static Value stageGathered(ImplicitLocOpBuilder &b, const DeviceInput &input) {
  auto type = cast<MemRefType>(input.host.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[input.rowDim] = ShapedType::kDynamic;
  SmallVector<Value> sizes;
  for (int64_t dim = 0; dim < type.getRank(); ++dim) {
    if (dim == input.rowDim)
      sizes.push_back(input.compactRows);
    else if (type.isDynamicDim(dim))
      sizes.push_back(memref::DimOp::create(b, input.host, dim));
  }
  Value staged = memref::AllocOp::create(
      b, MemRefType::get(shape, type.getElementType()), sizes);
  Value offset = constantIndex(b, 0);
  for (const RowRange &range : input.rows) {
    buildRowCopyLoops(b, input.host, range.begin, staged, offset,
                      input.rowDim, range.size);
    offset = addIndex(b, offset, range.size);
  }
  return staged;
}

/// True when `other` may read or write what the device work writes, or
/// write what it reads: its completion must come first.
static bool mayConflict(Operation *other, const DeviceWork &work,
                        LocalAliasAnalysis &aliases) {
  if (other->hasTrait<OpTrait::IsTerminator>())
    return true; // The caller (or the enclosing op) sees the results.
  if (isMemoryEffectFree(other))
    return false;
  // The blocking wait that completes another device op (placed here by its
  // own overlap) only waits for that op's stream.
  if (auto wait = dyn_cast<gpu::WaitOp>(other); wait && !wait.getAsyncToken())
    return false;
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(other);
  if (!effects)
    return true; // Unknown effects (a call, say).
  for (const MemoryEffects::EffectInstance &effect : *effects) {
    if (isa<MemoryEffects::Allocate>(effect.getEffect()))
      continue;
    Value value = effect.getValue();
    if (!value)
      return true;
    for (Value output : work.outputs)
      if (!aliases.alias(value, output).isNo())
        return true;
    if (isa<MemoryEffects::Read>(effect.getEffect()))
      continue;
    for (const DeviceInput &input : work.inputs)
      if (!aliases.alias(value, input.host).isNo())
        return true;
  }
  return false;
}

/// The first op after `op` in its block that must see the results.
static Operation *findCompletionPoint(Operation *op, const DeviceWork &work) {
  LocalAliasAnalysis aliases;
  for (Operation *next = op->getNextNode(); next; next = next->getNextNode())
    if (mayConflict(next, work, aliases))
      return next;
  return nullptr;
}

/// Issues `work` at the builder's insertion point and completes it before
/// `completeBefore` (or right after the issue when null).
static void buildIssueAndComplete(ImplicitLocOpBuilder &b,
                                  const DeviceWork &work,
                                  Operation *completeBefore,
                                  KernelLauncher launch) {
  // gpu.memcpy copies whole contiguous buffers: stage strided host views.
  SmallVector<Value> hostInputs, hostOutputs, staging;
  SmallVector<std::pair<Value, Value>> stagedOutputs; // (staging, host)
  for (const DeviceInput &input : work.inputs) {
    if (!input.rows.empty()) {
      Value staged = stageGathered(b, input);
      staging.push_back(staged);
      hostInputs.push_back(staged);
      continue;
    }
    if (cast<MemRefType>(input.host.getType()).getLayout().isIdentity()) {
      hostInputs.push_back(input.host);
      continue;
    }
    Value staged = allocLike(b, input.host, /*token=*/nullptr);
    memref::CopyOp::create(b, input.host, staged);
    staging.push_back(staged);
    hostInputs.push_back(staged);
  }
  for (Value output : work.outputs) {
    if (cast<MemRefType>(output.getType()).getLayout().isIdentity()) {
      hostOutputs.push_back(output);
      continue;
    }
    // The kernels write every element of their outputs: no copy in.
    Value staged = allocLike(b, output, /*token=*/nullptr);
    staging.push_back(staged);
    stagedOutputs.push_back({staged, output});
    hostOutputs.push_back(staged);
  }

  Type tokenType = b.getType<gpu::AsyncTokenType>();
  Value token = gpu::WaitOp::create(b, tokenType, ValueRange{}).getAsyncToken();
  DeviceBuffers buffers;
  for (Value host : hostInputs) {
    Value device = allocLike(b, host, &token);
    token = gpu::MemcpyOp::create(b, tokenType, ValueRange{token}, device,
                                  host)
                .getAsyncToken();
    buffers.inputs.push_back(device);
  }
  for (Value host : hostOutputs)
    buffers.outputs.push_back(allocLike(b, host, &token));
  for (const DeviceScratch &s : work.scratch) {
    auto alloc = gpu::AllocOp::create(b, s.type, tokenType, ValueRange{token},
                                      s.dynamicSizes, ValueRange{});
    token = alloc.getAsyncToken();
    buffers.scratch.push_back(alloc.getMemref());
  }
  token = launch(b, buffers, token);

  OpBuilder::InsertionGuard guard(b);
  if (completeBefore)
    b.setInsertionPoint(completeBefore);
  for (auto [host, device] : llvm::zip(hostOutputs, buffers.outputs))
    token = gpu::MemcpyOp::create(b, tokenType, ValueRange{token}, host, device)
                .getAsyncToken();
  for (ValueRange group :
       {ValueRange(buffers.inputs), ValueRange(buffers.outputs),
        ValueRange(buffers.scratch)})
    for (Value device : group)
      token = gpu::DeallocOp::create(b, tokenType, ValueRange{token}, device)
                  .getAsyncToken();
  gpu::WaitOp::create(b, Type(), ValueRange{token});
  for (auto [staged, host] : stagedOutputs)
    memref::CopyOp::create(b, staged, host);
  for (Value staged : staging)
    memref::DeallocOp::create(b, staged);
}

void mlir::magicpig::replaceWithDeviceWork(PatternRewriter &rewriter,
                                           Operation *op,
                                           const DeviceWork &work,
                                           const GPULoweringOptions &options,
                                           KernelLauncher launch) {
  rewriter.setInsertionPoint(op);
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);

  // The driver rejects a launch with an empty grid; there is nothing to
  // compute then (every output has a zero-sized grid dimension).
  Value nonEmpty;
  for (Value size : work.grid) {
    if (std::optional<int64_t> constant = getConstantIntValue(size)) {
      if (*constant == 0) {
        rewriter.eraseOp(op);
        return;
      }
      continue;
    }
    Value positive = arith::CmpIOp::create(b, arith::CmpIPredicate::ne, size,
                                           constantIndex(b, 0));
    nonEmpty = nonEmpty ? arith::AndIOp::create(b, nonEmpty, positive)
                        : positive;
  }

  if (nonEmpty) {
    // Async tokens cannot leave the scf.if (gpu-to-llvm tracks streams by
    // their defining ops), so a guarded op completes inside it.
    buildIf(b, nonEmpty, [&](ImplicitLocOpBuilder &b) {
      buildIssueAndComplete(b, work, /*completeBefore=*/nullptr, launch);
    });
  } else {
    Operation *completeBefore =
        options.overlapHost ? findCompletionPoint(op, work) : nullptr;
    buildIssueAndComplete(b, work, completeBefore, launch);
  }
  rewriter.eraseOp(op);
}
