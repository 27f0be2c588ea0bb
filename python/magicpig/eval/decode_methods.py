"""TopK and Quest as decode attention inside the decode loop.

Same contract as `sparse_decode.SampledAttention`: called per layer with q
`[1, Hq, 1, d]` and the whole cache k, v `[1, Hkv, N, d]`; the dense layers
(the same set MagicPIG keeps exact) attend to everything. In the other
layers each query head reads round(fraction * N) keys (TopK: the keys of
highest score; Quest: whole pages of `page` keys ranked by their min/max
score bound, the nearest number of pages, `methods.quest_pages`). `stats` counts the keys
read, like MagicPIG's, so budgets are compared as measured.
"""

import math

import torch

from magicpig.eval.methods import quest_pages
from magicpig.sparse_decode import KeysTouched


def gqa_scores(q, k):
    """scale * q . k `[Hkv, G, N]` for q `[Hq, d]`, k `[Hkv, N, d]`, without
    copying k per query head."""
    hkv, _, d = k.shape
    return torch.matmul(q.view(hkv, -1, d), k.transpose(1, 2)) / math.sqrt(d)


def gqa_attention(q, k, v):
    """Exact decode attention: q `[1, Hq, 1, d]`, k, v `[1, Hkv, N, d]`."""
    s = gqa_scores(q[0, :, 0], k[0])
    out = torch.matmul(torch.softmax(s.float(), dim=-1).to(v.dtype), v[0])
    return out.reshape(1, -1, 1, v.shape[-1])


class BudgetAttention:
    def __init__(self, kind, fraction, dense_layers, group_size, page=16):
        if kind not in ("topk", "quest"):
            raise ValueError(kind)
        self.kind = kind
        self.fraction = fraction
        self.dense_layers = set(dense_layers)
        self.group_size = group_size
        self.page = page
        self.stats = KeysTouched()

    def select(self, q, k, s):
        """Boolean mask `[Hkv, G, N]` of the keys each query head reads;
        q `[Hq, d]`, k `[Hkv, N, d]`, s the scores."""
        hkv, n, d = k.shape
        if self.kind == "topk":
            budget = min(max(int(round(self.fraction * n)), 1), n)
            top = torch.topk(s, budget, dim=-1).indices
            return torch.zeros_like(s, dtype=torch.bool).scatter_(-1, top, True)
        page = self.page
        pages = -(-n // page)
        pad = pages * page - n
        lo = torch.cat([k, k.new_full((hkv, pad, d), math.inf)], 1)
        hi = torch.cat([k, k.new_full((hkv, pad, d), -math.inf)], 1)
        lo = lo.view(hkv, pages, page, d).amin(2)[:, None]     # [Hkv, 1, P, d]
        hi = hi.view(hkv, pages, page, d).amax(2)[:, None]
        qq = q.view(hkv, -1, 1, d)                               # [Hkv, G, 1, d]
        bound = torch.maximum(qq * lo, qq * hi).sum(-1)          # [Hkv, G, P]
        budget = min(max(int(round(self.fraction * n)), 1), n)
        chosen = quest_pages(budget, n, page)
        top = torch.topk(bound, chosen, dim=-1).indices
        page_mask = torch.zeros_like(bound, dtype=torch.bool).scatter_(-1, top, True)
        return page_mask.repeat_interleave(page, dim=-1)[..., :n]

    def __call__(self, layer, q, k, v):
        heads, n = q.shape[0] * q.shape[1], k.shape[2]
        self.stats.available += heads * n
        if layer in self.dense_layers:
            self.stats.touched += heads * n
            return gqa_attention(q, k, v)
        qf, kf = q[0, :, 0].float(), k[0].float()
        s = gqa_scores(qf, kf)
        mask = self.select(qf, kf, s)
        touched = int(mask.sum())
        self.stats.touched += touched
        self.stats.sparse_touched += touched
        self.stats.sparse_available += heads * n
        p = torch.softmax(s.masked_fill(~mask, -math.inf), dim=-1)
        out = torch.matmul(p, v[0].float())
        return out.reshape(1, -1, 1, v.shape[-1]).to(q.dtype)
