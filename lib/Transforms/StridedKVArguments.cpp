//===- StridedKVArguments.cpp - The magicpig-strided-kv-arguments pass ----===//
//
// Marks the cache arguments that only attention reads with a strided buffer
// layout, so that a caller may pass a view of a larger buffer instead of a
// contiguous copy (Passes.td).
//
//===----------------------------------------------------------------------===//

#include "CacheArguments.h"

#include "magicpig/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGSTRIDEDKVARGUMENTS
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

namespace {
struct StridedKVArgumentsPass
    : magicpig::impl::MagicPIGStridedKVArgumentsBase<StridedKVArgumentsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    auto layoutName = StringAttr::get(
        context, bufferization::BufferizationDialect::kBufferLayoutAttrName);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      for (BlockArgument arg : func.getArguments()) {
        if (!isAttentionOnlyCache(arg))
          continue;
        int64_t rank = cast<RankedTensorType>(arg.getType()).getRank();
        SmallVector<int64_t> strides(rank, ShapedType::kDynamic);
        strides.back() = 1;
        func.setArgAttr(arg.getArgNumber(), layoutName,
                        StridedLayoutAttr::get(context, ShapedType::kDynamic,
                                               strides));
      }
    }
  }
};
} // namespace
