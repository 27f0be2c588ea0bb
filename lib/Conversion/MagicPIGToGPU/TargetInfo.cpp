//===- TargetInfo.cpp - The NVIDIA hardware behind the device kernels -----===//
//
// The only place that knows the warp size and how a block reduces a value:
// the kernels ask GPUTargetInfo for a block-wide max or sum.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/MagicPIGToGPU/MagicPIGToGPU.h"

#include "../MagicPIGToSCF/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Triple.h"

#include <limits>

using namespace mlir;
using namespace mlir::magicpig;

/// CUDA 13's ptxas dropped sm_70 and older, and the kernels' bf16 loads need
/// sm_80's cvt.f32.bf16.
static constexpr int64_t kMinComputeCapability = 80;

/// The leading compute capability of a chip name after `sm_` (100 for
/// sm_100a), or -1.
static int64_t capabilityOf(StringRef chip) {
  int64_t capability = -1;
  if (!chip.consume_front("sm_") ||
      chip.take_while(llvm::isDigit).getAsInteger(10, capability))
    return -1;
  return capability;
}

/// The NVPTX backend's processor table: a chip it does not know would
/// compile to IR that instruction selection aborts on.
static const llvm::MCSubtargetInfo *nvptxSubtarget() {
  static const llvm::MCSubtargetInfo *info = []() {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTargetMC();
    llvm::Triple triple("nvptx64-nvidia-cuda");
    std::string error;
    const llvm::Target *target =
        llvm::TargetRegistry::lookupTarget(triple, error);
    return target ? target->createMCSubtargetInfo(triple, "", "") : nullptr;
  }();
  return info;
}

/// The chips of the NVPTX backend that the kernels can target, oldest first.
static std::string supportedChips(const llvm::MCSubtargetInfo &info) {
  SmallVector<StringRef> chips;
  for (const llvm::SubtargetSubTypeKV &processor :
       info.getAllProcessorDescriptions())
    if (capabilityOf(processor.Key) >= kMinComputeCapability)
      chips.push_back(processor.Key);
  llvm::stable_sort(chips, [](StringRef a, StringRef b) {
    return std::make_pair(capabilityOf(a), a) <
           std::make_pair(capabilityOf(b), b);
  });
  return llvm::join(chips, ", ");
}

FailureOr<GPUTargetInfo> GPUTargetInfo::forChip(StringRef chip,
                                                std::string &error) {
  int64_t capability = capabilityOf(chip);
  if (capability < 0) {
    error = "chip '" + chip.str() + "' is not of the form sm_XY";
    return failure();
  }
  const llvm::MCSubtargetInfo *nvptx = nvptxSubtarget();
  if (!nvptx) {
    error = "this LLVM has no NVPTX backend to compile chip '" + chip.str() +
            "' for";
    return failure();
  }
  if (!nvptx->isCPUStringValid(chip)) {
    error = "chip '" + chip.str() +
            "' is not an NVIDIA chip the NVPTX backend knows; valid: " +
            supportedChips(*nvptx);
    return failure();
  }
  if (capability < kMinComputeCapability) {
    error = "chip '" + chip.str() + "' is older than sm_80, which the " +
            "kernels (bf16 loads) and CUDA 13 need";
    return failure();
  }
  GPUTargetInfo info;
  info.chip = chip.str();
  info.computeCapability = capability;
  return info;
}

static Value combine(ImplicitLocOpBuilder &b, Value lhs, Value rhs,
                     bool isMax) {
  if (isMax)
    return arith::MaximumFOp::create(b, lhs, rhs);
  return arith::AddFOp::create(b, lhs, rhs);
}

Value GPUTargetInfo::buildWarpReduce(ImplicitLocOpBuilder &b, Value value,
                                     bool isMax) const {
  // Butterfly: after log2(warpSize) xor steps every lane holds the total.
  for (int64_t offset = warpSize / 2; offset >= 1; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, value, offset, warpSize,
                                          gpu::ShuffleMode::XOR);
    value = combine(b, value, shuffle.getShuffleResult(), isMax);
  }
  return value;
}

Value GPUTargetInfo::buildBlockReduce(ImplicitLocOpBuilder &b, Value value,
                                      bool isMax, Value scratch,
                                      Value threadId, Value blockSize) const {
  Value warp = constantIndex(b, warpSize);
  Value lane = arith::RemUIOp::create(b, threadId, warp);
  Value warpId = arith::DivUIOp::create(b, threadId, warp);
  Value zero = constantIndex(b, 0);

  // Lane 0 of each warp publishes its warp's result.
  Value partial = buildWarpReduce(b, value, isMax);
  Value isLeader =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, zero);
  buildIf(b, isLeader, [&](ImplicitLocOpBuilder &b) {
    memref::StoreOp::create(b, partial, scratch, warpId);
  });
  gpu::BarrierOp::create(b);

  // Every warp reduces the published results itself, so no second round
  // of broadcasting is needed.
  Value numWarps = ceilDivIndex(b, blockSize, warp);
  Value slot = minIndex(b, lane, subIndex(b, numWarps, constantIndex(b, 1)));
  Value published = memref::LoadOp::create(b, scratch, slot);
  Value identity = constantF32(
      b, isMax ? -std::numeric_limits<float>::infinity() : 0.0f);
  Value inRange =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, lane, numWarps);
  Value total = buildWarpReduce(
      b, arith::SelectOp::create(b, inRange, published, identity), isMax);
  // The scratch is free again only when every warp has read it.
  gpu::BarrierOp::create(b);
  return total;
}
