"""Enrolment against a tiny HTTP server on loopback that answers as Portico would."""

from __future__ import annotations

import http.server
import json
import ssl
import stat
import threading

import pytest

from portico_agent import __version__, cli, inventory
from portico_agent.endpoint import InsecureServerError
from portico_agent.enrol import EnrolmentFailed, EnrolmentRefused, enrol
from portico_agent.state import load

CREDENTIAL = "fresh-credential-9f8e7d"


class FakePortico:
    """Answers POST /agent/v1/enrol with `status` and `body`, and keeps what it was sent."""

    def __init__(self, status: int, body: dict, tls: ssl.SSLContext | None = None) -> None:
        self.status, self.body, self.requests = status, body, []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                fake.requests.append((self.path, dict(self.headers), json.loads(self.rfile.read(length))))
                payload = json.dumps(fake.body).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_201_saves_the_state_privately(tmp_path):
    state_path = tmp_path / "agent" / "state.json"
    with FakePortico(201, {"device_id": 42, "credential": CREDENTIAL, "heartbeat_seconds": 30}) as portico:
        enrolled = enrol(portico.url + "/", "enrol-token-1", state_path)

    path, headers, body = portico.requests[0]
    assert path == "/agent/v1/enrol"
    assert headers["Content-Type"] == "application/json"
    assert body == {
        "token": "enrol-token-1",
        "hostname": inventory.hostname(),
        "os_family": inventory.os_family(),
        "os_version": inventory.os_version(),
        "agent_version": __version__,
    }
    assert enrolled.device_id == 42
    assert load(state_path) == enrolled
    assert enrolled.server == portico.url
    assert stat.S_IMODE(state_path.stat().st_mode) == 0o600


def test_400_raises_the_field_errors_and_saves_nothing(tmp_path):
    state_path = tmp_path / "state.json"
    with FakePortico(400, {"token": ["This enrolment token is invalid or has expired."]}) as portico:
        with pytest.raises(EnrolmentRefused) as refused:
            enrol(portico.url, "wrong", state_path)
    assert refused.value.errors == {"token": ["This enrolment token is invalid or has expired."]}
    assert not state_path.exists()


def test_cli_400_prints_the_field_errors_and_exits_2(tmp_path, capsys):
    state_path = tmp_path / "state.json"
    with FakePortico(400, {"token": ["This enrolment token is invalid or has expired."]}) as portico:
        code = cli.main(["enrol", "--server", portico.url, "--token", "wrong", "--state", str(state_path)])
    assert code == 2
    assert "token: This enrolment token is invalid or has expired." in capsys.readouterr().err
    assert not state_path.exists()


def test_cli_201_reports_the_device_but_never_the_credential(tmp_path, capsys):
    state_path = tmp_path / "state.json"
    with FakePortico(201, {"device_id": 7, "credential": CREDENTIAL, "heartbeat_seconds": 30}) as portico:
        code = cli.main(["enrol", "--server", portico.url, "--token", "t", "--state", str(state_path)])
    out = capsys.readouterr()
    assert code == 0
    assert "device 7" in out.out
    assert CREDENTIAL not in out.out + out.err
    assert load(state_path).credential == CREDENTIAL


def test_other_answers_fail_without_saving(tmp_path):
    state_path = tmp_path / "state.json"
    with FakePortico(500, {"detail": "boom"}) as portico:
        with pytest.raises(EnrolmentFailed, match="HTTP 500"):
            enrol(portico.url, "t", state_path)
    assert not state_path.exists()


def test_plain_http_to_a_remote_server_is_refused_before_any_request(tmp_path, capsys):
    with pytest.raises(InsecureServerError, match="refusing plain http://"):
        enrol("http://portico.example.com", "t", tmp_path / "state.json")
    code = cli.main(["enrol", "--server", "http://192.0.2.7", "--token", "t", "--state", str(tmp_path / "s.json")])
    assert code == 1
    assert "refusing plain http:// for 192.0.2.7" in capsys.readouterr().err


def test_https_with_the_pinned_ca_enrols_and_keeps_the_ca_path(tmp_path, tls_files, monkeypatch):
    monkeypatch.chdir(tls_files.ca_file.parent)
    state_path = tmp_path / "state.json"
    with FakePortico(201, {"device_id": 3, "credential": CREDENTIAL}, tls=tls_files.server_context()) as portico:
        enrol(portico.url, "t", state_path, ca_file="ca.pem")
    # Stored absolute: the service does not run in the directory enrolment ran in.
    assert load(state_path).ca_file == str(tls_files.ca_file)


def test_https_without_the_ca_fails_verification(tmp_path, tls_files):
    with FakePortico(201, {"device_id": 3, "credential": CREDENTIAL}, tls=tls_files.server_context()) as portico:
        with pytest.raises(EnrolmentFailed, match="CERTIFICATE_VERIFY_FAILED"):
            enrol(portico.url, "t", tmp_path / "state.json")
