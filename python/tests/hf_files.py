"""Model files as users have them, written locally from tiny random models
(no hub): a transformers checkpoint directory with a tokenizer, and a GGUF
file with F32, F16, Q8_0 and Q4_K tensors and the same tokenizer.
Shared by the tests of magicpig.hf_load and `generate --model`."""

import numpy as np

# Text the tiny tokenizer learns its merges from (and the tests' prompts).
CORPUS = ("the quick brown fox jumps over the lazy dog while the cat sleeps on the "
          "warm mat and the bird sings in the tall green tree near the old stone wall; "
          "a model reads a prompt and writes the next word, then the one after it. ")
SPECIALS = ["<pad>", "<s>", "</s>"]  # ids 0, 1, 2: hf_tiny's pad, bos, eos
CHAT_TEMPLATE = ("{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n"
                 "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}")


def tiny_tokenizer(vocab_size=320, chat_template=None):
    """A byte-level BPE tokenizer (the 256 byte symbols, merges learned
    from CORPUS, three special tokens) wrapped as a transformers fast
    tokenizer that puts <s> before a text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([CORPUS] * 4, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A",
                                                       special_tokens=[("<s>", 1)])
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                 pad_token="<pad>")
    if chat_template:
        hf.chat_template = chat_template
    return hf


def save_checkpoint(model, tokenizer, directory):
    """save_pretrained of both into `directory` (config.json, safetensors,
    tokenizer.json ...)."""
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return str(directory)


def quantize_q4_k(array):
    """f32 [rows, n] (n a multiple of 256) -> Q4_K blocks (uint8 [rows,
    n / 256 * 144]): per 256 values an f16 scale d and min dmin, eight
    6-bit sub-block scales and mins, and 4-bit values, x ~ d*sc*q - dmin*m
    (the layout gguf.quants.Q4_K dequantizes). The gguf package has no Q4_K
    quantizer; this one is plain min/max rounding."""
    rows, n = array.shape
    x = array.astype(np.float32).reshape(-1, 8, 32)        # blocks, sub-blocks, values
    low = np.minimum(x.min(axis=2), 0.0)                     # the offset is subtracted
    step = (x.max(axis=2) - low) / 15.0
    d = (step.max(axis=1) / 63.0).astype(np.float16)
    dmin = ((-low).max(axis=1) / 63.0).astype(np.float16)
    d32, dmin32 = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(step, d32, out=np.zeros_like(step), where=d32 > 0)),
                 0, 63).astype(np.uint8)
    mn = np.clip(np.round(np.divide(-low, dmin32, out=np.zeros_like(low),
                                    where=dmin32 > 0)), 0, 63).astype(np.uint8)
    scale = (d32 * sc)[:, :, None]
    offset = (dmin32 * mn)[:, :, None]
    q = np.clip(np.round(np.divide(x + offset, scale, out=np.zeros_like(x),
                                   where=scale > 0)), 0, 15).astype(np.uint8)
    packed = np.empty((x.shape[0], 12), dtype=np.uint8)
    packed[:, 0:4] = (sc[:, 0:4] & 0x3F) | ((sc[:, 4:8] >> 4) << 6)
    packed[:, 4:8] = (mn[:, 0:4] & 0x3F) | ((mn[:, 4:8] >> 4) << 6)
    packed[:, 8:12] = (sc[:, 4:8] & 0x0F) | ((mn[:, 4:8] & 0x0F) << 4)
    qs = (q[:, 0::2, :] | (q[:, 1::2, :] << 4)).reshape(-1, 128)  # sub-blocks 2g, 2g+1
    blocks = np.concatenate([d.view(np.uint8).reshape(-1, 2),
                             dmin.view(np.uint8).reshape(-1, 2), packed, qs], axis=1)
    return blocks.reshape(rows, -1)


def _tensor_type(name):
    """How the GGUF stores each tensor: a mix of the common types."""
    if name.endswith("ffn_down.weight"):
        return "Q4_K"
    if name.endswith(("ffn_gate.weight", "ffn_up.weight", "attn_output.weight")):
        return "Q8_0"
    if name.endswith(("attn_q.weight", "attn_k.weight", "attn_v.weight")):
        return "F16"
    return "F32"


def write_qwen2_gguf(model, tokenizer, path):
    """A GGUF of a transformers Qwen2 model (arch qwen2, llama.cpp's tensor
    names) with `tokenizer` as a byte-level BPE vocabulary ("gpt2"). The
    tensor types: see _tensor_type. Returns {gguf tensor name: type}."""
    import gguf

    c = model.config
    writer = gguf.GGUFWriter(str(path), arch="qwen2")
    writer.add_name("tiny-qwen2")
    writer.add_context_length(c.max_position_embeddings)
    writer.add_block_count(c.num_hidden_layers)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_embedding_length(c.hidden_size)
    writer.add_head_count(c.num_attention_heads)
    writer.add_head_count_kv(c.num_key_value_heads)
    writer.add_rope_freq_base(float(c.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_vocab_size(c.vocab_size)
    vocab = tokenizer.get_vocab()
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    import json

    merges = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t in SPECIALS else 1 for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_pad_token_id(0)
    writer.add_add_bos_token(True)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, c.num_hidden_layers)
    kinds = {}
    for hf_name, p in model.named_parameters():
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert name is not None, hf_name
        array = p.detach().float().numpy()
        kind = kinds[name] = _tensor_type(name)
        if kind == "F32":
            writer.add_tensor(name, array)
        elif kind == "F16":
            writer.add_tensor(name, array.astype(np.float16))
        elif kind == "Q8_0":
            q = gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(name, quantize_q4_k(array),
                              raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return kinds


def write_gguf_of_arch(path, arch):
    """A small well-formed GGUF naming `arch`, with a tokenizer (for the
    error of an architecture transformers cannot load)."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch=arch)
    writer.add_block_count(1)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(["a", "b"])
    writer.add_tensor("token_embd.weight", np.zeros((2, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return str(path)
