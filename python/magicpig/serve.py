"""Serve a compiled model over HTTP with the OpenAI API conventions.

    python3 -m magicpig.serve [--attention dense|magicpig] [--port 8000] ...

Endpoints: POST /v1/completions, POST /v1/chat/completions (both with
`"stream": true` as server-sent events), GET /v1/models, GET /health.
Requests are batched continuously by magicpig.scheduler over one engine
(magicpig.engine); docs/serving.md describes both. The model defaults to
SmolLM2-135M-Instruct, compiled and cached as magicpig.generate does;
`--tiny` serves the tests' tiny random Llama with a byte tokenizer.
"""

import argparse
import asyncio
import json
import math
import os
import random
import signal
import sys
import time
import uuid

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from magicpig.cli import progress, run_main
from magicpig.engine import Sampling
from magicpig.errors import MagicPigError
from magicpig.scheduler import Done, QueueFull, Request, Scheduler, ShuttingDown, TextStream

MAX_BODY_BYTES = 16 << 20
MAX_STOP_STRINGS = 4  # as the OpenAI API
COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # the OpenAI completions default


# --- tokenizers ---

class ByteTokenizer:
    """The tiny random model's tokenizer: token id = byte (its vocabulary is
    256), text <-> bytes as latin-1, so every id is one character and text
    maps back to exactly its tokens (the tests compare them)."""

    def __init__(self, eos_token_id):
        self.eos_token_id = eos_token_id
        self.stop_token_ids = [eos_token_id]

    def encode(self, text):
        return list(text.encode("latin-1", errors="replace"))

    def decode(self, ids):
        return bytes(ids).decode("latin-1")

    def chat(self, messages):
        text = "".join(f"<{m['role']}>{m['content']}\n" for m in messages)
        return self.encode(text + "<assistant>")


class TextTokenizer:
    """A transformers tokenizer (the GGUF's, or a checkpoint's) with a whole
    conversation's chat template; `stop_token_ids` end an answer."""

    def __init__(self, hf_tokenizer, stop_token_ids):
        self.hf = hf_tokenizer
        self.stop_token_ids = sorted(stop_token_ids)

    def encode(self, text):
        return self.hf.encode(text, add_special_tokens=False)

    def decode(self, ids):
        return self.hf.decode(ids, skip_special_tokens=True)

    def chat(self, messages):
        hf = self.hf
        if not hf.chat_template:
            raise ApiError(400, "the model carries no chat template: use /v1/completions")
        try:
            ids = hf.apply_chat_template(messages, add_generation_prompt=True,
                                         tokenize=True)
        except Exception as e:  # noqa: BLE001 - the template rejects the conversation
            raise ApiError(400, f"the chat template rejects these messages: {e}",
                           "messages")
        if hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)


# --- request parsing ---

class ApiError(Exception):
    """An error answered as OpenAI does: {"error": {"message", "type", ...}}."""

    def __init__(self, status, message, param=None, code=None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self):
        kind = {400: "invalid_request_error", 404: "invalid_request_error",
                413: "invalid_request_error", 429: "rate_limit_error",
                503: "server_error"}.get(self.status, "server_error")
        return {"error": {"message": self.message, "type": kind, "param": self.param,
                          "code": self.code}}


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x):
    return (isinstance(x, (int, float)) and not isinstance(x, bool)
            and math.isfinite(x))


def _get(body, name, check, what, default=None):
    """body[name] (missing or null: default), which must pass `check`."""
    value = body.get(name)
    if value is None:
        return default
    if not check(value):
        raise ApiError(400, f"'{name}' must be {what}, got {json.dumps(value)}", name)
    return value


# Parameters of the API this server does not implement: accepted only at
# their neutral value, so that no one gets silently different output.
_NEUTRAL = {"logprobs": (False, 0), "top_logprobs": (0,), "echo": (False,),
            "best_of": (1,), "suffix": ("",), "logit_bias": ({},),
            "presence_penalty": (0,), "frequency_penalty": (0,), "tools": ([],),
            "functions": ([],), "response_format": ({"type": "text"},)}


