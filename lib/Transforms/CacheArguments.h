//===- CacheArguments.h - K/V cache arguments read only by attention ------===//
//
// The decode graph's K/V cache arguments that only magicpig ops read, found
// by magicpig-strided-kv-arguments (to take strided views) and
// magicpig-narrow-kv-cache (to take them in a narrower element type).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_TRANSFORMS_CACHEARGUMENTS_H
#define MAGICPIG_TRANSFORMS_CACHEARGUMENTS_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::magicpig {

/// Whether `use` is the key or value operand of `attention`,
/// `window_attention` or `estimate`.
bool isAttentionKeyOrValue(OpOperand &use);

/// Walks the uses of `value` through `tensor.extract_slice`,
/// `collapse_shape` and `expand_shape` (skipping `tensor.dim`) and calls
/// `visit` on every other use; false as soon as one `visit` is false.
bool allCacheUses(Value value, llvm::function_ref<bool(OpOperand &)> visit);

/// A rank >= 2 tensor argument with a dynamic size whose uses (through
/// views) are all read-only operands of magicpig ops, at least one of them
/// an attention's key or value.
bool isAttentionOnlyCache(BlockArgument arg);

} // namespace mlir::magicpig

#endif // MAGICPIG_TRANSFORMS_CACHEARGUMENTS_H
