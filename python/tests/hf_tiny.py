"""Tiny random transformers causal LMs, one per architecture the
transformers export supports (built from config classes in code: no hub).
Shared by the tests of magicpig.hf_export / compile_model."""

import torch

VOCAB = 128
CONTEXT = 256

# architecture -> (config class, model class, config arguments)
_COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128,
               num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
               max_position_embeddings=CONTEXT, bos_token_id=1, eos_token_id=2,
               pad_token_id=0)

ARCHITECTURES = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", {}),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", {}),
    "mistral": ("MistralConfig", "MistralForCausalLM", {"sliding_window": None}),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", {"head_dim": 16}),
    "granite": ("GraniteConfig", "GraniteForCausalLM",
                {"embedding_multiplier": 2.0, "attention_multiplier": 0.3,
                 "residual_multiplier": 0.5, "logits_scaling": 4.0}),
    "olmo2": ("Olmo2Config", "Olmo2ForCausalLM", {}),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", {}),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel",
             dict(vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=CONTEXT,
                  bos_token_id=1, eos_token_id=2)),
    "gemma3": ("Gemma3TextConfig", "Gemma3ForCausalLM",
               {"head_dim": 16, "sliding_window": 8, "query_pre_attn_scalar": 16,
                "layer_types": ["sliding_attention", "full_attention"]}),
}


def tiny_model(arch, attn_implementation="eager", seed=0, **overrides):
    """`overrides`: config arguments that replace the defaults above."""
    import transformers

    config_class, model_class, extra = ARCHITECTURES[arch]
    args = dict(extra) if arch == "gpt2" else {**_COMMON, **extra}
    args.update(overrides)
    config = getattr(transformers, config_class)(**args)
    config._attn_implementation = attn_implementation
    torch.manual_seed(seed)
    model = getattr(transformers, model_class)(config).eval()
    # Larger than the initializer's std 0.02, so that the logits and the
    # attention are not nearly uniform (a wrong mask or position shows).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.1)
    return model
