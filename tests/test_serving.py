"""The production command (scripts/serve.sh's gunicorn line) really serves the app."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


@pytest.fixture
def gunicorn(database_url: str, make_village):
    """Start gunicorn with two workers on a free loopback port; yields (base URL, process)."""
    make_village("蒋坝村", "jiangba")  # before the server starts: no lock held meanwhile
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VILLAGEPOINTS_SECRET_KEY": "serving-test-secret",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [str(GUNICORN), "villagepoints:create_app()", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "-", "--error-logfile", "-",
         "--no-control-socket"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"gunicorn 启动失败：\n{out}\n{err}")
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn 60 秒内没有应答 /healthz")
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_gunicorn_serves_health_login_and_the_public_board_and_logs_requests(gunicorn):
    base, process = gunicorn

    status, body = _get(base + "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    status, body = _get(base + "/login")
    assert status == 200 and "登录" in body
    status, body = _get(base + "/board/jiangba")
    assert status == 200 and "蒋坝村" in body

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    # Access log on stdout, gunicorn's own log on stderr: both end up in journald.
    assert '"GET /board/jiangba HTTP/1.1" 200' in out
    assert '"GET /login HTTP/1.1" 200' in out
    assert "Booting worker" in err


def test_outside_debug_and_testing_the_app_log_goes_to_stdout(tmp_path: Path, capsys):
    from flask.logging import default_handler

    from villagepoints import create_app

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'vp.sqlite3'}"})
    ours = [h for h in app.logger.handlers if getattr(h, "_villagepoints", False)]
    try:
        app.logger.info("数据库已恢复")
        captured = capsys.readouterr()
        assert "INFO" in captured.out and "数据库已恢复" in captured.out
        assert "数据库已恢复" not in captured.err
    finally:
        # The logger outlives this app: give the other tests Flask's default back.
        for handler in ours:
            app.logger.removeHandler(handler)
        app.logger.addHandler(default_handler)
        app.logger.setLevel("NOTSET")
