//===- MagicPIGToGPU.h - Lowering of device-side ops to gpu -----*- C++ -*-===//
//
// The device-side ops of the heterogeneous decode graph (simhash,
// window_attention, merge, exact attention) in memref form become gpu.launch
// kernels with their own host <-> device transfers. What depends on the
// hardware (warp size, block limits) is read from a GPUTargetInfo, so the
// kernel builders stay target neutral.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_CONVERSION_MAGICPIGTOGPU_MAGICPIGTOGPU_H
#define MAGICPIG_CONVERSION_MAGICPIGTOGPU_MAGICPIGTOGPU_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
class RewritePatternSet;
namespace magicpig {

/// What the kernel builders need to know about the GPU.
struct GPUTargetInfo {
  /// `sm_XY` (optionally with an `a` or `f` suffix), as for
  /// nvvm-attach-target.
  std::string chip = "sm_90";
  /// Compute capability 10 * X + Y.
  int64_t computeCapability = 90;
  /// Lanes of a warp: the width of gpu.shuffle in block reductions.
  int64_t warpSize = 32;
  /// Most threads of one block.
  int64_t maxThreadsPerBlock = 1024;

  /// The target of an NVIDIA chip name; fails with `error` set for a name
  /// that is not `sm_XY`, a chip LLVM's NVPTX backend does not know (the
  /// error lists those it does), or one CUDA 13 (or the kernels) cannot
  /// target.
  static FailureOr<GPUTargetInfo> forChip(StringRef chip, std::string &error);

  /// The reduction of `value` over the lanes of each warp (gpu.shuffle xor
  /// butterfly): every lane gets the result. `isMax` selects max, else add.
  Value buildWarpReduce(ImplicitLocOpBuilder &b, Value value,
                        bool isMax) const;

  /// The reduction of `value` over the threads of a block of `blockSize`
  /// threads (a multiple of the warp size). `scratch` is a workgroup buffer
  /// of at least maxThreadsPerBlock / warpSize f32. Every thread gets the
  /// result; all threads of the block must call it (it has barriers).
  Value buildBlockReduce(ImplicitLocOpBuilder &b, Value value, bool isMax,
                         Value scratch, Value threadId, Value blockSize) const;
};

/// Options of the device lowering.
struct GPULoweringOptions {
  GPUTargetInfo target;
  /// Threads of one block of every kernel (a multiple of the warp size).
  int64_t threadsPerBlock = 128;
  /// Wait for a device op's results only before the first later op that
  /// may touch its buffers (not right after its launch), so that host work
  /// in between overlaps the device work.
  bool overlapHost = false;
};

/// simhash, window_attention, merge and attention (memref forms) to
/// gpu.launch with explicit gpu.alloc / gpu.memcpy transfers.
void populateMagicPIGToGPUPatterns(RewritePatternSet &patterns,
                                   const GPULoweringOptions &options);

} // namespace magicpig
} // namespace mlir

#endif // MAGICPIG_CONVERSION_MAGICPIGTOGPU_MAGICPIGTOGPU_H
