//===- RaiseAttention.cpp --------------------------------------------------===//
//
// Placeholder until the pass lands: it changes nothing.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Transforms/Passes.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGRAISEATTENTION
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

namespace {
struct MagicPIGRaiseAttentionPass : magicpig::impl::MagicPIGRaiseAttentionBase<MagicPIGRaiseAttentionPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
