"""magicpig.serve and magicpig.scheduler.

Unit tests of the scheduler step it by hand (`Scheduler.turn`) over a fake
engine whose tokens are predictable: joins and leaves, the bounded queue,
cancellation, a failing sequence among good ones, stop tokens and strings.

End to end: `python3 -m magicpig.serve --tiny` in a subprocess on a free
loopback port, over the tiny model's MagicPIG graph (compiled once for the
module, about 15-40 s): concurrent requests, streaming and not, must equal
the tokens of magicpig.generate's decode loop (`generate_tokens` with
`CompiledBackend`) run directly on the same graph; a client that
disconnects mid-stream frees its slot; malformed requests get 4xx; SIGTERM
finishes the in-flight stream and exits 0. The HTTP error paths that need a
slow or failing engine (429 queue full, 500 engine error) run the app
in-process over a fake engine.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import PYTHON_DIR, project_tool
from magicpig.engine import Sampling, SequenceState
from magicpig.scheduler import Done, QueueFull, Request, Scheduler, ShuttingDown, TextStream, Token

# --- the scheduler over a fake engine ---


class FakeEngine:
    """Each sequence counts up from its last prompt token: prefill chooses
    prompt[-1] + 1, each step adds 1. A prompt starting with FAIL_PREFILL
    fails in prefill; one starting with FAIL_DECODE fails at its second
    decode step. Records every call."""

    FAIL_PREFILL, FAIL_DECODE = 90, 91

    def __init__(self):
        self.calls = []
        self.released = []
        self.gate = None  # a threading.Event each decode step waits for

    def prefill(self, request):
        self.calls.append(("prefill", request.id))
        if request.prompt_ids[0] == self.FAIL_PREFILL:
            raise RuntimeError("prefill broke")
        ids = request.prompt_ids
        return SequenceState(request, len(ids), ids[-1] + 1, {"steps": 0})

    def decode_step(self, states):
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        self.calls.append(("step", [s.request.id for s in states]))
        out = []
        for s in states:
            s.data["steps"] += 1
            if s.request.prompt_ids[0] == self.FAIL_DECODE and s.data["steps"] == 2:
                out.append(RuntimeError("decode broke"))
                continue
            s.length += 1
            s.token += 1
            out.append(s.token)
        return out

    def release(self, state):
        self.released.append(state.request.id)


def collecting(request_id, prompt, max_tokens, **kw):
    events = []
    return Request(prompt, max_tokens, emit=events.append, request_id=request_id,
                   **kw), events


def tokens_of(events):
    return [e.token for e in events if isinstance(e, Token)]


def done_of(events):
    assert isinstance(events[-1], Done) and sum(isinstance(e, Done) for e in events) == 1
    return events[-1]


def quiet(message):
    pass


def drain(scheduler):
    """Turns until nothing runs or waits (a turn with nothing to do would
    wait for a request)."""
    while scheduler.stats()["running"] or scheduler.stats()["waiting"]:
        scheduler.turn()


def test_requests_join_after_prefill_and_leave_when_done():
    engine = FakeEngine()
    s = Scheduler(engine, max_batch=2, queue_size=8, log=quiet)
    a, ea = collecting("a", [10], 4)
    b, eb = collecting("b", [20], 1)   # done by its prefill's token
    c, ec = collecting("c", [30], 2)
    for r in (a, b, c):
        s.submit(r)
    assert s.turn()  # a joins (one prefill a turn), steps
    assert s.stats()["running"] == 1 and s.stats()["waiting"] == 2
    assert s.turn()  # b joins, leaves at once: done by its prefill's token
    assert s.turn()  # c takes the second slot; a and c end with this step
    assert engine.calls == [("prefill", "a"), ("step", ["a"]), ("prefill", "b"),
                            ("step", ["a"]), ("prefill", "c"), ("step", ["a", "c"])]
    assert tokens_of(ea) == [11, 12, 13, 14] and done_of(ea).reason == "length"
    assert tokens_of(eb) == [21] and done_of(eb).completion_tokens == 1
    assert tokens_of(ec) == [31, 32]
    assert sorted(engine.released) == ["a", "b", "c"]
    assert s.stats() == {"running": 0, "waiting": 0, "max_batch": 2, "queue_size": 8,
                         "completed": 3}


def test_the_queue_is_bounded():
    s = Scheduler(FakeEngine(), max_batch=1, queue_size=2, log=quiet)
    s.submit(collecting("a", [1], 5)[0])
    s.submit(collecting("b", [1], 5)[0])
    with pytest.raises(QueueFull, match="the server is busy: 2 requests are waiting "
                                        r"\(queue size 2\); retry later"):
        s.submit(collecting("c", [1], 5)[0])
    s.turn()  # a joins the batch: one place in the queue again
    s.submit(collecting("c", [1], 5)[0])


def test_cancel_a_waiting_and_a_running_request():
    engine = FakeEngine()
    s = Scheduler(engine, max_batch=1, queue_size=1, log=quiet)
    a, ea = collecting("a", [10], 100)
    b, eb = collecting("b", [20], 100)
    s.submit(a)
    s.turn()
    s.submit(b)
    s.cancel(b)  # waiting: ends at once, its queue place is free again
    assert done_of(eb).reason == "cancelled" and tokens_of(eb) == []
    c, ec = collecting("c", [30], 2)
    s.submit(c)
    s.cancel(a)  # running: leaves before the next step, its slot goes to c
    s.turn()
    assert done_of(ea).reason == "cancelled" and len(tokens_of(ea)) == 2
    assert "a" in engine.released
    assert engine.calls == [("prefill", "a"), ("step", ["a"]), ("prefill", "c"),
                            ("step", ["c"])]
    assert tokens_of(ec) == [31, 32]
    s.cancel(a)  # already ended: nothing happens
    assert sum(isinstance(e, Done) for e in ea) == 1


def test_a_failing_sequence_fails_alone():
    engine = FakeEngine()
    s = Scheduler(engine, max_batch=4, queue_size=8, log=quiet)
    bad_prefill, e1 = collecting("p", [FakeEngine.FAIL_PREFILL, 1], 5)
    bad_decode, e2 = collecting("d", [FakeEngine.FAIL_DECODE, 1], 5)
    good, e3 = collecting("g", [50], 5)
    for r in (bad_prefill, bad_decode, good):
        s.submit(r)
    drain(s)
    assert done_of(e1).reason == "error" and "prefill broke" in done_of(e1).error
    assert done_of(e2).reason == "error" and "decode broke" in done_of(e2).error
    assert tokens_of(e2) == [2, 3]  # its tokens before the failure were sent
    assert tokens_of(e3) == [51, 52, 53, 54, 55] and done_of(e3).reason == "length"
    assert "d" in engine.released


def test_stop_token_and_stop_string():
    engine = FakeEngine()
    s = Scheduler(engine, max_batch=2, queue_size=8, log=quiet)
    # The fake counts 65 'A', 66 'B', ...: stop token 68 ends before 'D'.
    a, ea = collecting("a", [64], 10, stop_token_ids=[68])
    b, eb = collecting("b", [64], 10, text=TextStream(lambda ids: bytes(ids).decode(),
                                                      stop=["CDE"]))
    s.submit(a)
    s.submit(b)
    drain(s)
    assert tokens_of(ea) == [65, 66, 67] and done_of(ea).reason == "stop"
    assert done_of(eb).reason == "stop"
    # 'C' and 'D' were held back (they may start "CDE"), then dropped.
    assert "".join(e.text for e in eb) == "AB"


def test_text_stream_holds_back_what_may_be_a_stop_string():
    t = TextStream(lambda ids: "".join(ids), stop=["</s>", "xyz"])
    assert [t.add(c) for c in "ab<"] == [("a", False), ("b", False), ("", False)]
    assert t.add("/") == ("", False)
    assert t.add("p") == ("</p", False)   # no longer a start of "</s>"
    assert t.add("x") == ("", False)
    assert t.flush() == "x"               # the end of a sequence releases it
    t = TextStream(lambda ids: "".join(ids), stop=["</s>"])
    assert [t.add(c)[0] for c in "hi</"] == ["h", "i", "", ""]
    assert t.add("s") == ("", False) and t.add(">") == ("", True)
    # A half UTF-8 character (the decoder's U+FFFD) waits for its rest.
    t = TextStream(lambda ids: bytes(ids).decode(errors="replace"))
    e_acute = list("é".encode())
    assert t.add(e_acute[0]) == ("", False)
    assert t.add(e_acute[1]) == ("é", False)


def test_worker_thread_serves_and_stops():
    engine = FakeEngine()
    s = Scheduler(engine, max_batch=3, queue_size=16, log=quiet).start()
    requests = [collecting(f"r{i}", [100 * i], 5 + i) for i in range(8)]
    got = threading.Semaphore(0)
    for r, events in requests:
        r.emit = lambda e, events=events: (events.append(e),
                                           isinstance(e, Done) and got.release())
        s.submit(r)
    for _ in requests:
        assert got.acquire(timeout=10)
    for i, (_, events) in enumerate(requests):
        assert tokens_of(events) == list(range(100 * i + 1, 100 * i + 6 + i))
    assert max(len(ids) for call, ids in engine.calls if call == "step") == 3
    # stop(): what still runs or waits is cancelled, the worker ends.
    engine.gate = threading.Event()
    long, el = collecting("long", [1], 1000)
    s.submit(long)
    waiting = [collecting(f"w{i}", [1], 10) for i in range(5)]
    for r, _ in waiting:
        s.submit(r)
    threading.Timer(0.2, engine.gate.set).start()
    s.stop(timeout=10)
    assert not s._thread.is_alive()
    assert done_of(el).reason == "cancelled"
    assert all(done_of(events).reason == "cancelled" for _, events in waiting)
    with pytest.raises(ShuttingDown):
        s.submit(collecting("late", [1], 1)[0])


def test_a_broken_engine_fails_every_request_and_the_health():
    class Broken(FakeEngine):
        def decode_step(self, states):
            return []  # a wrong number of results: a bug, not one sequence's error

    s = Scheduler(Broken(), max_batch=2, queue_size=8, log=quiet)
    a, ea = collecting("a", [1], 5)
    b, eb = collecting("b", [1], 5)
    s.submit(a)
    s.submit(b)
    s._worker()  # the worker loop, in this thread
    assert "decode_step gave 0 results for 1 sequences" in s.failure
    assert done_of(ea).reason == "error" and done_of(eb).reason == "error"
    with pytest.raises(ShuttingDown, match="the engine worker failed"):
        s.submit(collecting("c", [1], 1)[0])


# --- HTTP helpers ---

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port, method, path, body=None, raw=None, timeout=60):
    """(status, parsed JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, json.loads(text)


def wait_until_serving(port, proc, log, timeout=300):
    """Until the server process `proc` answers /health with 200 (torch,
    the model, the graph: seconds, more when the machine is loaded); its
    stderr `log` in the failure message."""
    deadline = time.time() + timeout
    while True:
        try:
            if call(port, "GET", "/health", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None, f"the server exited: {log.read_text()}"
        assert time.time() < deadline, f"the server did not start: {log.read_text()}"
        time.sleep(0.3)


def stream(port, path, body, timeout=60):
    """The parsed `data:` chunks of a streaming answer, up to [DONE]."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", path, body=json.dumps({**body, "stream": True}))
    response = conn.getresponse()
    assert response.status == 200, response.read()
    assert response.getheader("Content-Type").startswith("text/event-stream")
    chunks = []
    for line in response:
        line = line.decode().strip()
        if not line:
            continue
        assert line.startswith("data: ")
        if line == "data: [DONE]":
            conn.close()
            return chunks
        chunks.append(json.loads(line[len("data: "):]))
    raise AssertionError("the stream ended without data: [DONE]")


def streamed_text(chunks, chat):
    key = (lambda c: c["delta"].get("content", "")) if chat else (lambda c: c["text"])
    return "".join(key(c) for chunk in chunks for c in chunk["choices"])


def finish_reason(chunks):
    reasons = [c["finish_reason"] for chunk in chunks for c in chunk["choices"]
               if c["finish_reason"]]
    assert len(reasons) == 1
    return reasons[0]


# --- end to end: the tiny model's compiled MagicPIG graph ---

needs_compiler = pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                    reason="magicpig-compile not built")
SINK, WINDOW = 4, 16  # prompts of 30+ tokens have a hashed middle to sample


@pytest.fixture(scope="module")
def graph(tiny_export, tmp_path_factory):
    """The session's tiny export (conftest; the served model has its shapes)
    compiled as magicpig.graph_cache compiles it."""
    from magicpig.graph_cache import compile_flags, compile_once
    from magicpig.options import MagicPigOptions

    options = MagicPigOptions.for_model(16, sink_tokens=SINK, window_tokens=WINDOW,
                                        dense_layers=(0,))
    library = str(tmp_path_factory.mktemp("graphs") / "magicpig.so")
    return compile_once(str(tiny_export / "model.mlir"), library,
                        compile_flags("magicpig", options),
                        project_tool("magicpig-compile"))


@pytest.fixture(scope="module")
def server(graph, tmp_path_factory):
    """The server process: (port, its stderr log path, the Popen)."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "stderr.txt"
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "magicpig.serve", "--tiny", "--library", graph,
             "--attention", "magicpig", "--port", str(port), "--max-batch", "3",
             "--queue-size", "16", "--shutdown-timeout", "60"],
            stdout=subprocess.DEVNULL, stderr=err, env=env)
    wait_until_serving(port, proc, log)
    yield port, log, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def direct(graph):
    """Generation through magicpig.generate's loop on the same graph."""
    import torch

    from magicpig.backends import CompiledBackend
    from magicpig.generate import generate_tokens
    from magicpig.sampling import next_token
    from magicpig.serve import ByteTokenizer, tiny_serving_model

    model = tiny_serving_model()
    tokenizer = ByteTokenizer(model.config.eos_token_id)

    def run(ids, max_tokens, temperature=0.0, seed=0):
        generator = torch.Generator().manual_seed(seed)
        tokens, _, _, _ = generate_tokens(
            CompiledBackend(model, graph, "magicpig"), ids, max_tokens,
            tokenizer.eos_token_id,
            lambda logits: next_token(logits, temperature <= 0, temperature, 1.0,
                                      generator))
        return tokenizer.decode(tokens), ("length" if len(tokens) == max_tokens
                                          else "stop")

    return tokenizer, run


