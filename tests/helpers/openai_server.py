"""A chat-completions server on 127.0.0.1 whose answers and faults the tests script.

``ScriptedServer(responder)`` answers each POST to ``/v1/chat/completions`` with
``responder(body)`` (a response dict), unless a queued fault comes first: an HTTP status with a
JSON error (its message scripted too), a malformed body, a delay (for timeouts), a slow drip (the
answer sent one byte at a time, ``seconds`` apart) or a dropped connection. Every request body
is recorded. Nothing listens beyond loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Fault:
    kind: str  # "status" | "malformed" | "delay" | "drip" | "drop"
    status: int = 500
    seconds: float = 0.0
    headers: dict | None = None
    message: str | None = None


def completion(content: str, tokens: list[tuple[str, float, list[tuple[str, float]]]] | None = None, model: str = "scripted") -> dict:
    """A chat.completion body; ``tokens`` = [(token, logprob, [(alternative, logprob), ...]), ...]."""
    choice: dict = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    if tokens is not None:
        choice["logprobs"] = {
            "content": [
                {"token": t, "logprob": lp, "bytes": None, "top_logprobs": [{"token": a, "logprob": alp, "bytes": None} for a, alp in top]}
                for t, lp, top in tokens
            ]
        }
    words = max(1, len(content.split()))
    return {
        "id": "cmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [choice],
        "usage": {"prompt_tokens": 100, "completion_tokens": words, "total_tokens": 100 + words},
    }


class ScriptedServer:
    def __init__(self, responder: Callable[[dict], dict] | None = None):
        self.responder = responder or (lambda body: completion("This image is fake."))
        self.faults: list[Fault | None] = []  # consumed one per request; None answers normally
        self.requests: list[dict] = []
        self.authorizations: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0  # seconds every answer waits (to observe concurrency)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with owner._lock:
                    owner.requests.append(body)
                    owner.authorizations.append(self.headers.get("Authorization"))
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                try:
                    fault = owner._next_fault()
                    if fault is not None and fault.kind == "drop":
                        self.close_connection = True
                        return
                    if fault is not None and fault.kind == "status":
                        message = fault.message or f"scripted {fault.status}"
                        error = {"error": {"message": message, "type": "server_error", "code": fault.status}}
                        self._send(fault.status, json.dumps(error).encode(), fault.headers)
                        return
                    if fault is not None and fault.kind == "malformed":
                        self._send(200, b'{"id": "cmpl-test", "choices": [')
                        return
                    if fault is not None and fault.kind == "drip":
                        payload = json.dumps(owner.responder(body)).encode()
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        for byte in payload:  # never silent for long, never done
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(fault.seconds)
                        return
                    if fault is not None and fault.kind == "delay":
                        time.sleep(fault.seconds)
                    if owner.delay:
                        time.sleep(owner.delay)
                    self._send(200, json.dumps(owner.responder(body)).encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    with owner._lock:
                        owner.in_flight -= 1

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
