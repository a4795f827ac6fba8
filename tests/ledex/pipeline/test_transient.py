"""A stage that loses its generation endpoint exits with TRANSIENT_EXIT; other errors stay errors."""

import os
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from threading import Thread

import httpx
import pytest

from ledex.pipeline.transient import TRANSIENT_EXIT, exit_on_transient_error


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_error_url():
    """A real HTTP server on loopback that answers every request with 503."""

    class Unavailable(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(503)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Unavailable)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_a_refused_connection_exits_with_the_transient_code(closed_port, capsys):
    with pytest.raises(SystemExit) as exit_info, exit_on_transient_error():
        httpx.get(f"http://127.0.0.1:{closed_port}/v1/completions")
    assert exit_info.value.code == TRANSIENT_EXIT
    assert "ConnectError" in capsys.readouterr().err  # the cause stays in the stage's log


def test_a_retryable_status_is_transient_and_a_client_error_is_not(server_error_url):
    with pytest.raises(SystemExit) as exit_info, exit_on_transient_error():
        httpx.get(server_error_url).raise_for_status()
    assert exit_info.value.code == TRANSIENT_EXIT

    request = httpx.Request("GET", server_error_url)
    not_found = httpx.HTTPStatusError("404", request=request, response=httpx.Response(404, request=request))
    with pytest.raises(httpx.HTTPStatusError), exit_on_transient_error():
        raise not_found


def test_a_deterministic_error_passes_through():
    with pytest.raises(ValueError, match="bad row"), exit_on_transient_error():
        raise ValueError("bad row")


@pytest.mark.slow
def test_a_stage_run_that_loses_its_endpoint_exits_75_and_its_mlflow_run_failed(tmp_path, closed_port):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    stage = (
        "import httpx\n"
        "from ledex.pipeline.tracking import stage_run\n"
        f"with stage_run('sample', {{}}, {uri!r}):\n"
        f"    httpx.post('http://127.0.0.1:{closed_port}/v1/chat/completions')\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("LEDEX_PARENT_RUN_ID", "MLFLOW_TRACKING_URI")}
    process = subprocess.run([sys.executable, "-c", stage], capture_output=True, text=True, env=env)
    assert process.returncode == TRANSIENT_EXIT, process.stderr

    import mlflow

    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("ledex").experiment_id])
    assert (run.info.run_name, run.info.status) == ("sample", "FAILED")
