"""The state of a padded decode batch: K/V cache and MagicPIG index, one
slot per running sequence (docs/ABI.md, "A padded batch of sequences").

A sequence joins with what its own prefill returned (its cache rows and the
four index buffers of each sparse layer) and leaves when it ends; the last
slot then moves into the freed one, so the running sequences are always
slots `0 .. B-1` and `arguments()` hands the graph views, not copies:

- the cache `[L, B, Hkv, M, d]`, M the longest sequence's length (rows past
  a sequence's own length are padding, which `decode_batch` never attends);
- `positions [B]`, each sequence's length;
- the index buffers stacked along B, indices and norms padded to the
  longest prefill (zeros past a sequence's own prefill length, which none
  of its offsets reaches).

`append` writes each sequence's new K/V row at its own length. The cache
grows by doubling (rows and slots), so a step copies only its new rows.
"""

import numpy as np
import torch

from magicpig.errors import MagicPigError
from magicpig.slot_buffer import SlotBuffer

# The dimension of each index buffer (offsets, indices, norms, mean) whose
# extent is the sequence's prefill length (docs/ABI.md).
_INDEX_GROW_DIMS = (None, 3, 2, None)


class BatchCache:
    def __init__(self, cache_dtype=torch.float32, slots=1):
        """slots: sequences to allocate room for at the first join (a
        serving batch's size), so that the buffers are not copied as the
        batch fills; more still fit (the slots double)."""
        self.cache_dtype = cache_dtype
        self.initial_slots = slots
        self.k = self.v = None
        self.index = []
        self.lengths = []  # per slot: the rows of its cache
        self.prefill_lengths = []  # per slot: the extent of its index buffers

    @property
    def count(self):
        return len(self.lengths)

    def join(self, k, v, index, capacity):
        """A sequence's prefill output (k, v `[L, 1, Hkv, N, d]`, its index
        buffers) in a new slot, with room for `capacity` rows; its slot."""
        k, v = torch.as_tensor(k), torch.as_tensor(v)
        index = [torch.as_tensor(np.asarray(buffer)) for buffer in index]
        if self.k is None:
            self.k = SlotBuffer(k, slot_dim=1, grow_dim=3, dtype=self.cache_dtype)
            self.v = SlotBuffer(v, slot_dim=1, grow_dim=3, dtype=self.cache_dtype)
            self.index = [SlotBuffer(buffer, 0, _INDEX_GROW_DIMS[i % 4])
                          for i, buffer in enumerate(index)]
        if len(index) != len(self.index):
            raise MagicPigError(f"a sequence joins with {len(index)} index buffers; "
                                f"the batch has {len(self.index)}")
        slot, length = self.count, k.shape[3]
        slots = max(slot + 1, self.initial_slots)
        for buffer in (self.k, self.v):
            buffer.reserve(slots, max(capacity, length))
        for buffer, tensor in zip(self.index, index):
            buffer.reserve(slots, tensor.shape[buffer.grow_dim]
                           if buffer.grow_dim is not None else 0)
        self.k.put(slot, k)
        self.v.put(slot, v)
        for buffer, tensor in zip(self.index, index):
            buffer.put(slot, tensor)
        self.lengths.append(length)
        self.prefill_lengths.append(index[1].shape[3] if index else 0)
        return slot

    def leave(self, slot):
        """Frees `slot`; the last slot moves into it. Returns the slot that
        moved (now `slot`), or None when `slot` was the last. The last
        sequence to leave frees the buffers."""
        last = self.count - 1
        if not 0 <= slot <= last:
            raise MagicPigError(f"no sequence in batch slot {slot}")
        moved = None
        if slot != last:
            self.k.move(last, slot, self.lengths[last])
            self.v.move(last, slot, self.lengths[last])
            for buffer in self.index:
                buffer.move(last, slot)
            self.lengths[slot] = self.lengths[last]
            self.prefill_lengths[slot] = self.prefill_lengths[last]
            moved = last
        self.lengths.pop()
        self.prefill_lengths.pop()
        if not self.lengths:  # idle: the memory goes back, the next join allocates
            self.k = self.v = None
            self.index = []
        return moved

    def arguments(self):
        """(positions, k, v, index) of the running slots, as the graph's
        numpy arrays (views; bf16 as uint16 bit patterns)."""
        from magicpig.compiled import cache_array

        if not self.count:
            raise MagicPigError("the batch has no sequence")
        longest = max(self.lengths)
        return (np.asarray(self.lengths, dtype=np.int64),
                cache_array(self.k.view(self.count, longest)),
                cache_array(self.v.view(self.count, longest)),
                [buffer.view(self.count).numpy() for buffer in self.index])

    def single_arguments(self):
        """(position, k, v, index) of a batch of one sequence as the batch-1
        `decode` takes them: its cache rows as views, its index buffers
        exactly as long as its prefill (`decode` reads the prefill length
        from their shape; the buffers are trimmed to it once if a longer
        sequence had grown them)."""
        from magicpig.compiled import cache_array

        if self.count != 1:
            raise MagicPigError(f"single_arguments needs a batch of one, not {self.count}")
        n = self.lengths[0]
        for buffer in self.index:
            buffer.fit(self.prefill_lengths[0])
        return (n, cache_array(self.k.view(1, n)), cache_array(self.v.view(1, n)),
                [buffer.view(1).numpy() for buffer in self.index])

    def append(self, k_new, v_new):
        """The step's new rows (`[L, B, Hkv, 1, d]`, slot order), each at
        its sequence's length."""
        k_new, v_new = torch.as_tensor(k_new), torch.as_tensor(v_new)
        if k_new.shape[1] != self.count:
            raise MagicPigError(f"{k_new.shape[1]} new rows for a batch of {self.count}")
        longest = max(self.lengths)
        if longest >= self.k.capacity:
            for buffer in (self.k, self.v):
                buffer.reserve(self.count, 2 * self.k.capacity)
        slots = torch.arange(self.count)
        rows = torch.as_tensor(self.lengths)
        # Advanced indices on dims 1 and 3: the result's leading dim is B.
        self.k.buffer[:, slots, :, rows] = k_new[:, :, :, 0].transpose(0, 1).to(self.cache_dtype)
        self.v.buffer[:, slots, :, rows] = v_new[:, :, :, 0].transpose(0, 1).to(self.cache_dtype)
        self.lengths = [n + 1 for n in self.lengths]

    def cache_bytes(self):
        """(filled, allocated) bytes of K and V."""
        if self.k is None:
            return 0, 0
        shape = self.k.buffer.shape
        row = shape[0] * shape[2] * shape[4] * self.k.buffer.element_size()
        return 2 * row * sum(self.lengths), self.k.nbytes() + self.v.nbytes()

    def index_bytes(self):
        """Bytes of the running sequences' index buffers (each padded to
        the longest prefill)."""
        if not self.index:
            return 0
        return sum(buffer.nbytes() // buffer.slots for buffer in self.index) * self.count
