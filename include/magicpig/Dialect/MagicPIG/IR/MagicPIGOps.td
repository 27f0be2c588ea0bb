//===- MagicPIGOps.td - MagicPIG operations ----------------*- tablegen -*-===//
//
// Ops of the MagicPIG dialect. Each op states its math in its description;
// the verifiers in MagicPIGOps.cpp enforce the shape and type rules.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGOPS_TD
#define MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGOPS_TD

include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Operands are ranked tensors (value semantics) or memrefs (after
// bufferization); the verifier checks that an op does not mix the two.
def MagicPIG_Shaped : AnyTypeOf<[AnyRankedTensor, AnyMemRef],
                                "ranked tensor or memref">;

class MagicPIG_Op<string mnemonic, list<Trait> traits = []> :
    Op<MagicPIG_Dialect, mnemonic, !listconcat(traits, [
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DestinationStyleOpInterface])> {
  // Tensor results mirror the `outs` operands; memref forms have none.
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Exact attention
//===----------------------------------------------------------------------===//

def MagicPIG_AttentionOp : MagicPIG_Op<"attention"> {
  let summary = "exact softmax attention (the target of raising)";
  let description = [{
    Exact scaled-dot-product attention with grouped-query heads:

    ```
    out[b, h, (s,) :] = sum_j softmax_j(scale * q[b, h, (s,) :] . k[b, g, j, :])
                        * v[b, g, j, :]          with g = h / (Hq / Hkv)
    ```

    Shapes: query `[B, Hq, d]` or `[B, Hq, S, d]` (with a query-length
    dimension), key `[B, Hkv, N, d]`, value `[B, Hkv, N, dv]`, output
    `[B, Hq, dv]` or `[B, Hq, S, dv]`. With `causal`, query position `s`
    attends only to keys `j <= N - S + s` (the queries are the last `S`
    positions of the context). Key and value share one element type (f32,
    f16 or bf16); accumulation is in f32.

    With `window = W` (sliding-window attention, W >= 1) the query at
    context position `p` attends only to the last `W` keys up to itself:

    ```
    p - W < j <= p       p = N - S + s   ([B, Hq, S, d], needs `causal`)
                         p = N - 1       ([B, Hq, d]: one decode query, the
                                          newest key is its own)
    ```

    so its cost is O(W) per query, not O(N). A windowed attention is not
    plain attention: `magicpig-sparsify` leaves it exact.

    With `lengths(%l)` (`[B]` i32 or i64, a decode query only) the batch is
    a set of sequences of different lengths padded into one cache: sequence
    `b` attends to keys `j < l[b]` (its cache) and to the last key `N - 1`
    (the row its own step appended); the keys in between are padding and
    are never read. A length outside `[0, N - 1]` is clamped to it, which is
    what the additive mask `0` on `j < l[b] or j >= N - 1`, `-inf`
    elsewhere, means. With `window = W` too (a sliding-window layer of a
    padded batch), sequence `b`'s query is at position `l[b]` and attends to
    its cache keys `l[b] - W < j < l[b]` (of `j < N - 1`; `l[b]` not
    clamped here, as the mask `j > l[b] - W` reads it) and to its own key
    `N - 1`.

    Example:

    ```mlir
    %o = magicpig.attention scale(0.125)
           ins(%q, %k, %v : tensor<1x8x64xf32>, tensor<1x2x512x64xbf16>,
                            tensor<1x2x512x64xbf16>)
           outs(%init : tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
    %w = magicpig.attention scale(0.125) causal window(512)
           ins(%q4, %k, %v : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>,
                             tensor<1x2x?x64xf32>)
           outs(%init4 : tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32>
    ```
  }];
  let arguments = (ins MagicPIG_Shaped:$query, MagicPIG_Shaped:$key,
                       MagicPIG_Shaped:$value, MagicPIG_Shaped:$output,
                       F32Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<I64Attr>:$window,
                       Optional<MagicPIG_Shaped>:$key_lengths);
  let assemblyFormat = [{
    `scale` `(` $scale `)` (`causal` $causal^)? (`window` `(` $window^ `)`)?
    (`lengths` `(` $key_lengths^ `:` type($key_lengths) `)`)?
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
              type($value) `)`
    `outs` `(` $output `:` type($output) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getOutputMutable(); }
    bool hasQueryLength() {
      return ::llvm::cast<::mlir::ShapedType>(getQuery().getType()).getRank() == 4;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Prefill-side index build
//===----------------------------------------------------------------------===//

def MagicPIG_CenterKeysOp : MagicPIG_Op<"center_keys"> {
  let summary = "subtract the mean of the offloaded keys from every key";
  let description = [{
    Key centering. With the offloaded range `M = [sink_tokens,
    N - window_tokens)`:

    ```
    mean[b, g, :]        = (1 / |M|) * sum_{j in M} key[b, g, j, :]
    centered[b, g, j, :] = key[b, g, j, :] - mean[b, g, :]     for all j
    ```

    Softmax is invariant to subtracting one vector from every key, so the
    attention output is unchanged while SimHash sees keys spread around the
    origin. When `M` is empty (`N <= sink_tokens + window_tokens`) the mean
    is zero. Shapes: key and centered `[B, Hkv, N, d]`, mean `[B, Hkv, d]`
    in f32.
  }];
  let arguments = (ins MagicPIG_Shaped:$key, MagicPIG_Shaped:$centered,
                       MagicPIG_Shaped:$mean, I64Attr:$sink_tokens,
                       I64Attr:$window_tokens);
  let assemblyFormat = [{
    `sink` `(` $sink_tokens `)` `window` `(` $window_tokens `)`
    `ins` `(` $key `:` type($key) `)`
    `outs` `(` $centered `,` $mean `:` type($centered) `,` type($mean) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 1, 2);
    }
  }];
}

def MagicPIG_KeyNormsOp : MagicPIG_Op<"key_norms"> {
  let summary = "Euclidean norm of every key";
  let description = [{
    `norms[b, g, j] = sqrt(sum_i key[b, g, j, i]^2)`, accumulated in f32.
    The estimate needs `|k_j|` to turn `q . k_j` into a cosine. Shapes: key
    `[B, Hkv, N, d]`, norms `[B, Hkv, N]` in f32.
  }];
  let arguments = (ins MagicPIG_Shaped:$key, MagicPIG_Shaped:$norms);
  let assemblyFormat = [{
    `ins` `(` $key `:` type($key) `)` `outs` `(` $norms `:` type($norms) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getNormsMutable(); }
  }];
}

def MagicPIG_SimHashOp : MagicPIG_Op<"simhash"> {
  let summary = "SimHash codes of vectors: L tables of K sign bits";
  let description = [{
    For a vector `x` (the last dimension of `input`, length `d`) and a
    projection `P` of shape `[d, K * L]`:

    ```
    codes[..., l] = sum_{i < K} [x . P[:, l * K + i] > 0] << i
    ```

    so bit `i` of the code in table `l` is the sign of one random
    projection. The code is scale invariant (a zero vector hashes to 0 in
    every table). `input` has rank >= 2 and any float element type; the
    projection is f32; `codes` has the leading dimensions of `input`, a last
    dimension of `L`, and a signless integer element type of at least `K`
    bits.
  }];
  let arguments = (ins MagicPIG_Shaped:$input, MagicPIG_Shaped:$projection,
                       MagicPIG_Shaped:$codes, I32Attr:$lsh_bits,
                       I32Attr:$lsh_tables);
  let assemblyFormat = [{
    `bits` `(` $lsh_bits `)` `tables` `(` $lsh_tables `)`
    `ins` `(` $input `,` $projection `:` type($input) `,` type($projection) `)`
    `outs` `(` $codes `:` type($codes) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getCodesMutable(); }
  }];
}

def MagicPIG_BuildTablesOp : MagicPIG_Op<"build_tables"> {
  let summary = "bucket tables in CSR form from key codes (counting sort)";
  let description = [{
    For each `(b, g, l)` sorts the offloaded tokens `j in M = [sink_tokens,
    N - window_tokens)` by their code `c = codes[b, g, j, l]` (a stable
    counting sort):

    ```
    offsets[b, g, l, c + 1] - offsets[b, g, l, c] = |{j in M : code_l(j) = c}|
    offsets[b, g, l, 0] = 0
    indices[b, g, l, offsets[b, g, l, c] + r] = r-th such j, ascending
    ```

    Stored indices are positions in the full cache, so the estimate reads
    `key[b, g, j]` directly. Entries of `indices` past `|M|` are zero.
    Shapes: codes `[B, Hkv, N, L]`, offsets `[B, Hkv, L, 2^K + 1]`,
    indices `[B, Hkv, L, N]`; offsets and indices are i32 or i64.
  }];
  let arguments = (ins MagicPIG_Shaped:$codes, MagicPIG_Shaped:$offsets,
                       MagicPIG_Shaped:$indices, I32Attr:$lsh_bits,
                       I64Attr:$sink_tokens, I64Attr:$window_tokens);
  let assemblyFormat = [{
    `bits` `(` $lsh_bits `)` `sink` `(` $sink_tokens `)`
    `window` `(` $window_tokens `)`
    `ins` `(` $codes `:` type($codes) `)`
    `outs` `(` $offsets `,` $indices `:` type($offsets) `,` type($indices) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 1, 2);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Decode
//===----------------------------------------------------------------------===//

def MagicPIG_RetrieveOp : MagicPIG_Op<"retrieve"> {
  let summary = "tokens whose codes collide with the query's in >= T tables";
  let description = [{
    For query head `h` (kv group `g = h / (Hq / Hkv)`), with
    `hits(j) = |{l : codes[b, g, j, l] = query_codes[b, h, l]}|` read from
    the bucket tables of group `g`:

    ```
    S(b, h) = {j : hits(j) >= min_collisions}          (ascending j)
    counts[b, h]        = min(|S(b, h)|, C)
    candidates[b, h, r] = r-th element of S(b, h),  r < counts[b, h]
    ```

    `C` is the capacity, the last dimension of `candidates`: a set larger
    than `C` is truncated to its first `C` tokens, never written past the
    end. Entries past `counts` are unspecified. Shapes: query_codes
    `[B, Hq, L]`, offsets `[B, Hkv, L, 2^K + 1]`, indices `[B, Hkv, L, N]`,
    candidates `[B, Hq, C]`, counts `[B, Hq]`; index element types are i32
    or i64.
  }];
  let arguments = (ins MagicPIG_Shaped:$query_codes, MagicPIG_Shaped:$offsets,
                       MagicPIG_Shaped:$indices, MagicPIG_Shaped:$candidates,
                       MagicPIG_Shaped:$counts, I32Attr:$lsh_bits,
                       I32Attr:$min_collisions);
  let assemblyFormat = [{
    `bits` `(` $lsh_bits `)` `min_collisions` `(` $min_collisions `)`
    `ins` `(` $query_codes `,` $offsets `,` $indices `:` type($query_codes) `,`
              type($offsets) `,` type($indices) `)`
    `outs` `(` $candidates `,` $counts `:` type($candidates) `,`
               type($counts) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 3, 2);
    }
  }];
}

def MagicPIG_EstimateOp : MagicPIG_Op<"estimate"> {
  let summary = "importance-weighted attention over the retrieved keys";
  let description = [{
    For each query head over its retrieved set `S` (the first `counts[b, h]`
    entries of `candidates[b, h]`), with `g = h / (Hq / Hkv)`, the raw cached
    key `k_j`, the key mean `m = key_mean[b, g]` and the norm of the centered
    key `n_j = key_norms[b, g, j] = |k_j - m|`:

    ```
    cos_j = clamp((q . k_j - q . m) / max(|q| n_j, 1e-30), -1, 1)
    p_j   = 1 - arccos(cos_j) / pi
    u_j   = 1 - sum_{t < T} binom(L, t) p_j^(K t) (1 - p_j^K)^(L - t)
    s_j   = scale * q . k_j - log(max(u_j, 1e-30))
    out   = sum_{j in S} softmax(s)_j v_j,   lse = logsumexp_{j in S}(s_j)
    ```

    The cosine is the one SimHash saw at prefill (between the query and the
    centered key), while the score uses the raw key, so `lse` has the same
    basis as a `window_attention` over the same cache and the two merge
    directly. `u_j` is the probability that a key at angle `arccos(cos_j)`
    collides with the query in at least `T = min_collisions` of `L` tables of
    `K` bits (for `T = 2`: `1 - (1 - p^K)^L - L p^K (1 - p^K)^(L - 1)`), so
    the weights undo the sampling bias. The `1e-30` floors keep the cosine
    and `log(u)` finite for zero-norm vectors and for keys that are almost
    never retrieved. An empty `S` gives `out = 0` and `lse = -inf`, which the
    merge treats as no contribution. Candidates outside the key cache or the
    norms (`j < 0`, `j >= N`, `j >= Nn`) are skipped, and `counts` above the
    capacity `C` are clamped to `C`.

    Shapes: query `[B, Hq, d]`, key `[B, Hkv, N, d]`, value
    `[B, Hkv, N, dv]`, key_norms `[B, Hkv, Nn]` f32 (`Nn <= N`: the prefix
    that was indexed at prefill), key_mean `[B, Hkv, d]` f32, candidates
    `[B, Hq, C]`, counts `[B, Hq]`, output `[B, Hq, dv]`, lse `[B, Hq]` f32.
  }];
  let arguments = (ins MagicPIG_Shaped:$query, MagicPIG_Shaped:$key,
                       MagicPIG_Shaped:$value, MagicPIG_Shaped:$key_norms,
                       MagicPIG_Shaped:$key_mean,
                       MagicPIG_Shaped:$candidates, MagicPIG_Shaped:$counts,
                       MagicPIG_Shaped:$output, MagicPIG_Shaped:$lse,
                       I32Attr:$lsh_bits, I32Attr:$lsh_tables,
                       I32Attr:$min_collisions, F32Attr:$scale);
  let assemblyFormat = [{
    `bits` `(` $lsh_bits `)` `tables` `(` $lsh_tables `)`
    `min_collisions` `(` $min_collisions `)` `scale` `(` $scale `)`
    `ins` `(` $query `,` $key `,` $value `,` $key_norms `,` $key_mean `,`
              $candidates `,` $counts `:` type($query) `,` type($key) `,`
              type($value) `,` type($key_norms) `,` type($key_mean) `,`
              type($candidates) `,` type($counts) `)`
    `outs` `(` $output `,` $lse `:` type($output) `,` type($lse) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 7, 2);
    }
  }];
}