PROMPTS = ["The quick brown fox jumps over the lazy dog, again and again.",
           "Sampled attention keeps a few keys of a long context: " * 2,
           "0123456789" * 5,
           "A short one, still past sink + window tokens.",
           "Every sequence has its own KV cache and its own LSH index here.",
           "zyxwvutsrqponmlkjihgfedcba ZYXWVUTSRQPONMLKJIHGFEDCBA"]


@needs_compiler
def test_engine_reports_the_memory_of_its_sequences(graph):
    from magicpig.engine import CompiledEngine
    from magicpig.scheduler import Request
    from magicpig.serve import tiny_serving_model

    model = tiny_serving_model()
    engine = CompiledEngine(model, graph, "magicpig", max_batch=2)
    assert engine.batched and engine.memory()["kv_cache_bytes"] == 0
    c = model.config
    row = 2 * c.num_layers * c.num_kv_heads * c.head_dim * 4  # K and V, f32
    states = [engine.prefill(Request(list(range(40 + 10 * i)), 4)) for i in range(2)]
    memory = engine.memory()
    assert memory["kv_cache_bytes"] == row * (40 + 50)
    assert memory["kv_cache_allocated_bytes"] >= memory["kv_cache_bytes"]
    assert memory["index_bytes"] > 0
    engine.decode_step(states)
    assert engine.memory()["kv_cache_bytes"] == row * (41 + 51)
    for state in states:
        engine.release(state)
    assert engine.memory() == {"kv_cache_bytes": 0, "kv_cache_allocated_bytes": 0,
                               "index_bytes": 0}
    state = engine.prefill(Request(list(range(30)), 4))  # the buffers come back
    assert engine.memory()["kv_cache_bytes"] == row * 30
    engine.release(state)


