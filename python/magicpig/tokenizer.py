"""The tokenizer and chat template carried inside a GGUF file.

transformers builds a fast (Rust `tokenizers`) tokenizer from the GGUF's
vocabulary and merges offline; the chat template is the GGUF's own
`tokenizer.chat_template`, applied with `apply_chat_template`. Building
takes several seconds, so the result is saved next to the model cache and
reused: written aside and renamed into place when complete; a saved copy
that does not load is built again, and a cache that cannot be written
(a read-only HOME) is only noted.
"""

import os

from magicpig.cache_io import note_rebuild, reason, save_if_possible
from magicpig.errors import MagicPigError

# transformers must never reach for a model hub (none is reachable here).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _saved_dir(gguf_path):
    """Cache folder of the converted tokenizer, keyed by file and size."""
    from magicpig.model_store import cache_dir

    stat = os.stat(gguf_path)
    key = f"{os.path.basename(gguf_path)}-{stat.st_size}-{int(stat.st_mtime)}"
    return os.path.join(cache_dir(), "tokenizers", key)


def _chat_template(gguf_path):
    import gguf

    field = gguf.GGUFReader(gguf_path).fields.get("tokenizer.chat_template")
    return field.contents() if field is not None else None


class Tokenizer:
    """Text <-> token ids, and the chat prompt of a user message."""

    def __init__(self, hf_tokenizer):
        self.hf = hf_tokenizer

    @classmethod
    def from_gguf(cls, gguf_path):
        from transformers import AutoTokenizer

        if not os.path.isfile(gguf_path):
            raise MagicPigError(f"model file not found: {gguf_path}")
        saved = _saved_dir(gguf_path)
        if os.path.isfile(os.path.join(saved, "tokenizer.json")):
            try:
                return cls(AutoTokenizer.from_pretrained(saved))
            except Exception as e:  # a damaged cache entry: build it again
                note_rebuild(saved, e)
        try:
            tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path),
                                                gguf_file=os.path.basename(gguf_path))
        except Exception as e:
            raise MagicPigError(f"cannot build the tokenizer of {gguf_path}: "
                                f"{reason(e)}")
        if tok.chat_template is None:
            tok.chat_template = _chat_template(gguf_path)
        save_if_possible(saved, tok.save_pretrained, "the tokenizer", "built again")
        return cls(tok)

    @property
    def eos_token_id(self):
        return self.hf.eos_token_id

    def encode(self, text):
        return self.hf.encode(text, add_special_tokens=False)

    def chat_prompt(self, user_message):
        """Token ids of the chat template around one user message, ending
        where the assistant's answer starts."""
        if not self.hf.chat_template:
            raise MagicPigError("the model carries no chat template "
                                "(use --no-chat-template)")
        messages = [{"role": "user", "content": user_message}]
        ids = self.hf.apply_chat_template(messages, add_generation_prompt=True,
                                          tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)

    def decode(self, ids, skip_special_tokens=False):
        return self.hf.decode(ids, skip_special_tokens=skip_special_tokens)
