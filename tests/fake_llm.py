"""A scripted OpenAI-compatible LLM server for tests of the server around the model (the
door, the queue, the limits): every reply is the same sentence after a fixed delay, so a
queue fills the same way on every run and no test waits on real generation."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "The documents do not say."


def echo(body: dict) -> str:
    """The first sentence of passage [1] in the prompt, cited: an answer grounding keeps."""
    messages = body.get("messages") or [{}]
    prompt = str(messages[-1].get("content", ""))  # the question's (earlier: examples)
    found = re.search(r"^\[1\] (?:\([^)\n]*\) )?(.+)$", prompt, re.M)
    if not found:
        return REPLY
    return re.split(r"(?<=[.!?])\s", found.group(1).strip())[0].rstrip(".") + " [1]."


def _handler(delay: float, pace: float, echoing: bool):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._json({"object": "list", "data": [{"id": "stub", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = echo(body) if echoing else REPLY
            time.sleep(delay)
            head = {"id": "stub", "created": 0, "model": "stub"}
            if not body.get("stream"):
                choice = {"index": 0, "finish_reason": "stop"}
                choice["message"] = {"role": "assistant", "content": reply}
                self._json({**head, "object": "chat.completion", "choices": [choice]})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            # Word by word, ``pace`` seconds apart (0: the whole reply in one chunk).
            words = reply.split(" ") if pace else [reply]
            deltas = [{"content": w if i == 0 else " " + w} for i, w in enumerate(words)]
            deltas[0]["role"] = "assistant"
            for delta, finish in [*((d, None) for d in deltas), ({}, "stop")]:
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                chunk = {**head, "object": "chat.completion.chunk", "choices": [choice]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(pace)
            self.wfile.write(b"data: [DONE]\n\n")

        def _json(self, data: dict) -> None:
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


def start(
    delay: float, pace: float = 0.0, echoing: bool = False
) -> tuple[ThreadingHTTPServer, str]:
    """The server on a free loopback port, in a thread: (server, its /v1 base URL); a
    streamed reply comes a word every ``pace`` seconds; ``echoing``: every reply is the first
    sentence of the prompt's passage [1], cited (``echo``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(delay, pace, echoing))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
