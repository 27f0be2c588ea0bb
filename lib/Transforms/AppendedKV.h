//===- AppendedKV.h - Attention over a cache with appended rows -*- C++ -*-===//
//
// An exported decode step appends the new key and value rows to the cache
// (`torch.cat`, a tensor.concat along the token dimension) and attends to
// the result. The attention can instead attend to the cache and to the
// appended rows separately and merge the two by log-sum-exp, which is exact
// and leaves the concatenation, a copy of the whole cache per layer and
// step, without users.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_TRANSFORMS_APPENDEDKV_H
#define MAGICPIG_LIB_TRANSFORMS_APPENDEDKV_H

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir::magicpig {

/// Key and value as (cache, appended rows).
struct AppendedKV {
  Value cacheKey, appendedKey, cacheValue, appendedValue;
};

/// The parts of `key` and `value` when both are a two-operand
/// tensor.concat along dim 2 (tokens) of rank-4 tensors.
std::optional<AppendedKV> matchAppendedKV(Value key, Value value);

/// A decode attention has no query-length dimension, or a static one of 1.
bool isDecodeAttention(AttentionOp op);

/// Exact attention of `query` [B, Hq, d] over the rows [firstKey, N) of
/// `key`/`value` (every row without `firstKey`), as (out [B, Hq, dv] f32,
/// lse [B, Hq] f32): a window_attention with no sink. In a padded batch,
/// `keyLengths` and `windowStarts` are its per-sequence operands.
std::pair<Value, Value> attendWithLse(OpBuilder &b, Location loc, Value query,
                                      Value key, Value value, FloatAttr scale,
                                      Value firstKey = {},
                                      Value keyLengths = {},
                                      Value windowStarts = {});

/// merge of two (out, lse) partial results into an output of `elementType`
/// and its lse (f32).
std::pair<Value, Value> mergePartials(OpBuilder &b, Location loc,
                                      std::pair<Value, Value> first,
                                      std::pair<Value, Value> second,
                                      Type elementType);

/// The query of a decode attention as [B, Hq, d] (collapsing a query
/// length of 1).
Value decodeQuery(OpBuilder &b, AttentionOp op);

/// Replaces decode attention `op` by `result` ([B, Hq, dv], expanded back to
/// the op's type), erases it, and erases its key and value when they are
/// concatenations left without users (they would still copy the cache).
void replaceDecodeAttention(OpBuilder &b, AttentionOp op, Value result);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_TRANSFORMS_APPENDEDKV_H