@needs_compiler
def test_concurrent_requests_equal_direct_generation(server, direct):
    port = server[0]
    tokenizer, run = direct
    jobs = []  # (path, body, streaming, expected (text, finish reason))
    for i, prompt in enumerate(PROMPTS):
        max_tokens = 12 + 7 * i
        if i % 2 == 0:
            body = {"model": "tiny-random", "prompt": prompt, "max_tokens": max_tokens,
                    "temperature": 0}
            path, ids = "/v1/completions", tokenizer.encode(prompt)
        else:
            messages = [{"role": "system", "content": "Be brief."},
                        {"role": "user", "content": prompt}]
            body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0}
            path, ids = "/v1/chat/completions", tokenizer.chat(messages)
        jobs.append((path, body, i % 3 != 0, run(ids, max_tokens)))
    # Seeded sampling follows the request's own generator.
    sampled = {"prompt": PROMPTS[0], "max_tokens": 20, "temperature": 0.9, "seed": 7}
    jobs.append(("/v1/completions", sampled, True,
                 run(tokenizer.encode(PROMPTS[0]), 20, 0.9, 7)))
    assert len({expected for *_, expected in jobs}) == len(jobs)  # all differ

    results = [None] * len(jobs)

    def client(k, path, body, streaming):
        chat = "chat" in path
        if streaming:
            chunks = stream(port, path, body)
            results[k] = (streamed_text(chunks, chat), finish_reason(chunks))
        else:
            status, answer = call(port, "POST", path, body)
            assert status == 200, answer
            choice = answer["choices"][0]
            text = choice["message"]["content"] if chat else choice["text"]
            results[k] = (text, choice["finish_reason"])
            assert answer["usage"]["completion_tokens"] <= body["max_tokens"]

    threads = [threading.Thread(target=client, args=(k, path, body, streaming))
               for k, (path, body, streaming, _) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for (path, body, streaming, expected), got in zip(jobs, results):
        assert got == expected, (path, body, streaming)
    log = server[1].read_text()
    assert "(3/3 running" in log  # the batch was full at some point


@needs_compiler
def test_stop_strings_and_usage(server, direct):
    port = server[0]
    tokenizer, run = direct
    prompt = PROMPTS[2]
    full, _ = run(tokenizer.encode(prompt), 30)
    assert len(full) == 30
    stop = full[10:12]
    cut = full[:full.find(stop)]
    status, answer = call(port, "POST", "/v1/completions",
                          {"prompt": prompt, "max_tokens": 30, "temperature": 0,
                           "stop": [stop, "never"]})
    assert status == 200
    assert (answer["choices"][0]["text"], answer["choices"][0]["finish_reason"]) == \
        (cut, "stop")
    chunks = stream(port, "/v1/completions",
                    {"prompt": prompt, "max_tokens": 30, "temperature": 0, "stop": stop,
                     "stream_options": {"include_usage": True}})
    assert streamed_text(chunks, False) == cut and finish_reason(chunks) == "stop"
    assert chunks[-1]["usage"]["prompt_tokens"] == len(tokenizer.encode(prompt))
    # Token ids as the prompt: the same answer as their text.
    status, by_ids = call(port, "POST", "/v1/completions",
                          {"prompt": tokenizer.encode(prompt), "max_tokens": 30,
                           "temperature": 0})
    assert by_ids["choices"][0]["text"] == full


@needs_compiler
def test_a_client_gone_mid_stream_frees_its_slot(server, direct):
    port, log, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/v1/completions", body=json.dumps(
        {"prompt": PROMPTS[1], "max_tokens": 400, "temperature": 0, "stream": True}))
    response = conn.getresponse()
    first = json.loads(response.readline().decode()[len("data: "):])
    conn.sock.shutdown(socket.SHUT_RDWR)  # the client goes away mid-answer
    conn.close()
    deadline = time.time() + 20
    while f"{first['id']}: cancelled after" not in log.read_text():
        assert time.time() < deadline, "the sequence was not cancelled"
        time.sleep(0.1)
    line = next(x for x in log.read_text().splitlines()
                if f"{first['id']}: cancelled after" in x)
    assert int(line.split("cancelled after ")[1].split()[0]) < 400
    status, health = call(port, "GET", "/health")
    assert status == 200 and health["running"] == 0 and health["waiting"] == 0
    tokenizer, run = direct  # and the server goes on serving
    status, answer = call(port, "POST", "/v1/completions",
                          {"prompt": PROMPTS[3], "max_tokens": 5, "temperature": 0})
    assert answer["choices"][0]["text"] == run(tokenizer.encode(PROMPTS[3]), 5)[0]


