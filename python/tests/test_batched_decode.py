"""Llama.decode_batch: one step over a padded batch equals each sequence's
own decode, whatever fills the padding; BatchCache keeps every sequence's
rows where decode_batch reads them as sequences join, step and leave."""

import numpy as np
import pytest
import torch

from magicpig.batch_cache import BatchCache
from magicpig.llama import padding_mask


def prompts(vocab, lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab, (1, n), generator=g) for n in lengths]


def padded(caches, fill):
    """Stacks `[L, 1, Hkv, n_b, d]` caches into `[L, B, Hkv, max n, d]`
    with `fill` in the padding."""
    longest = max(c.shape[3] for c in caches)
    out = []
    for c in caches:
        pad = torch.full(c.shape[:3] + (longest - c.shape[3], c.shape[4]), fill)
        out.append(torch.cat([c, pad], dim=3))
    return torch.cat(out, dim=1)


def test_padding_mask_shows_own_rows_and_the_new_key():
    mask = padding_mask(torch.tensor([0, 2, 4]), 4)
    seen = (mask[:, 0, 0] == 0).numpy()
    np.testing.assert_array_equal(seen, [[0, 0, 0, 0, 1],
                                         [1, 1, 0, 0, 1],
                                         [1, 1, 1, 1, 1]])


@pytest.mark.parametrize("fill", [0.0, 1e4, -1e4])
def test_decode_batch_equals_each_sequences_decode(tiny, fill):
    c = tiny.config
    lengths = [5, 11, 2, 8]
    with torch.no_grad():
        runs = [tiny.prefill(p) for p in prompts(c.vocab_size, lengths)]
        tokens = torch.tensor([[3], [7], [1], [12]])
        want = [tiny.decode(tokens[b:b + 1], lengths[b], k, v)
                for b, (_, k, v) in enumerate(runs)]
        logits, k_new, v_new = tiny.decode_batch(
            tokens, torch.tensor(lengths), padded([k for _, k, _ in runs], fill),
            padded([v for _, _, v in runs], fill))
    for b, (w_logits, w_k, w_v) in enumerate(want):
        torch.testing.assert_close(logits[b:b + 1], w_logits, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(k_new[:, b:b + 1], w_k, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(v_new[:, b:b + 1], w_v, atol=1e-5, rtol=1e-5)


def test_batch_cache_serves_joins_steps_and_leaves(tiny):
    """Five steps of a batch whose members change (join, leave from the
    middle, join again), each step through BatchCache.arguments/append,
    against every sequence decoded alone."""
    c = tiny.config
    g = torch.Generator().manual_seed(1)
    batch = BatchCache()
    alone = {}   # name -> (k, v, length) of its own decode
    slots = []   # slot -> name

    def join(name, n):
        tokens = torch.randint(0, c.vocab_size, (1, n), generator=g)
        _, k, v = tiny.prefill(tokens)
        alone[name] = [k, v]
        slots.append(name)
        assert batch.join(k.numpy(), v.numpy(), [], capacity=n + 1) == len(slots) - 1

    def leave(name):
        slot = slots.index(name)
        moved = batch.leave(slot)
        last = slots.pop()
        if moved is not None:
            slots[slot] = last

    def step():
        positions, k, v, index = batch.arguments()
        assert index == []
        tokens = torch.randint(0, c.vocab_size, (len(slots), 1), generator=g)
        logits, k_new, v_new = tiny.decode_batch(tokens, torch.from_numpy(positions),
                                                 torch.from_numpy(k), torch.from_numpy(v))
        batch.append(k_new, v_new)
        for b, name in enumerate(slots):
            ak, av = alone[name]
            assert positions[b] == ak.shape[3]
            w_logits, w_k, w_v = tiny.decode(tokens[b:b + 1], ak.shape[3], ak, av)
            torch.testing.assert_close(logits[b:b + 1], w_logits, atol=1e-5, rtol=1e-5)
            alone[name] = [torch.cat([ak, w_k], 3), torch.cat([av, w_v], 3)]

    with torch.no_grad():
        join("a", 6)
        join("b", 3)
        step()
        step()  # b's capacity (4 rows) is passed: the buffer grows
        join("c", 9)
        step()
        leave("a")  # c moves into a's slot
        step()
        join("d", 2)
        step()
    positions, k, _, _ = batch.arguments()
    for b, name in enumerate(slots):
        want = alone[name][0]
        n = want.shape[3]
        assert positions[b] == n
        np.testing.assert_allclose(k[:, b:b + 1, :, :n], want.numpy(), atol=1e-5)
    filled, allocated = batch.cache_bytes()
    assert filled == sum(alone[n][0].numel() * 4 * 2 for n in slots)
    assert allocated >= filled


def test_batch_cache_pads_the_index_per_sequence():
    """Index buffers of different prefill lengths stack along B, padded
    with zeros past each sequence's own length, and a leaving slot's
    successor carries its own buffers."""
    batch = BatchCache()

    def index(n, value):
        return [np.full((1, 2, 3, 5), value, np.int32),       # offsets
                np.full((1, 2, 3, n), value, np.int32),       # indices
                np.full((1, 2, n), float(value), np.float32),  # norms
                np.full((1, 2, 4), float(value), np.float32)]  # mean

    kv = np.zeros((1, 1, 2, 4, 4), np.float32)
    batch.join(kv, kv, index(4, 1), capacity=4)
    batch.join(kv, kv, index(7, 2), capacity=4)
    batch.join(kv, kv, index(3, 3), capacity=4)
    _, _, _, buffers = batch.arguments()
    offsets, indices, norms, mean = buffers
    assert indices.shape == (3, 2, 3, 7) and norms.shape == (3, 2, 7)
    assert (indices[0, ..., :4] == 1).all() and (indices[0, ..., 4:] == 0).all()
    assert (indices[2, ..., :3] == 3).all() and (indices[2, ..., 3:] == 0).all()
    assert (norms[1] == 2).all() and (mean[2] == 3).all() and (offsets[0] == 1).all()
    assert batch.leave(0) == 2
    _, _, _, (offsets, indices, norms, mean) = batch.arguments()
    assert offsets.shape[0] == 2 and (offsets[0] == 3).all() and (mean[1] == 2).all()
    assert (indices[0, ..., :3] == 3).all() and (indices[0, ..., 3:] == 0).all()
    with pytest.raises(Exception, match="index buffers"):
        batch.join(kv, kv, index(2, 4)[:2], capacity=4)