def parse_parameters(body, chat):
    """The sampling and output parameters common to both endpoints."""
    for name, neutral in _NEUTRAL.items():
        if body.get(name) is not None and body[name] not in neutral:
            raise ApiError(400, f"'{name}' is not supported by this server", name)
    n = _get(body, "n", _is_int, "an integer", 1)
    if n != 1:
        raise ApiError(400, f"'n' must be 1 (one choice per request), got {n}", "n")
    name = "max_completion_tokens" if chat and "max_completion_tokens" in body \
        else "max_tokens"
    max_tokens = _get(body, name, lambda x: _is_int(x) and x >= 1,
                      "an integer >= 1")
    temperature = _get(body, "temperature", lambda x: _is_number(x) and 0 <= x <= 2,
                       "a number in [0, 2]", 1.0)
    top_p = _get(body, "top_p", lambda x: _is_number(x) and 0 < x <= 1,
                 "a number in (0, 1]", 1.0)
    seed = _get(body, "seed", lambda x: _is_int(x) and 0 <= x < 2 ** 63,
                "an integer in 0..2^63-1")
    stop = _get(body, "stop", lambda x: isinstance(x, str) or (
        isinstance(x, list) and len(x) <= MAX_STOP_STRINGS
        and all(isinstance(s, str) and s for s in x)),
        f"a string or a list of at most {MAX_STOP_STRINGS} non-empty strings", [])
    stream = _get(body, "stream", lambda x: isinstance(x, bool), "true or false", False)
    options = _get(body, "stream_options", lambda x: isinstance(x, dict) and all(
        k == "include_usage" and isinstance(v, bool) for k, v in x.items()),
        'an object {"include_usage": true|false}', {})
    return {"max_tokens": max_tokens, "stream": stream,
            "include_usage": options.get("include_usage", False),
            "stop": [stop] if isinstance(stop, str) else stop,
            "sampling": Sampling(float(temperature), float(top_p),
                                 random.getrandbits(63) if seed is None else seed)}


def completion_prompt(body, tokenizer, vocab_size):
    """/v1/completions `prompt`: a string or a list of token ids (or a
    list of one of them)."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], (str, list)):
        prompt = prompt[0]
    if isinstance(prompt, str):
        return tokenizer.encode(prompt)
    if isinstance(prompt, list) and prompt and all(_is_int(t) for t in prompt):
        bad = [t for t in prompt if not 0 <= t < vocab_size]
        if bad:
            raise ApiError(400, f"'prompt' has token id {bad[0]}, outside the "
                                f"vocabulary 0..{vocab_size - 1}", "prompt")
        return prompt
    if isinstance(prompt, list) and len(prompt) > 1:
        raise ApiError(400, "'prompt' must be one prompt: a batch of prompts is not "
                            "supported (send one request each)", "prompt")
    raise ApiError(400, "'prompt' must be a string or a list of token ids", "prompt")


def chat_messages(body):
    """/v1/chat/completions `messages`: roles and text content (a string or
    a list of text parts)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list", "messages")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise ApiError(400, f"messages[{i}] must be an object with 'role' system, "
                                f"user or assistant", "messages")
        content = m.get("content")
        if isinstance(content, list) and all(
                isinstance(p, dict) and p.get("type") == "text"
                and isinstance(p.get("text"), str) for p in content):
            content = "".join(p["text"] for p in content)
        if not isinstance(content, str):
            raise ApiError(400, f"messages[{i}].content must be a string or a list of "
                                f"text parts", "messages")
        out.append({"role": m["role"], "content": content})
    return out


