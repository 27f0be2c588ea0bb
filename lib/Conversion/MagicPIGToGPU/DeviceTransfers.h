//===- DeviceTransfers.h - Run one kernel on device copies ------*- C++ -*-===//
//
// Every device op gets device copies of the host memrefs it reads, device
// buffers for what it writes, and copies the results back, on one async
// chain of its own (a CUDA stream). The chain is split in two:
//
//   issue:    gpu.wait async, gpu.alloc + gpu.memcpy of the inputs, gpu.alloc
//             of the outputs and scratch, the launch(es)      -- at the op
//   complete: gpu.memcpy of the outputs back, gpu.dealloc, blocking gpu.wait
//             -- right after the op, or (with `overlapHost`) just before the
//             first later op that may touch the op's buffers
//
// so host work placed between the two runs while the device computes. The
// kernels only ever see device memory, so a later scheme (device-resident
// K/V window, pinned staging) changes this file and not the kernels.
//
// An input may also be gathered: only some row ranges of one dimension cross
// PCIe, concatenated into a compact buffer (window_attention's sink and
// window rows, a few KB, instead of the layer's whole K/V).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_DEVICETRANSFERS_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_DEVICETRANSFERS_H

#include "../MagicPIGToSCF/LoweringUtils.h"

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::magicpig {

/// A device-only buffer of the kernel (never copied).
struct DeviceScratch {
  MemRefType type;
  SmallVector<Value> dynamicSizes;
};

/// Rows [begin, begin + size) of the gathered dimension of an input.
struct RowRange {
  Value begin, size;
};

/// A host memref a kernel reads. By default the device gets a copy of the
/// whole buffer. A gathered input (`rows` not empty) gets a compact device
/// buffer instead: the ranges `rows` of dimension `rowDim`, concatenated in
/// order (compact row r of range i is host row rows[i].begin + r - the sum
/// of the sizes before i), in a buffer of `compactRows` rows (at least the
/// ranges' total; rows past it are left undefined). The other dimensions
/// are copied whole.
struct DeviceInput {
  DeviceInput(Value host) : host(host) {}
  DeviceInput(Value host, int64_t rowDim, ArrayRef<RowRange> rows,
              Value compactRows)
      : host(host), rowDim(rowDim), rows(rows), compactRows(compactRows) {}

  Value host;
  int64_t rowDim = 0;
  SmallVector<RowRange> rows;
  Value compactRows;
};

/// The device buffers a kernel body works on, in the order given.
struct DeviceBuffers {
  SmallVector<Value> inputs, outputs, scratch;
};

/// Builds the kernel launch(es) after `token`; returns the token of the last.
using KernelLauncher = llvm::function_ref<Value(
    ImplicitLocOpBuilder &b, const DeviceBuffers &buffers, Value token)>;

/// What one device op needs: host memrefs read and written, device-only
/// scratch, and the grid (an empty grid means there is nothing to compute).
struct DeviceWork {
  SmallVector<DeviceInput> inputs;
  SmallVector<Value> outputs;
  SmallVector<DeviceScratch> scratch;
  SmallVector<Value> grid;
};

/// Fails (with a match failure reason) when an operand of `op` lives in a
/// memory space other than the host's default one.
LogicalResult checkDeviceOperands(Operation *op, PatternRewriter &rewriter);

/// A device lowering of the memref form of `OpTy`: the operands must be host
/// buffers (checkDeviceOperands), and `rewriteOnDevice` runs with the
/// insertion point at the op, which it replaces (replaceWithDeviceWork) or
/// leaves untouched with a match failure.
template <typename OpTy>
struct DeviceOpPattern : MemRefOpPattern<OpTy, GPULoweringOptions> {
  DeviceOpPattern(MLIRContext *context, const GPULoweringOptions &options)
      : MemRefOpPattern<OpTy, GPULoweringOptions>(context, options) {}

  LogicalResult rewriteMemRefOp(OpTy op,
                                PatternRewriter &rewriter) const final {
    if (failed(checkDeviceOperands(op, rewriter)))
      return failure();
    rewriter.setInsertionPoint(op);
    return rewriteOnDevice(op, rewriter);
  }

  virtual LogicalResult rewriteOnDevice(OpTy op,
                                        PatternRewriter &rewriter) const = 0;
};

/// Replaces `op` by the issue / complete chains of `work` around `launch`.
/// Host memrefs with a non-identity layout, and gathered inputs, are staged
/// through contiguous host buffers (gpu.memcpy copies whole contiguous
/// buffers). A grid with a
/// dynamic size is guarded by an scf.if (the driver rejects empty grids) and
/// then completes in place; a statically empty grid erases the op.
void replaceWithDeviceWork(PatternRewriter &rewriter, Operation *op,
                           const DeviceWork &work,
                           const GPULoweringOptions &options,
                           KernelLauncher launch);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_DEVICETRANSFERS_H
