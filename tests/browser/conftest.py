"""Browser tests: the real app on a loopback port, driven by Debian's Chromium via Playwright.

The server runs the `app` fixture from tests/conftest.py (SQLite file or PostgreSQL per
VP_TEST_DATABASE_URL) in a background thread. Set up and check data in short
`with app.app_context():` blocks (or the make_* fixtures): an open transaction in the
test thread would hold SQLite's lock while the browser waits on the server.

On a failing test, a screenshot and the page's HTML land in test-artifacts/.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without the background-networking switches Chromium keeps calling out, and this
# machine's closed network refuses every call.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a 2-core machine running both the server and the browser.
TIMEOUT_MS = 15_000


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    reason = f"没有 {CHROMIUM}：请运行 bash scripts/test.sh，或 apt-get install chromium fonts-noto-cjk"
    if os.environ.get("CI") == "true":
        pytest.fail("CI 中浏览器测试不能跳过 — " + reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve the app on 127.0.0.1 at a free port; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def viewport() -> dict:
    """The browser window size; override in a test module for phone width (375 wide)."""
    return {"width": 1280, "height": 900}


@pytest.fixture
def page(request, browser, live_server, viewport):
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _save_artifacts(page, request.node.nodeid)
    context.close()


def scripts_ready(page, *names: str) -> None:
    """Wait until the page's own scripts (entry, store …) have set it up, as a person waits
    for a page to finish loading before typing: each script adds its name to
    ``<html data-ready>`` at the end of its set-up."""
    for name in names:
        page.wait_for_selector(f"html[data-ready~={name}]", state="attached")


@pytest.fixture
def keep_pages(request):
    """Register further tabs (other users' browsers); saved like `page` on failure, then their contexts closed."""
    pages: list = []
    yield pages.append
    report = getattr(request.node, "rep_call", None)
    for n, extra in enumerate(pages, start=1):
        if report is not None and report.failed:
            _save_artifacts(extra, f"{request.node.nodeid}-{n}")
        extra.context.close()


def _save_artifacts(page, nodeid: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        (ARTIFACTS / f"{stem}.html").write_text(page.content(), encoding="utf-8")
    except Exception as exc:  # a crashed page must not hide the test's own failure
        (ARTIFACTS / f"{stem}.txt").write_text(f"无法保存页面：{exc}\n", encoding="utf-8")


@pytest.fixture
def login(page):
    """Log in through the login form; lands on the page after login."""

    def do(username: str, password: str) -> None:
        page.goto("/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        if page.url.endswith("/login"):
            raise AssertionError(f"{username} 登录失败")

    return do
