"""Next-token choice: greedy, or temperature + nucleus (top-p) sampling."""

import torch


def next_token(logits, greedy=False, temperature=1.0, top_p=1.0, generator=None):
    """logits `[vocab]` -> token id (int)."""
    if greedy or temperature <= 0.0:
        return int(torch.argmax(logits))
    # From the top logit down: a tiny temperature sends the other tokens to
    # -inf (probability 0) instead of overflowing to inf - inf = NaN; 0 / t
    # stays 0 even where t underflows to 0 in f32.
    shifted = logits.float() - logits.max().float()
    scaled = shifted / temperature
    scaled = torch.where(shifted == 0, torch.zeros_like(scaled), scaled)
    probs = torch.softmax(scaled, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # Keep the smallest prefix whose mass reaches top_p (at least one).
        before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
        sorted_probs = torch.where(before < top_p, sorted_probs, 0.0)
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs / probs.sum(), 1, generator=generator))
