"""Load on a running `python3 -m magicpig.serve`: concurrent streaming clients.

    python3 bench/serve_load.py --port 8000 --clients 4 --requests 16 --max-tokens 32

Each of --clients threads sends streaming /v1/completions requests one
after the other until --requests have been sent in all or --duration
seconds have passed; each prompt is a different slice of --text (Debian's
GPL-2 by default) of --prompt-chars characters. Reports requests/s, time
to first token (p50, p90, max), output tokens/s (all clients together and
per request after its first token), and checks that every response
completed (a finish_reason, then `data: [DONE]`); exits 1 if one did not.
Only loopback addresses are accepted: this is a local benchmark. Uses only
the standard library.
"""

import argparse
import http.client
import ipaddress
import json
import os
import statistics
import sys
import threading
import time


def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def one_request(host, port, prompt, max_tokens, timeout):
    """-> dict(ok, ttft, seconds, tokens, error)."""
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "stream_options": {"include_usage": True}}
    start = time.perf_counter()
    first, tokens, finish, done = None, 0, None, False
    try:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.request("POST", "/v1/completions", body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        if response.status != 200:
            return {"ok": False, "error": f"HTTP {response.status}: "
                                          f"{response.read()[:200].decode()}"}
        for line in response:
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            if line == b"data: [DONE]":
                done = True
                break
            chunk = json.loads(line[len(b"data: "):])
            if "error" in chunk:
                return {"ok": False, "error": chunk["error"]["message"]}
            for choice in chunk["choices"]:
                if choice["text"] and first is None:
                    first = time.perf_counter() - start
                finish = choice["finish_reason"] or finish
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
        conn.close()
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as e:
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    seconds = time.perf_counter() - start
    if not (done and finish):
        return {"ok": False, "error": "the stream ended before its finish_reason "
                                      "and [DONE]"}
    return {"ok": True, "ttft": first if first is not None else seconds,
            "seconds": seconds, "tokens": tokens}


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 bench/serve_load.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (4)")
    p.add_argument("--requests", type=int, default=16, help="requests in all (16)")
    p.add_argument("--duration", type=float, default=120.0,
                   help="no request starts after this many seconds (120)")
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--prompt-chars", type=int, default=2000)
    p.add_argument("--text", default="/usr/share/common-licenses/GPL-2")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds one request may take (300)")
    args = p.parse_args(argv)
    if not loopback(args.host):
        p.error(f"--host {args.host} is not a loopback address")
    if min(args.clients, args.requests, args.max_tokens, args.prompt_chars) < 1:
        p.error("--clients, --requests, --max-tokens and --prompt-chars must be >= 1")
    if not os.path.isfile(args.text):
        p.error(f"--text {args.text}: no such file")
    with open(args.text, encoding="utf-8") as f:
        text = " ".join(f.read().split())
    if len(text) < args.prompt_chars:
        text = (text + " ") * (args.prompt_chars // max(len(text), 1) + 1)

    lock = threading.Lock()
    sent = [0]
    results = []
    start = time.perf_counter()

    def client():
        while True:
            with lock:
                k = sent[0]
                if k >= args.requests or time.perf_counter() - start > args.duration:
                    return
                sent[0] += 1
            offset = (k * 997) % max(len(text) - args.prompt_chars, 1)
            r = one_request(args.host, args.port, text[offset:offset + args.prompt_chars],
                            args.max_tokens, args.timeout)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start

    good = [r for r in results if r["ok"]]
    failed = [r for r in results if not r["ok"]]
    print(f"{len(results)} requests from {args.clients} clients in {wall:.1f} s "
          f"(prompt {args.prompt_chars} chars, max_tokens {args.max_tokens}): "
          f"{len(good)} completed, {len(failed)} failed")
    if good:
        ttft = [r["ttft"] for r in good]
        tokens = sum(r["tokens"] for r in good)
        decode = [(r["tokens"] - 1) / (r["seconds"] - r["ttft"]) for r in good
                  if r["tokens"] > 1 and r["seconds"] > r["ttft"]]
        print(f"requests/s {len(good) / wall:.2f}; output tokens/s {tokens / wall:.1f} "
              f"(all clients)")
        print(f"time to first token: p50 {percentile(ttft, 0.5):.2f} s, "
              f"p90 {percentile(ttft, 0.9):.2f} s, max {max(ttft):.2f} s")
        if decode:
            print(f"per request after its first token: {statistics.mean(decode):.1f} "
                  f"tokens/s (mean)")
    for r in failed[:5]:
        print(f"failed: {r['error']}", file=sys.stderr)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
