"""An OpenAI-compatible HTTP server on loopback that answers from a script, for stage tests.

`answer(messages, index)` returns the text of choice `index` for a chat request; the server
implements /v1/chat/completions with `n` choices, as vLLM or llama.cpp's server would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[list[dict], int], str]


@contextmanager
def scripted_server(answer: Answer) -> Iterator[str]:
    """Serve `answer` on an ephemeral loopback port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": answer(body["messages"], i)},
                    "finish_reason": "stop",
                }
                for i in range(body.get("n", 1))
            ]
            payload = json.dumps({"id": "x", "object": "chat.completion", "choices": choices}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
