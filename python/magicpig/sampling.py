"""Next-token choice: greedy, or temperature + nucleus (top-p) sampling."""

import torch


def next_token(logits, greedy=False, temperature=1.0, top_p=1.0, generator=None):
    """logits `[vocab]` -> token id (int)."""
    if greedy or temperature <= 0.0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # Keep the smallest prefix whose mass reaches top_p (at least one).
        before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
        sorted_probs = torch.where(before < top_p, sorted_probs, 0.0)
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs / probs.sum(), 1, generator=generator))