def check_length(prompt_tokens, max_tokens, context_length, default):
    """max_tokens to run with: the prompt and the answer must fit."""
    if prompt_tokens == 0:
        raise ApiError(400, "the prompt is empty", "prompt")
    if prompt_tokens >= context_length:
        raise ApiError(400, f"the prompt has {prompt_tokens} tokens; the context is "
                            f"{context_length} tokens", "prompt", "context_length_exceeded")
    room = context_length - prompt_tokens
    if max_tokens is None:
        return room if default is None else min(default, room)
    if max_tokens > room:
        raise ApiError(400, f"max_tokens {max_tokens} + the prompt's {prompt_tokens} "
                            f"tokens exceed the context of {context_length} tokens",
                       "max_tokens", "context_length_exceeded")
    return max_tokens


# --- the app ---

class Service:
    """What the HTTP handlers share: the scheduler and the model's facts."""

    def __init__(self, scheduler, tokenizer, model_name, context_length, vocab_size):
        self.scheduler = scheduler
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.context_length = context_length
        self.vocab_size = vocab_size
        self.created = int(time.time())


def create_app(service):
    async def models(request):
        return JSONResponse({"object": "list", "data": [
            {"id": service.model_name, "object": "model", "created": service.created,
             "owned_by": "magicpig"}]})

    async def health(request):
        s = service.scheduler
        if s.failure:
            return JSONResponse({"status": "error", "error": s.failure}, status_code=503)
        return JSONResponse({"status": "ok", **s.stats()})

    async def completions(request):
        return await _generate(service, request, chat=False)

    async def chat_completions(request):
        return await _generate(service, request, chat=True)

    async def api_error(request, exc):
        return JSONResponse(exc.body(), status_code=exc.status)

    async def http_error(request, exc):
        return JSONResponse(ApiError(exc.status_code, f"{request.method} "
                                     f"{request.url.path}: {exc.detail}").body(),
                            status_code=exc.status_code)

    routes = [Route("/v1/completions", completions, methods=["POST"]),
              Route("/v1/chat/completions", chat_completions, methods=["POST"]),
              Route("/v1/models", models, methods=["GET"]),
              Route("/health", health, methods=["GET"])]
    return Starlette(routes=routes, exception_handlers={ApiError: api_error,
                                                        HTTPException: http_error})


async def _read_json(request):
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request body is over {MAX_BODY_BYTES >> 20} MiB")
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ApiError(400, f"the request body is not valid JSON: {e}")
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


async def _generate(service, http_request, chat):
    body = await _read_json(http_request)
    model = body.get("model")
    if model is not None and model != service.model_name:
        raise ApiError(404, f"the model '{model}' is not served here; this server "
                            f"serves '{service.model_name}'", "model", "model_not_found")
    params = parse_parameters(body, chat)
    tok = service.tokenizer
    ids = tok.chat(chat_messages(body)) if chat else \
        completion_prompt(body, tok, service.vocab_size)
    max_tokens = check_length(len(ids), params["max_tokens"], service.context_length,
                              None if chat else COMPLETIONS_DEFAULT_MAX_TOKENS)

    loop = asyncio.get_running_loop()
    events = asyncio.Queue()

    def emit(event):  # from the worker thread
        try:
            loop.call_soon_threadsafe(events.put_nowait, event)
        except RuntimeError:  # the loop is closed: no one listens any more
            pass

    prefix = "chatcmpl" if chat else "cmpl"
    request = Request(ids, max_tokens, params["sampling"], tok.stop_token_ids,
                      TextStream(tok.decode, params["stop"]), emit,
                      f"{prefix}-{uuid.uuid4().hex[:24]}")
    try:
        service.scheduler.submit(request)
    except QueueFull as e:
        raise ApiError(429, str(e), code="queue_full")
    except ShuttingDown as e:
        raise ApiError(503, str(e))
    answer = _Answer(service, request, chat, len(ids))
    waiter = _Waiter(events, http_request)
    streaming = False
    try:
        # The first event comes before any answer: a request that fails in
        # its prefill gets a 500, streaming or not.
        event = await waiter.next()
        if params["stream"] and event is not None and not (
                isinstance(event, Done) and event.reason in ("error", "cancelled")):
            waiter.close()  # starlette's StreamingResponse listens from here on
            streaming = True
            return _EventStream(answer.stream(event, events, params["include_usage"]),
                                lambda: service.scheduler.cancel(request))
        parts = []
        while event is not None and not isinstance(event, Done):
            parts.append(event.text)
            event = await waiter.next()
    finally:
        waiter.close()
        if not streaming:
            service.scheduler.cancel(request)  # a no-op once it has ended
    if event is None:  # the client went away: no one to answer
        return Response(status_code=499)
    if event.reason == "error":
        raise ApiError(500, f"generation failed: {event.error}")
    if event.reason == "cancelled":
        raise ApiError(503, "the request was cancelled: the server is shutting down")
    return JSONResponse(answer.whole("".join(parts) + event.text, event))


