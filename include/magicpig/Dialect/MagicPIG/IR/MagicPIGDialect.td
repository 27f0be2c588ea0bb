//===- MagicPIGDialect.td - MagicPIG dialect definition ----*- tablegen -*-===//
//
// The dialect that expresses LSH-sampled attention (MagicPIG).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGDIALECT_TD
#define MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGDIALECT_TD

include "mlir/IR/OpBase.td"

def MagicPIG_Dialect : Dialect {
  let name = "magicpig";
  let summary = "LSH-sampled attention for long-context decoding";
  let description = [{
    The `magicpig` dialect expresses decode attention and its MagicPIG
    rewrite: instead of reading every cached key, the query is hashed with
    SimHash into `L` codes of `K` bits, the keys whose codes collide with the
    query's in at least `T` of the `L` tables are retrieved from per-table
    bucket tables, and the attention output is estimated from the retrieved
    keys with weights corrected by each key's probability of retrieval. Sink
    and local-window tokens are attended exactly and the two partial results
    are merged through their log-sum-exp.

    Shape letters used throughout: batch `B`, query heads `Hq`, key/value
    heads `Hkv` (`Hq` is a multiple of `Hkv`; query head `h` reads kv head
    `h / (Hq / Hkv)`), head dims `d` (query/key) and `dv` (value), context
    length `N`, LSH bits per table `K`, tables `L`, candidate capacity `C`.

    Every op is destination-passing: on tensors it returns new tensors of the
    types of its `outs` operands; on memrefs it writes its `outs` operands
    and returns nothing. One-shot bufferization turns the first form into
    the second.
  }];
  let cppNamespace = "::mlir::magicpig";
}

#endif // MAGICPIG_DIALECT_MAGICPIG_IR_MAGICPIGDIALECT_TD
