"""Print how fast the household import and the register page are (a report, not a test).

    .venv/bin/python scripts/bench.py
    .venv/bin/python scripts/bench.py --database-url postgresql+psycopg://vp@127.0.0.1:5433/bench

Goals on the 2-core reference machine: importing 10,000 households from .xlsx under 3 s;
the register page of a 2,000-household village under 100 ms.

Without --database-url it uses a fresh SQLite file in a temporary folder. A database
given with --database-url is wiped: its schema is dropped and rebuilt, so point it at a
throwaway one (e.g. from `bash scripts/pg_test_server.sh start DIR`).
"""
from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from villagepoints import accounts, create_app, demo_data, household_import, villages
from villagepoints.extensions import db

IMPORT_GOAL_S = 3.0
IMPORT_GOAL_HOUSEHOLDS = 10_000
PAGE_GOAL_MS = 100.0
PAGE_GOAL_HOUSEHOLDS = 2_000
IMPORT_GROUPS = tuple(f"{n}组" for n in "一二三四五六七八九十") + tuple(f"十{n}组" for n in "一二三四五六七八九")


def main() -> int:
    """Run the benchmarks and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="database to use (wiped!); default: a fresh SQLite file")
    parser.add_argument("--households", type=int, default=IMPORT_GOAL_HOUSEHOLDS, help="rows in the imported .xlsx")
    parser.add_argument(
        "--register-households", type=int, default=PAGE_GOAL_HOUSEHOLDS, help="households in the register village"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (median is shown)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="villagepoints-bench-") as tmp:
        tmp_path = Path(tmp)
        url = args.database_url or f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(16),
            "WTF_CSRF_ENABLED": False,
        })
        app.instance_path = str(tmp_path / "instance")
        # A failing page shows as its HTTP status in the table; its traceback would bury the figures.
        app.logger.disabled = True
        Path(app.instance_path).mkdir()
        backend = url.split(":", 1)[0]
        print(f"数据库：{backend}{'（临时文件）' if not args.database_url else ''}")
        with app.app_context():
            _fresh_schema()
        results = []
        with app.app_context():
            results += bench_import(tmp_path, args.households)
        with app.app_context():
            results += bench_register(app, args.register_households, args.runs)
        with app.app_context():
            db.engine.dispose()
    _print_table(results)
    return 0


def _fresh_schema() -> None:
    from flask_migrate import downgrade, upgrade

    # Alembic's logging config announces every step; the figures are what matter here.
    logging.disable(logging.INFO)
    downgrade(revision="base")
    upgrade()
    logging.disable(logging.NOTSET)


def build_sheet(path: Path, count: int) -> None:
    """Write a household list as villages send them: one header row, codes as text."""
    labels = household_import.LABELS
    columns = ["code", "head_name", "id_number", "group", "members", "phone", "categories", "address", "joined_on"]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("农户")
    ws.append([labels[c] for c in columns])
    for i, row in enumerate(demo_data.household_rows(count, IMPORT_GROUPS), start=1):
        values = {**row, "code": f"{i:05d}", "categories": "、".join(row["categories"])}
        ws.append([values[c] for c in columns])
    wb.save(path)


def bench_import(tmp: Path, count: int) -> list[tuple[str, str, str]]:
    """Time reading, checking and writing a .xlsx of `count` households into an empty village."""
    path = tmp / f"households-{count}.xlsx"
    started = time.perf_counter()
    build_sheet(path, count)
    built = time.perf_counter() - started

    village = villages.create_village(None, "导入测速村", "bench-import", list(IMPORT_GROUPS))
    db.session.commit()

    started = time.perf_counter()
    plan = household_import.plan_import(village, str(path), path.name)
    planned = time.perf_counter()
    if plan.problems:
        raise SystemExit(f"测速文件有问题（不应发生）：{plan.problems[0].line()}")
    result = household_import.apply_import(None, village, plan)
    db.session.commit()
    done = time.perf_counter()
    if result.added != count:
        raise SystemExit(f"只导入了 {result.added} 户，应为 {count} 户")

    total = done - started
    size_mb = path.stat().st_size / 1024 / 1024
    return [
        (f"生成 {count:,} 户的 .xlsx（{size_mb:.1f} MB，不计入目标）", f"{built:.2f} s", ""),
        ("导入·读取并检查每一行（plan_import）", f"{planned - started:.2f} s", ""),
        ("导入·写入并提交（apply_import + commit）", f"{done - planned:.2f} s", ""),
        (
            f"导入 {count:,} 户合计",
            f"{total:.2f} s",
            _verdict(total, IMPORT_GOAL_S, "s", count == IMPORT_GOAL_HOUSEHOLDS),
        ),
    ]


def bench_register(app, count: int, runs: int) -> list[tuple[str, str, str]]:
    """Time GETs of the register page of a `count`-household village, as a clerk sees it."""
    password = secrets.token_urlsafe(12)
    loaded = demo_data.load_demo(None, password, households_count=count, slug="bench-register", name="台账测速村")
    accounts.create_user(None, "bench-admin", password, "admin")
    db.session.commit()
    slug = loaded.village.slug
    base = f"/v/{slug}/households"
    pages = [
        ("clerk", "台账首页", base),
        ("clerk", "台账搜索姓名“王”", f"{base}?q=王"),
        ("clerk", "台账按小组+户类别筛选", f"{base}?group={loaded.village.groups[1].id}&category=党员户"),
        ("clerk", "台账最后一页", f"{base}?page={-(-count // app.config['PER_PAGE'])}"),
        ("admin", "台账首页（管理员，不打码）", base),
    ]
    clients = {
        "clerk": _logged_in(app, f"{slug}-clerk", password),
        "admin": _logged_in(app, "bench-admin", password),
    }
    rows = []
    for who, label, url in pages:
        client = clients[who]
        response = client.get(url)
        if response.status_code != 200:
            rows.append((f"{label}（{count:,} 户）GET {url}", f"HTTP {response.status_code}", "页面出错，未计时"))
            continue
        for _ in range(2):  # warm the template cache and the database's
            client.get(url)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        rows.append((
            f"{label}（{count:,} 户，{runs} 次中位数）",
            f"{median:.1f} ms",
            _verdict(median, PAGE_GOAL_MS, "ms", count == PAGE_GOAL_HOUSEHOLDS),
        ))
    return rows


def _logged_in(app, username: str, password: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"{username} 登录失败（HTTP {response.status_code}）")
    return client


def _verdict(value: float, goal: float, unit: str, comparable: bool) -> str:
    if not comparable:
        return "（规模与目标不同，不作比较）"
    return f"目标 < {goal:g} {unit}：{'达标' if value < goal else '未达标'}"


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    width = max(_display_width(r[0]) for r in rows)
    print()
    for label, value, verdict in rows:
        pad = " " * (width - _display_width(label))
        print(f"{label}{pad}  {value:>10}  {verdict}")


def _display_width(text: str) -> int:
    """Count CJK characters as two columns, as a terminal shows them."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


if __name__ == "__main__":
    sys.exit(main())
