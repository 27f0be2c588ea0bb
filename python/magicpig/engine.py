"""The engine the serving scheduler drives: prefill one request, then decode
one step of every running sequence at once.

    engine.prefill(request)          -> SequenceState (its first token chosen)
    engine.decode_step([state, ...]) -> [next token id, or the exception of
                                         that sequence, ...]
    engine.release(state)            frees the sequence's cache

`magicpig.scheduler` only sees this interface. `CompiledEngine` runs a
magicpig-compile graph. With the graph's `decode_batch` (every dynamic
export has it) the running sequences share one padded batch
(`magicpig.batch_cache.BatchCache`: each sequence's K/V rows and MagicPIG
index in its own slot, docs/ABI.md), and a step is one graph call for all
of them: the weights are read once per step, not once per sequence.
Without it (a static export) `decode_step` calls `decode` once per
sequence, each with its own KVCache and index. Not thread-safe: one thread
(the scheduler's worker) owns an engine.
"""

import dataclasses

import torch

from magicpig.errors import MagicPigError
from magicpig.sampling import next_token

# KV rows allocated at prefill beyond the prompt: a sequence that goes on
# grows its buffer by doubling (KVCache), so a request for 8K new tokens
# does not reserve them up front.
INITIAL_HEADROOM = 256


@dataclasses.dataclass(frozen=True)
class Sampling:
    """How a sequence picks its tokens: greedy at temperature 0, else
    temperature + top-p sampling from its own seeded generator."""
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0


class SequenceState:
    """One running sequence, as the engine leaves it after a step: `token`
    is the token just chosen (fed to the graph by the next decode step),
    `length` the tokens in its KV cache."""

    def __init__(self, request, length, token, data):
        self.request = request
        self.length = length
        self.token = token
        self.data = data  # the engine's own: caches, index, generator


class CompiledEngine:
    """A magicpig-compile graph (dense or MagicPIG) serving many sequences;
    the weights are bound once."""

    def __init__(self, model, library, attention=None, max_batch=1):
        """max_batch: the sequences expected at once (the batch's buffers
        are allocated for them up front; more still fit)."""
        from magicpig.compiled import load_for_model

        self.compiled = load_for_model(model, library, attention)
        self.attention = self.compiled.attention
        self.batched = self.compiled.decode_batch_fn is not None
        self.batch = self.compiled.new_batch_cache(max_batch) if self.batched else None
        self.slots = []  # the running states (batched: in slot order)

    def prefill(self, request):
        """Runs the prompt (`request.prompt_ids`, `request.max_tokens`,
        `request.sampling`), chooses the first token, and (batched) gives
        the sequence its slot."""
        ids = request.prompt_ids
        logits, k, v, index = self.compiled.prefill([ids])
        capacity = len(ids) + min(request.max_tokens, INITIAL_HEADROOM)
        generator = torch.Generator().manual_seed(request.sampling.seed)
        if self.batched:  # the cache and index live in the batch's slot
            self.batch.join(k, v, index, capacity)
            cache, index = None, None
        else:
            cache = self.compiled.new_cache(k, v, capacity)
        data = _Sequence(cache, index, request.sampling, generator)
        state = SequenceState(request, len(ids), data.choose(logits[0]), data)
        self.slots.append(state)
        return state

    def decode_step(self, states):
        """Feeds each state's token; one result per state, in order. A
        failing sequence gives its exception; the others go on (batched,
        a failed call fails every sequence of it)."""
        if self.batched:
            return self._decode_batch(states)
        out = []
        for state in states:
            try:
                out.append(self._decode(state))
            except Exception as e:  # noqa: BLE001 - it fails that request only
                out.append(e)
        return out

    def _decode_batch(self, states):
        if not states:
            return []
        if len(states) != len(self.slots) or set(map(id, states)) != set(map(id, self.slots)):
            error = MagicPigError(f"decode_step was given {len(states)} sequences; the "
                                  f"batch holds {len(self.slots)} (every prefilled "
                                  f"sequence not released steps together)")
            return [error] * len(states)
        try:
            tokens = [[state.token] for state in self.slots]
            logits, _ = self.compiled.decode_batch_step(tokens, self.batch)
        except Exception as e:  # noqa: BLE001 - it fails this step's requests
            return [e] * len(states)
        for slot, state in enumerate(self.slots):
            state.length = self.batch.lengths[slot]
            state.token = state.data.choose(logits[slot])
        return [state.token for state in states]

    def _decode(self, state):
        seq = state.data
        logits, _ = self.compiled.decode_step(state.token, seq.cache, seq.index)
        state.length = seq.cache.length
        state.token = seq.choose(logits[0])
        return state.token

    def release(self, state):
        slot = next((i for i, s in enumerate(self.slots) if s is state), None)
        if slot is not None:
            if self.batched:
                self.batch.leave(slot)  # the last slot moves into `slot`
            self.slots[slot] = self.slots[-1]
            self.slots.pop()
        state.data = None  # the cache and index go with their last reference

    def memory(self):
        """Bytes of the running sequences' state: K/V rows stored, the K/V
        buffers allocated, and the MagicPIG index (tables and norms)."""
        if self.batched:
            filled, allocated = self.batch.cache_bytes()
            index = self.batch.index_bytes()
        else:
            running = [s.data for s in list(self.slots) if s.data is not None]
            filled = sum(d.cache.filled_bytes() for d in running)
            allocated = sum(d.cache.allocated_bytes() for d in running)
            index = sum(b.nbytes for d in running for b in d.index)
        return {"kv_cache_bytes": filled, "kv_cache_allocated_bytes": allocated,
                "index_bytes": index}


class _Sequence:
    def __init__(self, cache, index, sampling, generator):
        self.cache = cache
        self.index = index
        self.sampling = sampling
        self.generator = generator

    def choose(self, logits):
        s = self.sampling
        return next_token(torch.from_numpy(logits), s.temperature <= 0, s.temperature,
                          s.top_p, self.generator)
