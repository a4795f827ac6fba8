"""The OpenAI-compatible backend against a small real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ledex.generation import GenerationRequest, SamplingParams, make_generator


@dataclass
class ServerScript:
    """How the fake server behaves, and what it saw."""

    failures: list[str] = field(default_factory=list)  # one per request, in order: "503", "429", "drop" or "slow"
    max_choices: int = 128  # some servers ignore n
    delay_s: float = 0.0
    seen: list[dict] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeOpenAIHandler(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions and /v1/completions with `<prompt> seed=<s> STOP tail`."""

    script: ServerScript

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        script = self.script
        with script.lock:
            script.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            failure = script.failures.pop(0) if script.failures else None
            script.in_flight += 1
            script.max_in_flight = max(script.max_in_flight, script.in_flight)
        try:
            time.sleep(script.delay_s + (1.0 if failure == "slow" else 0.0))
        finally:
            with script.lock:  # before answering: the client may send its next request once it reads this answer
                script.in_flight -= 1
        if failure in ("drop", "slow"):
            self.close_connection = True  # no response: a dropped connection, or the client's own timeout
        elif failure in ("503", "429"):
            self.respond(int(failure), {"error": {"message": "try again"}})
        else:
            self.respond(200, {"choices": self.choices(body)})

    def choices(self, body: dict) -> list[dict]:
        chat = self.path == "/v1/chat/completions"
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        texts = [f"{prompt} seed={body['seed'] + i} STOP tail" for i in range(min(body["n"], self.script.max_choices))]
        if chat:
            return [{"index": i, "message": {"role": "assistant", "content": t}} for i, t in enumerate(texts)]
        return [{"index": i, "text": t} for i, t in enumerate(texts)]

    def respond(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep pytest output quiet
        pass


@pytest.fixture
def serve():
    """Start a fake OpenAI server following a script; yields a function returning (base_url, script)."""
    servers = []

    def start(**behaviour) -> tuple[str, ServerScript]:
        script = ServerScript(**behaviour)
        handler = type("Handler", (FakeOpenAIHandler,), {"script": script})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/v1", script

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def openai_generator(base_url: str, **options):
    return make_generator("openai", "served-model", base_url=base_url, backoff_s=0.01, **options)


def test_chat_and_completion_requests_reach_their_endpoints(serve, monkeypatch):
    base_url, script = serve()
    monkeypatch.setenv("LEDEX_TEST_API_KEY", "sekrit")
    generator = openai_generator(base_url, api_key_env="LEDEX_TEST_API_KEY")
    requests = [
        GenerationRequest(messages=[{"role": "user", "content": "fix it"}]),
        GenerationRequest(prompt="def f():"),
    ]
    params = SamplingParams(n=2, temperature=0.8, max_new_tokens=32, stop=(" STOP",), seed=5)
    texts = generator.generate(requests, params)
    assert texts == [["fix it seed=5", "fix it seed=6"], ["def f(): seed=5", "def f(): seed=6"]]
    by_path = {seen["path"]: seen for seen in script.seen}
    assert set(by_path) == {"/v1/chat/completions", "/v1/completions"}
    chat = by_path["/v1/chat/completions"]
    assert chat["model"] == "served-model" and chat["auth"] == "Bearer sekrit"
    sent = (chat["n"], chat["temperature"], chat["max_tokens"], chat["stop"], chat["seed"])
    assert sent == (params.n, params.temperature, params.max_new_tokens, list(params.stop), params.seed)


def test_servers_that_ignore_n_are_asked_for_the_rest(serve):
    base_url, script = serve(max_choices=1)
    texts = openai_generator(base_url).generate([GenerationRequest(prompt="p")], SamplingParams(n=3, stop=(" STOP",)))
    assert texts == [["p seed=0", "p seed=1", "p seed=2"]]
    assert [seen["n"] for seen in script.seen] == [3, 2, 1]


@pytest.mark.parametrize("failures", [["503", "503", "429"], ["drop"], ["slow"]])
def test_transient_failures_are_retried(serve, failures):
    base_url, script = serve(failures=list(failures))
    generator = openai_generator(base_url, max_retries=3, timeout_s=0.5)
    assert generator.generate([GenerationRequest(prompt="p")], SamplingParams(stop=(" STOP",))) == [["p seed=0"]]
    assert len(script.seen) == len(failures) + 1


def test_persistent_failure_raises_after_the_last_retry(serve):
    base_url, script = serve(failures=["503"] * 10)
    with pytest.raises(httpx.HTTPStatusError):
        openai_generator(base_url, max_retries=2).generate([GenerationRequest(prompt="p")], SamplingParams())
    assert len(script.seen) == 3


def test_requests_run_concurrently_up_to_the_bound(serve):
    base_url, script = serve(delay_s=0.1)
    generator = openai_generator(base_url, max_concurrency=3)
    texts = generator.generate([GenerationRequest(prompt=f"p{i}") for i in range(9)], SamplingParams(stop=(" STOP",)))
    assert texts == [[f"p{i} seed=0"] for i in range(9)]
    assert script.max_in_flight == 3