class _Waiter:
    """The next event of a request, or None once its client has gone."""

    def __init__(self, events, http_request):
        self.events = events
        self.gone = asyncio.ensure_future(_disconnected(http_request))

    async def next(self):
        get = asyncio.ensure_future(self.events.get())
        await asyncio.wait({get, self.gone}, return_when=asyncio.FIRST_COMPLETED)
        if get.done():
            return get.result()
        get.cancel()
        return None

    def close(self):
        self.gone.cancel()


class _Answer:
    """The OpenAI response objects of one request."""

    def __init__(self, service, request, chat, prompt_tokens):
        self.service, self.request, self.chat = service, request, chat
        self.prompt_tokens = prompt_tokens
        self.created = int(time.time())

    def _object(self, kind, choices, usage=None):
        out = {"id": self.request.id, "object": kind, "created": self.created,
               "model": self.service.model_name, "choices": choices}
        if usage is not None:
            out["usage"] = usage
        return out

    def _usage(self, done):
        return {"prompt_tokens": self.prompt_tokens,
                "completion_tokens": done.completion_tokens,
                "total_tokens": self.prompt_tokens + done.completion_tokens}

    def _chunk(self, text, finish_reason=None, first=False):
        if self.chat:
            delta = {"role": "assistant", "content": text} if first else \
                ({"content": text} if text or finish_reason is None else {})
            choice = {"index": 0, "delta": delta, "logprobs": None,
                      "finish_reason": finish_reason}
            return self._object("chat.completion.chunk", [choice])
        return self._object("text_completion", [{"index": 0, "text": text,
                                                 "logprobs": None,
                                                 "finish_reason": finish_reason}])

    def whole(self, text, done):
        if self.chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "logprobs": None, "finish_reason": done.reason}
            return self._object("chat.completion", [choice], self._usage(done))
        return self._object("text_completion", [{"index": 0, "text": text,
                                                 "logprobs": None,
                                                 "finish_reason": done.reason}],
                            self._usage(done))

    async def stream(self, event, events, include_usage):
        """Server-sent events from `event` on; starlette cancels this
        generator when the client disconnects (and _EventStream then
        cancels the sequence)."""
        if self.chat:
            yield _sse(self._chunk("", first=True))
        while not isinstance(event, Done):
            if event.text:
                yield _sse(self._chunk(event.text))
            event = await events.get()
        if event.text:
            yield _sse(self._chunk(event.text))
        if event.reason in ("stop", "length"):
            yield _sse(self._chunk("", event.reason))
            if include_usage:
                yield _sse(self._object(self._chunk("")["object"], [],
                                        self._usage(event)))
        else:  # failed, or cancelled by a shutdown, after its first chunk
            message = (f"generation failed: {event.error}" if event.reason == "error"
                       else "the request was cancelled: the server is shutting down")
            yield _sse(ApiError(500 if event.reason == "error" else 503, message).body())
        yield "data: [DONE]\n\n"


class _EventStream(StreamingResponse):
    """Server-sent events that cancel their request however the response
    ends (finished, the client gone, the server shutting down)."""

    def __init__(self, content, on_close):
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache"})
        self.on_close = on_close

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.on_close()


def _sse(obj):
    return f"data: {json.dumps(obj)}\n\n"


async def _disconnected(http_request):
    while (await http_request.receive())["type"] != "http.disconnect":
        pass


# --- the command ---

