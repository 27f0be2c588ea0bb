"""A tensor holding one slot per running sequence of a batch.

The buffers of a padded batch (docs/ABI.md) are one tensor each with the
sequences stacked along a slot dimension, and usually a second dimension
whose extent differs per sequence (cache rows, prefill tokens): the buffer
is as long as the longest (or longer, as its owner grows it), so a joining
sequence copies its own rows only. The running sequences hold slots `0 .. count - 1`, so
`view(count, extent)` is a view of the buffer (no copy) that a graph taking
strided arguments reads as it is.
"""

import torch


class SlotBuffer:
    def __init__(self, sample, slot_dim, grow_dim=None, dtype=None):
        """sample: a tensor of one sequence (extent 1 along `slot_dim`)
        giving the other sizes; `grow_dim`: the dimension of per-sequence
        extent (None: every sequence has the same sizes)."""
        self.slot_dim, self.grow_dim = slot_dim, grow_dim
        self.dtype = dtype or sample.dtype
        self.buffer = torch.zeros(self._shape(list(sample.shape), 1, self._extent(sample)),
                                  dtype=self.dtype)

    def _extent(self, tensor):
        return tensor.shape[self.grow_dim] if self.grow_dim is not None else 0

    def _shape(self, shape, slots, extent):
        shape[self.slot_dim] = slots
        if self.grow_dim is not None:
            shape[self.grow_dim] = extent
        return shape

    @property
    def slots(self):
        return self.buffer.shape[self.slot_dim]

    @property
    def capacity(self):
        return self.buffer.shape[self.grow_dim] if self.grow_dim is not None else 0

    def reserve(self, slots, capacity=0):
        """At least `slots` slots (doubled as needed) and `capacity` along
        the growing dimension (exactly: the caller chooses its growth); the
        content is kept."""
        new_slots, new_capacity = self.slots, max(self.capacity, capacity)
        while new_slots < slots:
            new_slots *= 2
        if (new_slots, new_capacity) == (self.slots, self.capacity):
            return
        grown = torch.zeros(self._shape(list(self.buffer.shape), new_slots, new_capacity),
                            dtype=self.dtype)
        grown[self._index(slice(0, self.slots), self.capacity)] = self.buffer
        self.buffer = grown

    def _index(self, slot, extent=None):
        index = [slice(None)] * self.buffer.dim()
        index[self.slot_dim] = slot
        if self.grow_dim is not None and extent is not None:
            index[self.grow_dim] = slice(0, extent)
        return tuple(index)

    def fit(self, extent):
        """Makes the growing dimension exactly `extent` long (the content
        up to it is kept): a view of slot 0 is then a whole, contiguous
        tensor of one sequence."""
        if self.grow_dim is None or self.capacity == extent:
            return
        fitted = torch.zeros(self._shape(list(self.buffer.shape), self.slots, extent),
                             dtype=self.dtype)
        keep = min(extent, self.capacity)
        fitted.narrow(self.grow_dim, 0, keep).copy_(self.buffer.narrow(self.grow_dim, 0, keep))
        self.buffer = fitted

    def put(self, slot, tensor):
        """Writes one sequence's `tensor` into `slot` (converted to the
        buffer's type); the slot's rows past its extent are zeroed, so no
        earlier sequence's data stays in it."""
        extent = self._extent(tensor)
        self.reserve(slot + 1, extent)
        target = self.buffer[self._index(slice(slot, slot + 1))]
        if self.grow_dim is None:
            target.copy_(tensor)
            return
        target.narrow(self.grow_dim, 0, extent).copy_(tensor)
        target.narrow(self.grow_dim, extent, self.capacity - extent).zero_()

    def move(self, source, target, extent=None):
        """Copies slot `source` into slot `target` (its first `extent` rows)."""
        self.buffer[self._index(slice(target, target + 1), extent)] = \
            self.buffer[self._index(slice(source, source + 1), extent)]

    def view(self, count, extent=None):
        """Slots `0 .. count - 1`, the first `extent` rows: a view."""
        return self.buffer[self._index(slice(0, count), extent)]

    def nbytes(self):
        return self.buffer.numel() * self.buffer.element_size()
