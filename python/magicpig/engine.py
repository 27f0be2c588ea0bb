"""The engine the serving scheduler drives: prefill one request, then decode
one step of every running sequence at once.

    engine.prefill(request)          -> SequenceState (its first token chosen)
    engine.decode_step([state, ...]) -> [next token id, or the exception of
                                         that sequence, ...]
    engine.release(state)            frees the sequence's cache

`magicpig.scheduler` only sees this interface. `CompiledEngine` runs a
magicpig-compile graph that decodes one sequence per call, so its
`decode_step` loops over the sequences, each with its own KV cache and, for
MagicPIG, its own index (the buffers its prefill returned, docs/ABI.md).
A graph with a dynamic batch can replace the loop by one call without
changing the scheduler or the server. Not thread-safe: one thread (the
scheduler's worker) owns an engine.
"""

import dataclasses

import torch

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
    """A magicpig-compile graph (dense or MagicPIG) serving many sequences,
    one graph call per sequence per step; the weights are bound once."""

    def __init__(self, model, library, attention=None):
        from magicpig.compiled import load_for_model

        self.compiled = load_for_model(model, library, attention)
        self.attention = self.compiled.attention
        self.eos_token_id = model.config.eos_token_id

    def prefill(self, request):
        """Runs the prompt (`request.prompt_ids`, `request.max_tokens`,
        `request.sampling`) and chooses the first token."""
        ids = request.prompt_ids
        logits, k, v, index = self.compiled.prefill([ids])
        capacity = len(ids) + min(request.max_tokens, INITIAL_HEADROOM)
        cache = self.compiled.new_cache(k, v, capacity)
        generator = torch.Generator().manual_seed(request.sampling.seed)
        data = _Sequence(cache, index, request.sampling, generator)
        return SequenceState(request, len(ids), data.choose(logits[0]), data)

    def decode_step(self, states):
        """Feeds each state's token; one result per state, in order. A
        failing sequence gives its exception; the others go on."""
        out = []
        for state in states:
            try:
                out.append(self._decode(state))
            except Exception as e:  # noqa: BLE001 - it fails that request only
                out.append(e)
        return out

    def _decode(self, state):
        seq = state.data
        logits, _ = self.compiled.decode_step(state.token, seq.cache, seq.index)
        state.length = seq.cache.length
        state.token = seq.choose(logits[0])
        return state.token

    def release(self, state):
        state.data = None  # the cache and index go with their last reference


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
