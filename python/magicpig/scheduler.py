"""Continuous batching of generation requests over one engine.

One worker thread owns the engine (a compiled graph is not thread-safe).
Other threads (the HTTP server's) `submit` requests into a bounded waiting
queue and `cancel` them; the worker reports each request's tokens and its
end through the request's `emit` callback, from the worker thread.

The worker loop, each turn:
  1. leave: drop cancelled sequences (a client that went away, an explicit
     cancel);
  2. join: if the running batch has room (`max_batch`), take the next
     waiting request and prefill it (the batch waits meanwhile: no chunked
     prefill; one prefill a turn, so that running sequences go on between
     the prefills of a crowd of new requests); its first token comes from
     the prefill's logits;
  3. step: one `engine.decode_step` over the whole running batch; each
     sequence that ends (max tokens, a stop token, a stop string) or fails
     leaves it, freeing its slot for the next turn's joins.
Nothing is recompiled: sequences come and go between steps.
"""

import collections
import dataclasses
import itertools
import threading
import time

from magicpig.cli import progress
from magicpig.engine import Sampling
from magicpig.errors import MagicPigError


class QueueFull(MagicPigError):
    """The waiting queue is full: the client should retry later."""


class ShuttingDown(MagicPigError):
    """The scheduler no longer takes requests."""


@dataclasses.dataclass
class Token:
    """One generated token and the text it makes safe to show (may be '')."""
    token: int
    text: str


@dataclasses.dataclass
class Done:
    """The end of a request: reason 'stop' (a stop token or string),
    'length' (max_tokens), 'cancelled' or 'error' (with `error`); `text` is
    what remained held back."""
    reason: str
    completion_tokens: int
    text: str = ""
    error: str = None


_ids = itertools.count(1)


class Request:
    """A generation request as the scheduler and the engine see it.

    emit(event) is called with each Token and finally one Done, from the
    worker thread (or from the canceller's thread for a request cancelled
    while waiting). text: a TextStream (or None: no text, no stop strings).
    """

    def __init__(self, prompt_ids, max_tokens, sampling=Sampling(), stop_token_ids=(),
                 text=None, emit=None, request_id=None):
        self.id = request_id or f"req-{next(_ids)}"
        self.prompt_ids = list(prompt_ids)
        self.max_tokens = max_tokens
        self.sampling = sampling
        self.stop_token_ids = frozenset(stop_token_ids)
        self.text = text
        self.emit = emit or (lambda event: None)
        self.generated = 0
        self.cancelled = False  # asked to end; under the scheduler's lock
        self.done = False       # its Done was emitted; under the lock
        self.submitted = time.perf_counter()


class TextStream:
    """Detokenizes a sequence as it grows: the text safe to send now (no
    half UTF-8 character, nothing that could be the start of a stop
    string) and whether a stop string appeared (the text ends before it)."""

    def __init__(self, decode, stop=()):
        self.decode = decode  # token ids -> str
        self.stop = [s for s in stop if s]
        self.ids = []
        self.sent = ""

    def add(self, token):
        """-> (new text to send, whether a stop string ended the text)."""
        self.ids.append(token)
        text = self.decode(self.ids)
        found = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        if found:
            return self._send(text[:min(found)]), True
        hold = len(text) - len(text.rstrip("\ufffd"))  # a character still incomplete
        for s in self.stop:  # the longest tail that starts a stop string
            hold = max(hold, next((k for k in range(len(s) - 1, 0, -1)
                                   if text.endswith(s[:k])), 0))
        return self._send(text[:len(text) - hold]), False

    def flush(self):
        """The held-back text, at the end of a sequence that did not stop."""
        return self._send(self.decode(self.ids))

    def _send(self, text):
        # A longer decode may rewrite earlier text (tokenizer clean-up of
        # spaces); what was sent stays, and nothing goes until it agrees.
        if not text.startswith(self.sent):
            return ""
        delta, self.sent = text[len(self.sent):], text
        return delta


