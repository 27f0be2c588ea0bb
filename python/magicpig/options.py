"""MagicPIG parameters, validated with the dialect's ranges.

The names and defaults are those of `--magicpig-sparsify` (Passes.td), so a
Python run and a compiled graph with the same options hash identically.
The pass's K = 10, L = 150 are the paper's, chosen for head dim 128; a
model's defaults (`for_model`) depend on its head dim: 11, 200 for 64, from
the (K, L) sweep on SmolLM2-135M in docs/accuracy.md.
"""

import dataclasses

from magicpig.errors import MagicPigError

MAX_LSH_BITS = 16  # codes are packed into at most 16-bit integers

# (K, L) by head dim where measured (docs/accuracy.md); else the paper's.
LSH_DEFAULTS_BY_HEAD_DIM = {64: (11, 200)}
PAPER_LSH_DEFAULTS = (10, 150)


@dataclasses.dataclass(frozen=True)
class MagicPigOptions:
    lsh_bits: int = 10          # K, bits per SimHash table
    lsh_tables: int = 150       # L, number of tables
    min_collisions: int = 2     # T, tables a key must share with the query
    sink_tokens: int = 4        # S, leading tokens attended exactly
    window_tokens: int = 64     # W, trailing prefill tokens attended exactly
    seed: int = 0               # seed of the Gaussian projection
    dense_layers: tuple = None  # None: the pass's default (0 and n/2)

    @classmethod
    def for_model(cls, head_dim, **given):
        """The options for a model with this head dim: K and L default to
        the head dim's (LSH_DEFAULTS_BY_HEAD_DIM), anything in `given` wins."""
        bits, tables = LSH_DEFAULTS_BY_HEAD_DIM.get(head_dim, PAPER_LSH_DEFAULTS)
        return cls(**{"lsh_bits": bits, "lsh_tables": tables, **given})

    def describe(self):
        return (f"K={self.lsh_bits} L={self.lsh_tables} T={self.min_collisions} "
                f"sink={self.sink_tokens} window={self.window_tokens}")

    def validate(self):
        if not 1 <= self.lsh_bits <= MAX_LSH_BITS:
            raise MagicPigError(f"--lsh-bits must be in 1..{MAX_LSH_BITS}, "
                                f"got {self.lsh_bits}")
        if self.lsh_tables < 1:
            raise MagicPigError(f"--lsh-tables must be >= 1, got {self.lsh_tables}")
        if not 1 <= self.min_collisions <= self.lsh_tables:
            raise MagicPigError(f"--min-collisions must be in 1..{self.lsh_tables} "
                                f"(--lsh-tables), got {self.min_collisions}")
        if self.sink_tokens < 0:
            raise MagicPigError(f"--sink-tokens must be >= 0, got {self.sink_tokens}")
        if self.window_tokens < 0:
            raise MagicPigError(f"--window-tokens must be >= 0, got {self.window_tokens}")
        if not 0 <= self.seed < 2 ** 64:
            raise MagicPigError(f"--seed must be in 0..2^64-1, got {self.seed}")
        return self

    def dense_layer_set(self, num_layers):
        """Layers that keep exact attention, as --magicpig-sparsify picks
        them: the given list, else 0 and n/2 when n >= 3, else none;
        a list of just -1 keeps none dense."""
        if self.dense_layers is None:
            return {0, num_layers // 2} if num_layers >= 3 else set()
        if tuple(self.dense_layers) == (-1,):
            return set()
        for layer in self.dense_layers:
            if not 0 <= layer < num_layers:
                raise MagicPigError(f"--dense-layers: layer {layer} is out of "
                                    f"range 0..{num_layers - 1}")
        return set(self.dense_layers)
