"""Put clerks and storekeepers on gunicorn + PostgreSQL at once, then check nothing was lost or doubled.

    .venv/bin/python scripts/load.py                     # 20 clerks, 10 storekeepers, 60 s
    .venv/bin/python scripts/load.py --kill-worker       # SIGKILL one gunicorn worker at half time
    .venv/bin/python scripts/load.py --restart-postgres  # pg_ctl restart at half time

A report run by hand, like bench.py; not part of the test suite. It starts a throwaway
PostgreSQL (scripts/pg_test_server.sh) unless --database-url names one, which is wiped.
Everything listens on 127.0.0.1 only and every loop stops by itself. The exit code is 0
only when the checks hold: every acknowledged entry and redemption is in the database
exactly once, no household's balance is negative, no stock is below zero and every
item's stock is the sum of its movements.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import logging
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "load"
HOUSEHOLDS = 200
START_POINTS = 40
# Few items with little stock, so storekeepers run shelves empty and balances low while
# they race each other: the checks are only worth something where refusals happen.
ITEMS = (("洗衣粉", 3, 150), ("食用油", 8, 80), ("大米", 10, 60), ("香皂", 1, 400))
REQUEST_TIMEOUT_S = 30
RETRIES = 3
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIPT_RE = re.compile(r"/store/redemptions/(\d+)$")


@dataclass
class Tally:
    """What one kind of virtual user saw: latencies of answered requests and outcomes."""

    latencies: list[float] = field(default_factory=list)
    acked: int = 0
    refused: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One virtual user's cookies and CSRF token, talking to 127.0.0.1 only."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        self.csrf = ""

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """Return status, Location header and body; a 3xx is returned, not followed."""
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrf_token": self.csrf}).encode()
        req = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(req, timeout=REQUEST_TIMEOUT_S) as resp:
                return resp.status, resp.headers.get("Location", ""), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", ""), exc.read().decode("utf-8", "replace")

    def fetch_csrf(self, path: str) -> None:
        status, _, text = self.request(path)
        found = CSRF_RE.search(text)
        if status != 200 or not found:
            raise RuntimeError(f"GET {path}: HTTP {status}, no csrf_token")
        self.csrf = found.group(1)

    def login(self, username: str, password: str) -> None:
        self.fetch_csrf("/login")
        status, _, _ = self.request("/login", {"username": username, "password": password})
        if status != 302:
            raise RuntimeError(f"{username} 登录失败（HTTP {status}）")


def main() -> int:
    """Run the load, the fault if asked, then the checks; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clerks", type=int, default=20)
    parser.add_argument("--storekeepers", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL one gunicorn worker at half time")
    parser.add_argument("--restart-postgres", action="store_true", help="restart PostgreSQL at half time")
    parser.add_argument("--database-url", help="an existing PostgreSQL database to use (wiped!)")
    args = parser.parse_args()
    if args.restart_postgres and args.database_url:
        parser.error("--restart-postgres needs the throwaway server this script starts; leave out --database-url")

    with tempfile.TemporaryDirectory(prefix="villagepoints-load-") as tmp:
        tmp_path = Path(tmp)
        # Its own folder in /tmp: the server's user must reach it, and not the rest of tmp.
        pg_dir = Path(tempfile.mkdtemp(prefix="villagepoints-load-pg-"))
        url = args.database_url
        try:
            if not url:
                url = start_postgres(pg_dir)
            return run(args, url, tmp_path, pg_dir if not args.database_url else None)
        finally:
            if not args.database_url:
                subprocess.run(["bash", str(ROOT / "scripts/pg_test_server.sh"), "stop", str(pg_dir)], check=False)


def start_postgres(pg_dir: Path) -> str:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/pg_test_server.sh"), "start", str(pg_dir)], capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip() or "PostgreSQL 没有启动")
    return out.stdout.strip().splitlines()[-1]


def run(args, url: str, tmp: Path, pg_dir: Path | None) -> int:
    password = secrets.token_urlsafe(12)
    app = make_app(url)
    with app.app_context():
        seeded = seed(args, password)
        from villagepoints.extensions import db

        # A connection kept from seeding would be cut by --restart-postgres before the checks.
        db.engine.dispose()
    port = free_port()
    log = open(tmp / "gunicorn.log", "w")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "30", "--graceful-timeout", "10", "villagepoints:create_app()"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        print(f"gunicorn {args.workers} 个 worker（127.0.0.1:{port}），PostgreSQL；"
              f"{args.clerks} 名记分员、{args.storekeepers} 名超市管理员，{args.duration:g} 秒")
        outcome = load(args, base, seeded, password, server, pg_dir)
    finally:
        stop_server(server)
        log.close()
    report(args, outcome)
    with app.app_context():
        problems = check(seeded, outcome)
        from villagepoints.extensions import db

        db.engine.dispose()
    fault_lines = [line for line in (tmp / "gunicorn.log").read_text().splitlines()
                   if "Traceback" in line or "WORKER TIMEOUT" in line or "killed" in line.lower()
                   or "OperationalError" in line or "SIGKILL" in line]
    if fault_lines:
        print(f"gunicorn 日志里与故障有关的行（共 {len(fault_lines)} 行，前 5 行）：")
        for line in fault_lines[:5]:
            print("  " + line[:200])
    if problems:
        print("检查未通过：")
        for problem in problems:
            print("  ✗ " + problem)
        return 1
    print("检查通过：每条已确认的记分和兑换恰好一条，无负余额，无负库存，库存等于流水之和。")
    return 0


def make_app(url: str):
    from villagepoints import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
    app.logger.disabled = True
    return app


@dataclass
class Seeded:
    """Names and ids the virtual users need and the checks compare against."""

    village_id: int
    rule_id: int
    codes: list[str]
    items: list[int]
    clerks: list[str]
    keepers: list[str]


def seed(args, password: str) -> Seeded:
    """Rebuild the schema, then a village with points and a thin store, and the users."""
    from flask_migrate import downgrade, upgrade

    from villagepoints import accounts, demo_data, ledger, rules, store
    from villagepoints.extensions import db
    from villagepoints.models import Household

    # What `flask init-db` does, without writing a first admin's password into instance/.
    logging.disable(logging.INFO)
    downgrade(revision="base")
    upgrade()
    logging.disable(logging.NOTSET)
    loaded = demo_data.load_demo(None, password, households_count=HOUSEHOLDS, slug=SLUG, name="压测村", activity=False)
    village = loaded.village
    # No photos and no quarterly cap: every clerk's POST is one the ledger accepts.
    rule = rules.create_rule(None, village, rules.RuleFields("L01", "plus", "压测加分", 1, 1, 5))
    active = list(db.session.execute(
        db.select(Household).where(Household.village_id == village.id, Household.status == "active")
        .order_by(Household.code)
    ).scalars())
    today = dt.date.today()
    for household in active:
        for _ in range(START_POINTS // 5):
            ledger.make_entry(None, village, household, rule, today, 5, "压测起始积分", approve=True)
    items = []
    for name, price, stock in ITEMS:
        item = store.create_item(None, village, store.ItemFields(name, "件", price, "日用品"))
        store.stock_in(None, item, stock, supplier="供销社")
        items.append(item.id)
    clerks = [f"load-clerk-{n:02d}" for n in range(1, args.clerks + 1)]
    keepers = [f"load-keeper-{n:02d}" for n in range(1, args.storekeepers + 1)]
    for name in clerks:
        accounts.create_user(None, name, password, "clerk", [village])
    for name in keepers:
        accounts.create_user(None, name, password, "storekeeper", [village])
    db.session.commit()
    return Seeded(village.id, rule.id, [h.code for h in active], items, clerks, keepers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn 没有启动，见其日志")
        try:
            with urllib.request.urlopen(base + "/login", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn 60 秒内没有就绪")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Outcome:
    """Everything the virtual users saw, for the report and the checks."""

    duration: float = 0.0
    entries: Tally = field(default_factory=Tally)
    redemptions: Tally = field(default_factory=Tally)
    acked_notes: list[str] = field(default_factory=list)
    sent_notes: list[str] = field(default_factory=list)
    acked_tokens: dict[str, int] = field(default_factory=dict)
    sent_tokens: list[str] = field(default_factory=list)
    retried: int = 0
    fault: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


def load(args, base: str, seeded: Seeded, password: str, server: subprocess.Popen, pg_dir: Path | None) -> Outcome:
    outcome = Outcome()
    browsers = {}
    for name in seeded.clerks + seeded.keepers:
        browser = Browser(base)
        browser.login(name, password)
        browser.fetch_csrf(f"/v/{SLUG}/entries/new" if "clerk" in name else f"/v/{SLUG}/store/redeem")
        browsers[name] = browser
    started = time.monotonic()
    deadline = started + args.duration
    threads = [threading.Thread(target=clerk, args=(browsers[n], seeded, deadline, outcome, n)) for n in seeded.clerks]
    threads += [threading.Thread(target=keeper, args=(browsers[n], seeded, deadline, outcome, n))
                for n in seeded.keepers]
    if args.kill_worker or args.restart_postgres:
        threads.append(threading.Thread(target=fault, args=(args, server, pg_dir, started + args.duration / 2, outcome)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome.duration = time.monotonic() - started
    return outcome


def clerk(browser: Browser, seeded: Seeded, deadline: float, outcome: Outcome, name: str) -> None:
    """Post single entries until the deadline; an entry is acknowledged by the redirect back to the form."""
    rng = random.Random(name)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        note = f"{name}-{n}"
        form = {"household": rng.choice(seeded.codes), "rule": str(seeded.rule_id),
                "entry_date": dt.date.today().isoformat(), "points": str(rng.randint(1, 5)), "note": note}
        with outcome.lock:
            outcome.sent_notes.append(note)
        begun = time.perf_counter()
        try:
            status, location, _ = browser.request(f"/v/{SLUG}/entries/new", form)
        except OSError as exc:
            outcome.entries.error(type(exc).__name__)
            time.sleep(0.2)
            continue
        took = (time.perf_counter() - begun) * 1000
        with outcome.lock:
            outcome.entries.latencies.append(took)
            if status == 302 and "/entries/new" in location:
                outcome.entries.acked += 1
                outcome.acked_notes.append(note)
            elif status == 200:
                outcome.entries.refused += 1
            else:
                outcome.entries.error(f"HTTP {status}")


def keeper(browser: Browser, seeded: Seeded, deadline: float, outcome: Outcome, name: str) -> None:
    """Post redemptions until the deadline; a failed post is retried with the same token."""
    rng = random.Random(name)
    # A few households each, shared between storekeepers, so they contend for balances.
    while time.monotonic() < deadline:
        token = secrets.token_urlsafe(24)
        form = {"household": rng.choice(seeded.codes[:40]), "token": token, "action": "confirm"}
        for item_id in rng.sample(seeded.items, rng.randint(1, 2)):
            form[f"qty_{item_id}"] = str(rng.randint(1, 3))
        with outcome.lock:
            outcome.sent_tokens.append(token)
        for attempt in range(RETRIES + 1):
            if attempt:
                with outcome.lock:
                    outcome.retried += 1
                time.sleep(0.5)
            begun = time.perf_counter()
            try:
                status, location, _ = browser.request(f"/v/{SLUG}/store/redeem", form)
            except OSError as exc:
                outcome.redemptions.error(type(exc).__name__)
                continue
            took = (time.perf_counter() - begun) * 1000
            with outcome.lock:
                outcome.redemptions.latencies.append(took)
                found = RECEIPT_RE.search(urllib.parse.urlsplit(location).path) if status == 302 else None
                if found:
                    outcome.redemptions.acked += 1
                    outcome.acked_tokens[token] = int(found.group(1))
                elif status == 200:
                    outcome.redemptions.refused += 1
                else:
                    outcome.redemptions.error(f"HTTP {status}")
                    continue
            break


def fault(args, server: subprocess.Popen, pg_dir: Path | None, at: float, outcome: Outcome) -> None:
    time.sleep(max(0.0, at - time.monotonic()))
    if args.kill_worker:
        workers = children(server.pid)
        if workers:
            victim = random.choice(workers)
            os.kill(victim, signal.SIGKILL)
            outcome.fault = f"第 {args.duration / 2:g} 秒 SIGKILL 了 gunicorn worker {victim}"
        else:
            outcome.fault = "没找到 gunicorn worker，未能注入故障"
    if args.restart_postgres and pg_dir is not None:
        begun = time.monotonic()
        data = pg_dir / "data"
        command = [pg_ctl(), "-D", str(data), "-l", str(pg_dir / "server.log"), "-m", "fast", "-w", "-t", "60", "restart"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", data.owner(), "--"] + command
        done = subprocess.run(command, capture_output=True, text=True)
        took = time.monotonic() - begun
        state = "成功" if done.returncode == 0 else f"失败：{done.stderr.strip()[:200]}"
        outcome.fault = f"第 {args.duration / 2:g} 秒重启 PostgreSQL（pg_ctl restart -m fast，{took:.1f} 秒，{state}）"


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def pg_ctl() -> str:
    for candidate in ("/usr/lib/postgresql/15/bin/pg_ctl",):
        if Path(candidate).exists():
            return candidate
    return "pg_ctl"


def report(args, outcome: Outcome) -> None:
    if outcome.fault:
        print("故障：" + outcome.fault)
    print(f"实际时长 {outcome.duration:.1f} 秒")
    print(f"{'':8}{'请求/秒':>8}{'p50 ms':>9}{'p95 ms':>9}{'确认':>7}{'拒绝':>7}  错误")
    for label, tally in (("记分", outcome.entries), ("兑换", outcome.redemptions)):
        lat = sorted(tally.latencies)
        p50 = statistics.median(lat) if lat else 0.0
        p95 = statistics.quantiles(lat, n=20)[18] if len(lat) >= 20 else (lat[-1] if lat else 0.0)
        errors = "、".join(f"{k} ×{v}" for k, v in sorted(tally.errors.items())) or "无"
        rate = len(lat) / outcome.duration if outcome.duration else 0.0
        print(f"{label:　<4}{rate:>10.1f}{p50:>9.1f}{p95:>9.1f}{tally.acked:>9}{tally.refused:>9}  {errors}")
    if outcome.retried:
        print(f"兑换出错后用同一令牌重试 {outcome.retried} 次")


def check(seeded: Seeded, outcome: Outcome) -> list[str]:
    """Compare what was acknowledged with what the database holds; return what is wrong."""
    from villagepoints import ledger, store
    from villagepoints.extensions import db
    from villagepoints.models import Entry, Household, Item, Redemption

    problems = []
    counts = dict(db.session.execute(
        db.select(Entry.note, db.func.count(Entry.id))
        .where(Entry.village_id == seeded.village_id, Entry.note.like("load-clerk-%")).group_by(Entry.note)
    ).all())
    doubled = [n for n, c in counts.items() if c > 1]
    missing = [n for n in outcome.acked_notes if counts.get(n, 0) != 1]
    if doubled:
        problems.append(f"{len(doubled)} 条记分重复入库，例如 {doubled[:3]}")
    if missing:
        problems.append(f"{len(missing)} 条已确认的记分不在库里，例如 {missing[:3]}")
    unacked = len(set(counts) - set(outcome.acked_notes))
    print(f"记分：已确认 {len(outcome.acked_notes)} 条，库里 {sum(counts.values())} 条"
          f"（其中未收到确认却已入库 {unacked} 条：请求中途断开，允许）")

    made = db.session.execute(
        db.select(Redemption.token, Redemption.id).where(Redemption.village_id == seeded.village_id)
    ).all()
    by_token: dict[str, list[int]] = {}
    for token, rid in made:
        by_token.setdefault(token, []).append(rid)
    for token, rid in outcome.acked_tokens.items():
        if by_token.get(token) != [rid]:
            problems.append(f"已确认的兑换（令牌 {token[:8]}…，兑换单 id {rid}）在库里是 {by_token.get(token)}")
    if any(len(ids) > 1 for ids in by_token.values()):
        problems.append("同一令牌兑换了不止一次")
    unacked = len(set(by_token) - set(outcome.acked_tokens))
    print(f"兑换：已确认 {len(outcome.acked_tokens)} 笔，库里 {len(made)} 笔"
          f"（其中未收到确认却已入库 {unacked} 笔）")

    ids = db.session.execute(db.select(Household.id).where(Household.village_id == seeded.village_id)).scalars()
    negative = [(hid, b) for hid in ids if (b := ledger.balance(hid)) < 0]
    if negative:
        problems.append(f"{len(negative)} 户余额为负，例如 {negative[:3]}")
    low = min((r.balance_after for r in db.session.execute(
        db.select(Redemption).where(Redemption.village_id == seeded.village_id)).scalars()), default=0)
    if low < 0:
        problems.append(f"有兑换单记下的余额为负（{low}）")
    stock_line = []
    for item in db.session.execute(db.select(Item).where(Item.village_id == seeded.village_id)).scalars():
        moved = store.movement_sum(item)
        stock_line.append(f"{item.name} {item.stock}")
        if item.stock < 0:
            problems.append(f"“{item.name}”库存为负：{item.stock}")
        if item.stock != moved:
            problems.append(f"“{item.name}”库存 {item.stock} 不等于流水之和 {moved}")
    print("剩余库存：" + "，".join(stock_line))
    db.session.rollback()
    return problems


if __name__ == "__main__":
    sys.exit(main())