BAD_REQUESTS = [
    ("/v1/completions", "{bad json", 400, "not valid JSON"),
    ("/v1/completions", "[1, 2]", 400, "must be a JSON object"),
    ("/v1/completions", {"prompt": "x", "n": 2}, 400, "'n' must be 1"),
    ("/v1/completions", {"prompt": "x", "max_tokens": 0}, 400, "'max_tokens' must be"),
    ("/v1/completions", {"prompt": "x", "max_tokens": "5"}, 400, "'max_tokens' must be"),
    ("/v1/completions", {"prompt": "x", "max_tokens": True}, 400, "'max_tokens' must be"),
    ("/v1/completions", {"prompt": "x", "temperature": -1}, 400, "'temperature' must"),
    ("/v1/completions", {"prompt": "x", "top_p": 0}, 400, "'top_p' must be"),
    ("/v1/completions", {"prompt": "x", "stop": [1]}, 400, "'stop' must be"),
    ("/v1/completions", {"prompt": "x", "stop": ["a"] * 5}, 400, "'stop' must be"),
    ("/v1/completions", {"prompt": "x", "stream": "yes"}, 400, "'stream' must be"),
    ("/v1/completions", {"prompt": "x", "logprobs": 2}, 400, "'logprobs' is not supported"),
    ("/v1/completions", {"prompt": "x", "model": "gpt-4"}, 404, "is not served here"),
    ("/v1/completions", {"prompt": ""}, 400, "the prompt is empty"),
    ("/v1/completions", {"prompt": 5}, 400, "'prompt' must be a string"),
    ("/v1/completions", {"prompt": ["a", "b"]}, 400, "a batch of prompts"),
    ("/v1/completions", {"prompt": [1, 999]}, 400, "outside the vocabulary"),
    ("/v1/completions", {"prompt": "x" * 600}, 400,
     "the prompt has 600 tokens; the context is 512 tokens"),
    ("/v1/completions", {"prompt": "x" * 500, "max_tokens": 100}, 400,
     "max_tokens 100 + the prompt's 500 tokens exceed the context of 512"),
    ("/v1/chat/completions", {"messages": []}, 400, "'messages' must be a non-empty"),
    ("/v1/chat/completions", {"messages": [{"role": "robot", "content": "x"}]}, 400,
     "must be an object with 'role'"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": 3}]}, 400,
     "content must be a string"),
]


