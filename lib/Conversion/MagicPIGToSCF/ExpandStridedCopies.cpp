//===- ExpandStridedCopies.cpp - Non-contiguous memref.copy to linalg ------===//
//
// A memref.copy that is not between two identity-layout memrefs would become
// a call to the runtime's element-by-element memrefCopy; as linalg.copy it
// becomes a vectorizable loop nest (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "magicpig/Conversion/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGEXPANDSTRIDEDCOPIES
#include "magicpig/Conversion/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

static bool hasIdentityLayout(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getLayout().isIdentity();
}

namespace {
struct ExpandStridedCopiesPass
    : magicpig::impl::MagicPIGExpandStridedCopiesBase<ExpandStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> strided;
    getOperation()->walk([&](memref::CopyOp copy) {
      // Unranked memrefs and contiguous pairs keep their memref.copy.
      if (!isa<MemRefType>(copy.getSource().getType()) ||
          !isa<MemRefType>(copy.getTarget().getType()))
        return;
      if (!hasIdentityLayout(copy.getSource()) ||
          !hasIdentityLayout(copy.getTarget()))
        strided.push_back(copy);
    });
    for (memref::CopyOp copy : strided) {
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
