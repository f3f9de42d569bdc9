"""A scripted OpenAI-compatible LLM server for tests of the server around the model (the
door, the queue, the limits): every reply is the same sentence after a fixed delay, so a
queue fills the same way on every run and no test waits on real generation."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "The documents do not say."


def _handler(delay: float, pace: float):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._json({"object": "list", "data": [{"id": "stub", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(delay)
            head = {"id": "stub", "created": 0, "model": "stub"}
            if not body.get("stream"):
                choice = {"index": 0, "finish_reason": "stop"}
                choice["message"] = {"role": "assistant", "content": REPLY}
                self._json({**head, "object": "chat.completion", "choices": [choice]})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            # Word by word, ``pace`` seconds apart (0: the whole reply in one chunk).
            words = REPLY.split(" ") if pace else [REPLY]
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


def start(delay: float, pace: float = 0.0) -> tuple[ThreadingHTTPServer, str]:
    """The server on a free loopback port, in a thread: (server, its /v1 base URL); a
    streamed reply comes a word every ``pace`` seconds."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(delay, pace))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