@needs_compiler
def test_malformed_requests_get_4xx(server):
    port = server[0]
    for path, body, status, text in BAD_REQUESTS:
        raw = body if isinstance(body, str) else None
        got, answer = call(port, "POST", path, None if raw else body, raw)
        assert got == status and text in answer["error"]["message"], (body, answer)
        assert answer["error"]["type"] == "invalid_request_error"
    assert call(port, "GET", "/v1/completions")[0] == 405
    assert call(port, "GET", "/v2/nothing")[0] == 404
    assert call(port, "GET", "/health")[1]["status"] == "ok"


@needs_compiler
def test_models_and_health(server):
    status, models = call(server[0], "GET", "/v1/models")
    assert status == 200 and [m["id"] for m in models["data"]] == ["tiny-random"]
    status, health = call(server[0], "GET", "/health")
    assert status == 200 and health["status"] == "ok" and health["max_batch"] == 3
    assert {"kv_cache_bytes", "kv_cache_allocated_bytes", "index_bytes"} <= set(health)


@needs_compiler
def test_sigterm_finishes_the_stream_and_exits_0(server, direct):
    """Last in this module: it ends the shared server."""
    port, log, proc = server
    tokenizer, run = direct
    expected = run(tokenizer.encode(PROMPTS[4]), 100)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/v1/completions", body=json.dumps(
        {"prompt": PROMPTS[4], "max_tokens": 100, "temperature": 0, "stream": True}))
    response = conn.getresponse()
    lines = [response.readline()]
    proc.send_signal(signal.SIGTERM)
    lines += list(response)  # to the end: the stream goes on to its last token
    chunks = [json.loads(x[len(b"data: "):]) for x in lines
              if x.startswith(b"data: {")]
    assert [x.strip() for x in lines if x.strip()][-1] == b"data: [DONE]"
    assert (streamed_text(chunks, False), finish_reason(chunks)) == expected
    assert proc.wait(60) == 0
    with pytest.raises(OSError):
        call(port, "GET", "/health", timeout=5)
    assert "stopped after" in log.read_text()