def build_parser():
    from magicpig.generate import add_graph_arguments

    p = argparse.ArgumentParser(prog="python3 -m magicpig.serve",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback)")
    p.add_argument("--port", type=int, default=8000, help="default 8000")
    p.add_argument("--model-name", help="the model id of the API (default: the "
                                        "GGUF's file name, 'tiny-random' with --tiny)")
    p.add_argument("--model", metavar="PATH",
                   help="a transformers model: a checkpoint directory, a .gguf file "
                        "or a named model (as magicpig.generate --model; default: "
                        "SmolLM2-135M-Instruct through the project's Llama)")
    p.add_argument("--tiny", action="store_true",
                   help="serve a tiny random Llama (2 layers, hidden 64; the "
                        "tests' model) with a byte tokenizer, instead of a GGUF")
    b = p.add_argument_group("scheduling")
    b.add_argument("--max-batch", type=int, default=8,
                   help="sequences decoded together at most (default 8)")
    b.add_argument("--queue-size", type=int, default=64,
                   help="requests waiting for a batch slot at most; more are "
                        "answered 429 (default 64)")
    b.add_argument("--context-length", type=int,
                   help="prompt + answer tokens at most (default: the model's)")
    b.add_argument("--shutdown-timeout", type=float, default=30.0,
                   help="seconds in-flight requests may take to finish after "
                        "SIGTERM before they are cancelled (default 30)")
    add_graph_arguments(p)
    return p


def validate(args):
    from magicpig.generate import validate_graph_options

    validate_graph_options(args)
    sources = [flag for flag, given in (("--tiny", args.tiny), ("--gguf", args.gguf),
                                        ("--model", args.model)) if given]
    if len(sources) > 1:
        raise MagicPigError(f"{' and '.join(sources)} are exclusive")
    if args.model is not None:
        if not args.model:
            raise MagicPigError("--model needs a path or a model name")
        if args.library or args.target != "cpu":
            raise MagicPigError("not with --model: it compiles its own graph for the "
                                "CPU (--library and --target cuda are the default "
                                "model's)")
    if not 0 <= args.port < 65536:
        raise MagicPigError(f"--port must be in 0..65535, got {args.port}")
    if args.max_batch < 1:
        raise MagicPigError(f"--max-batch must be >= 1, got {args.max_batch}")
    if args.queue_size < 0:
        raise MagicPigError(f"--queue-size must be >= 0, got {args.queue_size}")
    if args.context_length is not None and args.context_length < 2:
        raise MagicPigError(f"--context-length must be >= 2, got {args.context_length}")
    if args.shutdown_timeout < 0:
        raise MagicPigError(f"--shutdown-timeout must be >= 0, got {args.shutdown_timeout}")


TINY_LAYERS, TINY_SEED, TINY_SCALE = 2, 0, 8.0


