"""The check that a compiled graph's decode_batch equals each sequence
decoded alone, shared by the tiny Llama's and the transformers models'
tests."""

import numpy as np
import torch


def check_batched_against_alone(compiled, vocab, prompt_lengths, atol, steps=8):
    """Prompts of `prompt_lengths` (three, of different lengths) decoded
    alone (decode, each with its own KVCache and index) and together
    (decode_batch over one BatchCache, the middle sequence leaving after 3
    steps, the last after 5: the first, shorter than the one that grew the
    index buffers, then decodes alone through the batch-1 graph; the
    buffers grow during the steps), fed the same greedy
    tokens (the alone run's). The logits must agree within `atol`, and
    sampled layers must retrieve exactly the same keys (the same index and
    compile-time SimHash projection: equal counts). Returns the keys
    retrieved in all, summed over steps."""
    generator = torch.Generator().manual_seed(3)
    prompts = [torch.randint(3, vocab, (n,), generator=generator).tolist()
               for n in prompt_lengths]
    batch = compiled.new_batch_cache()
    alone, tokens = [], []
    for ids in prompts:
        logits, k, v, index = compiled.prefill([ids])
        batch.join(k, v, index, capacity=len(ids) + 2)
        alone.append((compiled.new_cache(k, v, len(ids) + steps), index))
        tokens.append(int(np.argmax(logits[0])))
    members = [0, 1, 2]  # slot -> sequence
    retrieved = compared = 0
    for step in range(steps):
        if step == 3:
            assert batch.leave(1) == 2  # the last slot moves into the freed one
            members = [0, 2]
        if step == 5:
            assert batch.leave(1) is None
            members = [0]
        logits, counts = compiled.decode_batch_step([tokens[s] for s in members], batch)
        for slot, s in enumerate(members):
            cache, index = alone[s]
            own_logits, own_counts = compiled.decode_step(tokens[s], cache, index)
            np.testing.assert_allclose(logits[slot], own_logits[0], rtol=0, atol=atol,
                                       err_msg=f"step {step}, sequence {s}")
            assert len(counts) == len(own_counts)
            for batched, own in zip(counts, own_counts):
                np.testing.assert_array_equal(batched[slot], own[0])
                retrieved += int(own.sum())
            assert batch.lengths[slot] == cache.length
            tokens[s] = int(np.argmax(own_logits[0]))
            compared += 1
    assert compared == 3 * 3 + 2 * 2 + 3 * 1
    return retrieved