# --- HTTP errors that need a slow or failing engine: the app in-process ---

@pytest.fixture
def fake_server():
    import uvicorn

    from magicpig.serve import ByteTokenizer, Service, create_app

    engine = FakeEngine()
    engine.gate = threading.Event()
    scheduler = Scheduler(engine, max_batch=1, queue_size=1, log=quiet).start()
    service = Service(scheduler, ByteTokenizer(2), "fake", 512, 256)
    port = free_port()
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port,
                            lifespan="off", log_level="warning")
    http_server = uvicorn.Server(config)
    thread = threading.Thread(target=http_server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not http_server.started:
        assert time.time() < deadline
        time.sleep(0.05)
    yield port, engine
    engine.gate.set()
    http_server.should_exit = True
    thread.join(10)
    scheduler.stop(timeout=10)


def test_full_queue_is_429_and_an_engine_error_is_500(fake_server):
    port, engine = fake_server
    results = {}

    def send(name, prompt):
        results[name] = call(port, "POST", "/v1/completions",
                             {"prompt": prompt, "max_tokens": 3, "temperature": 0})

    running = threading.Thread(target=send, args=("running", "ab"))
    running.start()
    deadline = time.time() + 10
    while not engine.calls:  # its prefill ran; its first step waits for the gate
        assert time.time() < deadline
        time.sleep(0.01)
    waiting = threading.Thread(target=send, args=("waiting", "cd"))
    waiting.start()
    deadline = time.time() + 10
    while call(port, "GET", "/health")[1]["waiting"] != 1:
        assert time.time() < deadline
        time.sleep(0.01)
    status, answer = call(port, "POST", "/v1/completions", {"prompt": "ef"})
    assert status == 429 and "the server is busy" in answer["error"]["message"]
    assert answer["error"]["code"] == "queue_full"
    engine.gate.set()
    running.join(10)
    waiting.join(10)
    assert results["running"][0] == 200 and results["running"][1]["choices"][0]["text"] == "cde"
    assert results["waiting"][1]["choices"][0]["text"] == "efg"
    # A sequence whose decode fails: 500 with the engine's message.
    status, answer = call(port, "POST", "/v1/completions",
                          {"prompt": chr(FakeEngine.FAIL_DECODE) + "a", "max_tokens": 5})
    assert status == 500 and "generation failed: RuntimeError: decode broke" in \
        answer["error"]["message"]
    # Streaming: a prefill error comes before the first chunk, so a 500 too;
    # a decode error after it is an error event, then [DONE].
    status, answer = call(port, "POST", "/v1/completions",
                          {"prompt": chr(FakeEngine.FAIL_PREFILL) + "a", "stream": True})
    assert status == 500 and "RuntimeError: prefill broke" in answer["error"]["message"]
    chunks = stream(port, "/v1/completions",
                    {"prompt": chr(FakeEngine.FAIL_DECODE) + "a", "max_tokens": 5})
    assert streamed_text(chunks[:-1], False) == "bc"
    assert "decode broke" in chunks[-1]["error"]["message"]
    assert call(port, "GET", "/health")[1]["status"] == "ok"


def test_a_client_gone_before_a_whole_answer_cancels_it(fake_server):
    """Not streaming: the server notices the disconnect while it waits."""
    port, engine = fake_server
    engine.gate.clear()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/v1/completions",
                 body=json.dumps({"prompt": "ab", "max_tokens": 400}))
    deadline = time.time() + 10
    while not engine.calls:  # prefilled; its first step waits for the gate
        assert time.time() < deadline
        time.sleep(0.01)
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    time.sleep(0.5)  # the server sees the disconnect and cancels
    engine.gate.set()
    while call(port, "GET", "/health")[1]["completed"] != 1:
        assert time.time() < deadline
        time.sleep(0.01)
    assert len([c for c in engine.calls if c[0] == "step"]) == 1  # then it left