def tiny_serving_model():
    """The tests' tiny random Llama (2 layers, hidden 64) with its weights
    scaled up 8x (std 0.16): at the initializer's std 0.02 the residual
    stream is the token's own embedding and greedy decoding repeats the
    last prompt token whatever came before; scaled, the answer depends on
    the whole prompt, so a mixed-up cache or index shows in the tokens."""
    import torch

    from magicpig.export import tiny_model

    model = tiny_model(num_layers=TINY_LAYERS, seed=TINY_SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.mul_(TINY_SCALE)
    return model


def load(args):
    """(engine, tokenizer, model name, context length, vocab size)."""
    from magicpig.engine import CompiledEngine
    from magicpig.generate import check_library_options, compiled_library, given_options
    from magicpig.options import MagicPigOptions

    if args.model is not None:
        return _load_transformers(args)
    if args.tiny:
        model = tiny_serving_model()
        tokenizer = ByteTokenizer(model.config.eos_token_id)
        key, name = f"tiny-random-{TINY_LAYERS}-layers-seed{TINY_SEED}", "tiny-random"
    else:
        from magicpig.gguf_model import load_llama
        from magicpig.graph_cache import file_key
        from magicpig.model_store import fetch_model
        from magicpig.tokenizer import Tokenizer

        path = args.gguf or fetch_model()
        progress(f"loading {path}")
        model = load_llama(path)
        hf = Tokenizer.from_gguf(path).hf
        tokenizer = TextTokenizer(hf, [hf.eos_token_id])
        key, name = file_key(path), os.path.splitext(os.path.basename(path))[0]
    c = model.config
    context = args.context_length or c.context_length
    if context > c.context_length:
        raise MagicPigError(f"--context-length {context} exceeds the model's context "
                            f"of {c.context_length} tokens")
    options = MagicPigOptions.for_model(c.head_dim, **given_options(args)).validate()
    options.dense_layer_set(c.num_layers)  # range check before compiling
    library = compiled_library(args, model, key, options)
    engine = CompiledEngine(model, library, args.attention, args.max_batch)
    if args.library:
        check_library_options(args, engine.compiled.options, library)
    label = f"{engine.attention} attention, compiled graph {library}"
    if engine.compiled.sparse_layers:
        label += f" ({engine.compiled.sparse_layers} of {c.num_layers} layers sampled)"
    progress(f"model {args.model_name or name}: {label}; context {context} tokens")
    return engine, tokenizer, args.model_name or name, context, c.vocab_size


def _load_transformers(args):
    """load() of --model: a transformers model (magicpig.hf_load) compiled by
    compile_model with the graph options given."""
    from magicpig.engine import CompiledEngine
    from magicpig.generate import given_options
    from magicpig.hf_compile import compile_model
    from magicpig.hf_export import ModelShape
    from magicpig.hf_load import load as load_model, stop_ids

    loaded = load_model(args.model)
    progress(f"loaded {loaded.describe()}")
    shape = ModelShape(loaded.model.config)
    context = args.context_length or shape.context_length
    if context > shape.context_length:
        raise MagicPigError(f"--context-length {context} exceeds the model's context "
                            f"of {shape.context_length} tokens")
    graph = compile_model(loaded.model, attention=args.attention,
                          weight_type=args.weight_type, kv_type=args.kv_type,
                          **given_options(args))
    engine = CompiledEngine(loaded.model, graph.library, args.attention, args.max_batch)
    name = args.model_name or os.path.basename(os.path.normpath(loaded.source))
    batched = "one decode_batch call per step" if engine.batched else \
        "one decode call per sequence per step (a graph without decode_batch)"
    progress(f"model {name}: {engine.attention} attention, compiled graph "
             f"{graph.library} ({engine.compiled.sparse_layers} of {shape.num_layers} "
             f"layers sampled; {batched}); context {context} tokens")
    tokenizer = TextTokenizer(loaded.tokenizer, stop_ids(loaded))
    return engine, tokenizer, name, context, shape.vocab_size


def _log_config():
    """uvicorn's logging, its access lines on stderr too (stdout stays
    empty, as for the other magicpig tools)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def main(argv=None):
    args = build_parser().parse_args(argv)
    validate(args)
    import uvicorn

    engine, tokenizer, name, context, vocab = load(args)
    scheduler = Scheduler(engine, args.max_batch, args.queue_size).start()
    service = Service(scheduler, tokenizer, name, context, vocab)
    config = uvicorn.Config(create_app(service), host=args.host, port=args.port,
                            lifespan="off", log_level="info", log_config=_log_config(),
                            timeout_graceful_shutdown=args.shutdown_timeout)
    server = uvicorn.Server(config)
    # uvicorn shuts down on SIGTERM (stops accepting, lets in-flight requests
    # finish for --shutdown-timeout, cancels the rest), then raises the
    # signal again; with a Python handler of ours that second delivery is a
    # no-op instead of death by signal, so a clean shutdown exits 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    progress(f"serving on http://{args.host}:{args.port} (max batch {args.max_batch}, "
             f"queue {args.queue_size})")
    server.run()
    scheduler.stop(timeout=60)
    progress(f"stopped after {scheduler.completed} requests")
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(run_main(main))
