//===- KernelBuilders.h - Pieces of the device kernels ---------*- C++ -*-===//
//
// A gpu.launch with a one-dimensional block and a grid of up to three
// dimensions, the loop by which the threads of a block share a range, and
// the f32 scalar loads/stores every kernel uses (K/V may be f16 or bf16; the
// kernels compute in f32 like the CPU lowering).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_KERNELBUILDERS_H
#define MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_KERNELBUILDERS_H

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::magicpig {

/// The ids a kernel body sees.
struct KernelIds {
  Value blockX, blockY, blockZ;
  Value thread;    // Thread id in the (one-dimensional) block.
  Value blockSize; // Threads of the block.
  Value reductionScratch; // Workgroup f32 buffer for buildBlockReduce.
  SmallVector<Value> workgroup; // The kernel's own workgroup f32 buffers.
};

/// gpu.launch async [token] with grid (x, y, z) and `options.threadsPerBlock`
/// threads; returns its token. Besides the reduction scratch, the block gets
/// one workgroup (shared memory) f32 buffer per entry of `workgroupSizes`.
Value buildLaunch(ImplicitLocOpBuilder &b, Value token, Value gridX,
                  Value gridY, Value gridZ, const GPULoweringOptions &options,
                  ArrayRef<int64_t> workgroupSizes,
                  llvm::function_ref<void(ImplicitLocOpBuilder &,
                                          const KernelIds &)>
                      body);

/// for (i = thread; i < end; i += blockSize): the threads of a block share
/// [0, end) round robin, so neighbouring threads touch neighbouring elements
/// (coalesced when i is the innermost index).
SmallVector<Value> buildBlockStridedFor(
    ImplicitLocOpBuilder &b, const KernelIds &ids, Value end, ValueRange init,
    llvm::function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                          ValueRange)>
        body);

/// memref[indices] as f32 (arith.extf from f16/bf16).
Value loadF32(ImplicitLocOpBuilder &b, Value memref, ValueRange indices);

/// Stores the f32 `value` into memref[indices] (arith.truncf to f16/bf16).
void storeF32(ImplicitLocOpBuilder &b, Value value, Value memref,
              ValueRange indices);

/// sum_i lhs[lhsRow, i] * rhs[rhsRow, i] for i < length, in f32.
Value buildScalarRowDot(ImplicitLocOpBuilder &b, Value lhs, ValueRange lhsRow,
                        Value rhs, ValueRange rhsRow, Value length);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_CONVERSION_MAGICPIGTOGPU_KERNELBUILDERS_H