# --- the real model (slow: `pytest -m slow`; the graph from the cache) ---

@pytest.mark.slow
@needs_compiler
def test_smollm2_server_answers_as_generate(gguf_path, model, tokenizer, tmp_path):
    """SmolLM2 with MagicPIG served, two concurrent chats (one streaming)
    against generate's greedy loop with Tokenizer.chat_prompt, decoded as
    generate decodes; the GGUF tokenizer's text path (UTF-8, special
    tokens) is the one under test here."""
    from magicpig.backends import CompiledBackend
    from magicpig.generate import generate_tokens
    from magicpig.graph_cache import compiled_graph, file_key
    from magicpig.options import MagicPigOptions

    os.environ.setdefault("MAGICPIG_COMPILE", project_tool("magicpig-compile"))
    library = compiled_graph(model, file_key(gguf_path), "magicpig",
                             MagicPigOptions.for_model(model.config.head_dim))
    questions = ["What is the capital of France? Answer in one sentence.",
                 "Name three colors and say which one you like."]
    expected = []
    for q in questions:
        tokens, _, _, _ = generate_tokens(CompiledBackend(model, library),
                                          tokenizer.chat_prompt(q), 24,
                                          tokenizer.eos_token_id)
        expected.append(tokenizer.decode(tokens, skip_special_tokens=True))
    port = free_port()
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "magicpig.serve", "--gguf", gguf_path, "--library",
             library, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "PYTHONPATH": PYTHON_DIR})
    try:
        wait_until_serving(port, proc, tmp_path / "stderr.txt")
        got = [None, None]

        def ask(k, streaming):
            body = {"messages": [{"role": "user", "content": questions[k]}],
                    "max_tokens": 24, "temperature": 0}
            if streaming:
                got[k] = streamed_text(stream(port, "/v1/chat/completions", body,
                                              timeout=300), True)
            else:
                got[k] = call(port, "POST", "/v1/chat/completions", body,
                              timeout=300)[1]["choices"][0]["message"]["content"]

        threads = [threading.Thread(target=ask, args=(k, k == 1)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert got == expected
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