def MagicPIG_WindowAttentionOp : MagicPIG_Op<"window_attention",
                                             [AttrSizedOperandSegments]> {
  let summary = "exact attention over sink and window tokens, with lse";
  let description = [{
    Exact attention restricted to the key positions
    `W = [0, min(sink_tokens, N)) U [max(window_start, sink_tokens), N)`:

    ```
    s_j = scale * q . k_j,   out = sum_{j in W} softmax(s)_j v_j,
    lse = logsumexp_{j in W}(s_j)
    ```

    `window_start` is a runtime index (the first token that was not hashed
    at prefill); with `window_start = sink_tokens` this is exact attention
    over the whole cache that also returns its log-sum-exp. An empty `W`
    gives `out = 0`, `lse = -inf`.

    A batch of sequences of different lengths padded into one cache adds,
    per sequence `b`, `lengths(%l)`: only keys `j < l[b]` are attended (the
    rest of its rows are padding), and `starts(%s)`: its window starts at
    `max(window_start, s[b])` (the sequence's own first unhashed token).
    Both are `[B]` i32 or i64. Shapes: query `[B, Hq, d]`, key
    `[B, Hkv, N, d]`, value `[B, Hkv, N, dv]`, output `[B, Hq, dv]`, lse
    `[B, Hq]` f32.
  }];
  let arguments = (ins MagicPIG_Shaped:$query, MagicPIG_Shaped:$key,
                       MagicPIG_Shaped:$value, Index:$window_start,
                       MagicPIG_Shaped:$output, MagicPIG_Shaped:$lse,
                       I64Attr:$sink_tokens, F32Attr:$scale,
                       Optional<MagicPIG_Shaped>:$key_lengths,
                       Optional<MagicPIG_Shaped>:$window_starts);
  let assemblyFormat = [{
    `sink` `(` $sink_tokens `)` `window_start` `(` $window_start `)`
    (`lengths` `(` $key_lengths^ `:` type($key_lengths) `)`)?
    (`starts` `(` $window_starts^ `:` type($window_starts) `)`)?
    `scale` `(` $scale `)`
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
              type($value) `)`
    `outs` `(` $output `,` $lse `:` type($output) `,` type($lse) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 4, 2);
    }
  }];
}

