"""The SimHash projection from a seed, bit-identical to the compiler's.

`lib/Transforms/GaussianProjection.cpp` fills a row-major `rows x cols`
matrix from splitmix64 + Box-Muller: draw i of splitmix64 mixes
`seed + (i + 1) * 0x9E3779B97F4A7C15`; a uniform in (0, 1] is
`((z >> 11) + 1) * 2^-53`; each pair of uniforms (u1, u2) gives
`r = sqrt(-2 ln u1)` and the entries `r cos(2 pi u2)`, `r sin(2 pi u2)`
(computed in double, stored as float). Because draw i depends only on i, the
stream is computed here in one vectorised step.
"""

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(seed, count):
    """The first `count` outputs of splitmix64 started at `seed`."""
    with np.errstate(over="ignore"):  # arithmetic is modulo 2^64 on purpose
        steps = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + steps * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def uniforms(seed, count):
    """Uniform doubles in (0, 1]: the top 53 bits, shifted away from 0."""
    top = (splitmix64(seed, count) >> np.uint64(11)).astype(np.float64)
    return (top + 1.0) * 2.0 ** -53


def gaussian_projection(rows, cols, seed):
    """Row-major `[rows, cols]` float32 standard normals for `seed`."""
    size = rows * cols
    pairs = (size + 1) // 2
    u = uniforms(seed, 2 * pairs).reshape(pairs, 2)
    radius = np.sqrt(-2.0 * np.log(u[:, 0]))
    angle = 2.0 * np.pi * u[:, 1]
    out = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return out.reshape(-1)[:size].astype(np.float32).reshape(rows, cols)


def simhash_projection(head_dim, lsh_bits, lsh_tables, seed):
    """The `d x (K * L)` matrix --magicpig-sparsify embeds for these options."""
    return gaussian_projection(head_dim, lsh_bits * lsh_tables, seed)
