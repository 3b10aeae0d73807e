"""The server's own access log (`dropwire serve`, read from its real stdout) holds no token,
hash or secret a client put in a query string."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _dropwire(*args: str, env: dict[str, str], **options: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dropwire.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **options,  # type: ignore[call-overload]
    )


def test_access_log_masks_tokens_hashes_and_secrets(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DROPWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'dropwire.db'}",
        "DROPWIRE_PORT": str(port),
        "DROPWIRE_LOG_LEVEL": "INFO",
        "DROPWIRE_ACCESS_LOG": "true",  # off by default
        "DROPWIRE_WORKER_IN_PROCESS": "false",
        "DROPWIRE_SECRET_KEY": "k" * 44,
    }
    env.pop("DROPWIRE_ADMIN_TOKEN", None)
    migrate = _dropwire("migrate", env=env)
    assert migrate.wait(timeout=120) == 0
    created = _dropwire("token", "create", "--name", "probe", env=env)
    out, _ = created.communicate(timeout=120)
    token = next(word for word in out.split() if word.startswith("dw_"))

    server = _dropwire("serve", "--no-worker", env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180  # a loaded machine starts the processes slowly
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.2)
        listed = httpx.get(f"{base}/api/variants.json", params={"access_token": token, "limit": 5})
        assert listed.status_code == 200  # the token works: it is what would leak
        httpx.post(
            f"{base}/webhooks/inventory-feeds/parse-webhooks.json",
            params={"hash": "feedHashValue123", "apiKey": "apiKeyValue456"},
            json=[],
        )
        httpx.get(f"{base}/api/variants.json", params={"q": "x", "signature": "sigValue789"})
    finally:
        server.send_signal(signal.SIGINT)
        log, _ = server.communicate(timeout=60)

    assert "GET /api/variants.json?access_token=" in log  # the request is logged
    assert "limit=5" in log  # harmless parameters stay readable
    for secret in (token, token[3:], "feedHashValue123", "apiKeyValue456", "sigValue789"):
        assert secret not in log