def MagicPIG_MergeOp : MagicPIG_Op<"merge"> {
  let summary = "combine two partial attention results by log-sum-exp";
  let description = [{
    Given partial outputs over disjoint key sets with their log-sum-exps:

    ```
    lse = logaddexp(lse_a, lse_b)
    out = exp(lse_a - lse) * out_a + exp(lse_b - lse) * out_b
    ```

    A side with `lse = -inf` contributes nothing; if both are `-inf` the
    output is 0 and `lse = -inf`. Shapes: outputs `[B, Hq, dv]`, lse
    `[B, Hq]` f32.
  }];
  let arguments = (ins MagicPIG_Shaped:$output_a, MagicPIG_Shaped:$lse_a,
                       MagicPIG_Shaped:$output_b, MagicPIG_Shaped:$lse_b,
                       MagicPIG_Shaped:$output, MagicPIG_Shaped:$lse);
  let assemblyFormat = [{
    `ins` `(` $output_a `,` $lse_a `,` $output_b `,` $lse_b `:`
              type($output_a) `,` type($lse_a) `,` type($output_b) `,`
              type($lse_b) `)`
    `outs` `(` $output `,` $lse `:` type($output) `,` type($lse) `)`
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(), 4, 2);
    }
  }];
}

#endif // MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGOPS_TD
