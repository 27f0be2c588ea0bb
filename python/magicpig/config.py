"""Shape and hyper-parameters of a Llama-architecture model."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    context_length: int = 2048
    tie_embeddings: bool = True
    bos_token_id: int = 1
    eos_token_id: int = 2

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_layers",
                     "num_heads", "num_kv_heads", "head_dim", "context_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_heads % self.num_kv_heads:
            raise ValueError("num_heads must be a multiple of num_kv_heads")
        if self.head_dim % 2:
            raise ValueError("RoPE needs an even head_dim")

    @property
    def group_size(self):
        """Query heads per kv head (GQA)."""
        return self.num_heads // self.num_kv_heads


def tiny_config(num_layers=3):
    """The test model: small enough to export and run in a second."""
    return LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128,
                       num_layers=num_layers, num_heads=4, num_kv_heads=2,
                       head_dim=16, rope_theta=10000.0, rms_norm_eps=1e-5,
                       context_length=512, tie_embeddings=True)