class Scheduler:
    def __init__(self, engine, max_batch=8, queue_size=64, log=progress):
        if max_batch < 1:
            raise MagicPigError(f"--max-batch must be >= 1, got {max_batch}")
        if queue_size < 0:
            raise MagicPigError(f"--queue-size must be >= 0, got {queue_size}")
        self.engine = engine
        self.max_batch = max_batch
        self.queue_size = queue_size
        self.log = log
        self._lock = threading.Condition()
        self._waiting = collections.deque()  # under _lock
        self._running = []                   # the worker's own
        self._accepting = True
        self._stopping = False
        self.failure = None  # set if the worker itself died
        self.completed = 0
        self._thread = threading.Thread(target=self._worker, name="magicpig-engine",
                                        daemon=True)

    # --- the client side (any thread) ---

    def start(self):
        self._thread.start()
        return self

    def submit(self, request):
        """Queues a request; raises QueueFull or ShuttingDown."""
        with self._lock:
            if not self._accepting or self.failure:
                raise ShuttingDown(self.failure or "the server is shutting down")
            if len(self._waiting) >= self.queue_size:
                raise QueueFull(f"the server is busy: {len(self._waiting)} requests "
                                f"are waiting (queue size {self.queue_size}); "
                                f"retry later")
            self._waiting.append(request)
            self._lock.notify()

    def cancel(self, request):
        """Ends a request: at once if it is waiting, else the worker frees
        its sequence before the next step. A finished one is left alone."""
        with self._lock:
            if request.cancelled or request.done:
                return
            request.cancelled = True
            if request in self._waiting:
                self._waiting.remove(request)
                request.done = True
                request.emit(Done("cancelled", 0))
            self._lock.notify()

    def stats(self):
        """The counts, and the engine's memory when it reports it (read
        from another thread than the worker's: a snapshot, not a lock)."""
        memory = getattr(self.engine, "memory", None)
        with self._lock:
            stats = {"running": self._running_count, "waiting": len(self._waiting),
                     "max_batch": self.max_batch, "queue_size": self.queue_size,
                     "completed": self.completed}
        return {**stats, **(memory() if memory else {})}

    def stop(self, timeout=None):
        """Takes no more requests, cancels the waiting and the running ones
        and waits for the worker to end."""
        with self._lock:
            self._accepting = False
            self._stopping = True
            waiting, self._waiting = list(self._waiting), collections.deque()
            self._lock.notify()
        for request in waiting:
            request.done = True
            request.emit(Done("cancelled", 0))
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- the worker thread ---

    _running_count = 0

    def _worker(self):
        try:
            while self.turn():
                pass
            for state in self._running:  # stopped: cancel what still runs
                self._finish(state, "cancelled")
        except BaseException as e:  # a bug, not one sequence's error: fail all
            self.failure = f"the engine worker failed: {type(e).__name__}: {e}"
            self.log(self.failure)
            for state in self._running:
                self._finish(state, "error", error=self.failure)
            with self._lock:
                waiting, self._waiting = list(self._waiting), collections.deque()
            for request in waiting:
                self._ended(request, Done("error", 0, error=self.failure))
        self._running = []
        self._running_count = 0

    def turn(self):
        """One turn of the worker loop: joins, leaves, one decode step;
        False once stopped. The worker thread runs it; tests step it by hand."""
        with self._lock:
            while not (self._waiting or self._running or self._stopping):
                self._lock.wait()
            if self._stopping:
                return False
            cancelled = [s for s in self._running if s.request.cancelled]
        for state in cancelled:  # first, so that their slots can be joined now
            self._running.remove(state)
            self._finish(state, "cancelled")
        with self._lock:
            # One prefill per turn: the running sequences get a step between
            # two prefills (each may take seconds) instead of waiting for all.
            joining = (self._waiting.popleft()
                       if self._waiting and len(self._running) < self.max_batch else None)
        if joining is not None:
            self._join(joining)
        if self._running:
            self._step()
        self._running_count = len(self._running)
        return True

    def _join(self, request):
        if request.cancelled:  # cancelled between leaving the queue and now
            self._ended(request, Done("cancelled", 0))
            return
        start = time.perf_counter()
        try:
            state = self.engine.prefill(request)
        except Exception as e:  # noqa: BLE001 - this request fails, not the server
            self._fail(request, None, e)
            return
        self.log(f"{request.id}: prefill of {len(request.prompt_ids)} tokens in "
                 f"{time.perf_counter() - start:.2f} s; joins the batch "
                 f"({len(self._running) + 1}/{self.max_batch} running, "
                 f"{len(self._waiting)} waiting)")
        if not self._accept(state, state.token):
            self._running.append(state)
        self._running_count = len(self._running)

    def _step(self):
        results = self.engine.decode_step(self._running)
        if len(results) != len(self._running):
            raise RuntimeError(f"decode_step gave {len(results)} results for "
                               f"{len(self._running)} sequences")
        still = []
        for state, result in zip(self._running, results):
            if isinstance(result, BaseException):
                self._fail(state.request, state, result)
            elif not self._accept(state, result):
                still.append(state)
        self._running = still

    def _accept(self, state, token):
        """Records a sequence's new token; True if the sequence has ended."""
        request = state.request
        if token in request.stop_token_ids:
            self._finish(state, "stop")
            return True
        request.generated += 1
        text, stopped = request.text.add(token) if request.text else ("", False)
        request.emit(Token(token, text))
        if stopped:
            self._finish(state, "stop")
        elif request.generated >= request.max_tokens:
            self._finish(state, "length")
        else:
            return False
        return True

    def _finish(self, state, reason, error=None):
        request = state.request
        if request.done:
            return
        self.engine.release(state)
        rest = request.text.flush() if request.text and reason == "length" else ""
        self._ended(request, Done(reason, request.generated, rest, error))
        seconds = time.perf_counter() - request.submitted
        self.log(f"{request.id}: {reason}{f' ({error})' if error else ''} after "
                 f"{request.generated} tokens, {seconds:.2f} s since submitted")

    def _ended(self, request, done):
        with self._lock:
            if request.done:  # already ended (the worker failing mid-step)
                return
            request.done = True  # a later cancel() is a no-op
            self.completed += 1
        request.emit(done)

    def _fail(self, request, state, exception):
        message = f"{type(exception).__name__}: {exception}"
        if state is None:  # failed in prefill: it never held a slot
            self._ended(request, Done("error", 0, error=message))
            self.log(f"{request.id}: error in prefill ({message})")
        else:
            self._finish(state, "error", error=message)
