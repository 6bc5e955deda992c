"""Backup and restore: a round trip brings back every row of every table."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from villagepoints import backup as backups
from villagepoints import demo_data
from villagepoints.extensions import db
from villagepoints.models import Entry, Household, Village

from conftest import PASSWORD


@pytest.fixture
def pg_tools(database_url: str) -> None:
    """Skip on PostgreSQL when pg_dump/pg_restore are missing, except in CI."""
    if not database_url.startswith("postgresql"):
        return
    bindir = os.environ.get("VP_PG_BINDIR", "").strip() or None
    missing = [t for t in ("pg_dump", "pg_restore") if shutil.which(t, path=bindir) is None]
    if missing:
        reason = f"没有 {'、'.join(missing)}：PostgreSQL 上的备份测试需要 postgresql-client"
        if os.environ.get("CI") == "true":
            pytest.fail("CI 中不能跳过 — " + reason)
        pytest.skip(reason)


def _contents() -> dict[str, list[tuple]]:
    """Every row of every table, alembic_version included, in primary-key order."""
    tables = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        tables[table.name] = [tuple(r) for r in db.session.execute(table.select().order_by(*order)).all()]
    tables["alembic_version"] = [tuple(r) for r in db.session.execute(text("SELECT version_num FROM alembic_version"))]
    return tables


def _load_demo(app) -> dict[str, list[tuple]]:
    with app.app_context():
        demo_data.load_demo(None, PASSWORD, households_count=25)
        db.session.commit()
        contents = _contents()
        db.session.rollback()
    return contents


def _spoil(app) -> None:
    """Change, delete and add data, as a bad import or a mistake would."""
    with app.app_context():
        village = db.session.execute(db.select(Village)).scalar_one()
        village.name = "改错了的村名"
        db.session.execute(db.delete(Entry).where(Entry.id.in_(
            db.select(Entry.id).order_by(Entry.id.desc()).limit(5).scalar_subquery()
        )))
        first = db.session.execute(db.select(Household).order_by(Household.id)).scalars().first()
        first.head_name = "被改掉的户主"
        db.session.commit()


def _reconnect_clean(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_restore_brings_back_every_row_of_every_table(app, tmp_path: Path, pg_tools):
    before = _load_demo(app)
    assert len(before["households"]) == 25 and before["entries"] and before["publications"]
    assert before["redemptions"] and before["store_items"]
    assert before["household_cards"] and any("applied" in row for row in before["entries"])
    out = tmp_path / "vp.backup"

    with app.app_context():
        # Taken while the app's engine holds open connections: the backup is online.
        db.session.execute(db.select(Village.id)).all()
        info = backups.backup(db.engine.url, out)
        db.session.rollback()
    assert info.size > 0 and out.is_file()

    _spoil(app)
    with app.app_context():
        assert _contents() != before
    _reconnect_clean(app)

    with app.app_context():
        backups.restore(db.engine.url, out)
        assert _contents() == before


def test_restored_database_accepts_new_records_after_the_restored_ones(app, tmp_path: Path, pg_tools, make_village):
    _load_demo(app)
    out = tmp_path / "vp.backup"
    with app.app_context():
        backups.backup(db.engine.url, out)
    _reconnect_clean(app)
    with app.app_context():
        backups.restore(db.engine.url, out)
    # Sequences (PostgreSQL) and rowids (SQLite) come back too: new rows get fresh ids.
    make_village("新村", "xincun")
    with app.app_context():
        assert {v.slug for v in db.session.execute(db.select(Village)).scalars()} == {"demo", "xincun"}


def test_cli_backup_and_restore_round_trip(app, runner, tmp_path: Path, pg_tools):
    before = _load_demo(app)
    out = tmp_path / "nightly.backup"

    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"已备份到 {out}" in result.output

    _spoil(app)
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert "已从" in result.output and "恢复" in result.output
    with app.app_context():
        assert _contents() == before


def test_restore_refuses_without_yes_when_not_on_a_terminal(app, runner, tmp_path: Path, pg_tools):
    _load_demo(app)
    out = tmp_path / "vp.backup"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    _spoil(app)

    result = runner.invoke(args=["restore", str(out)])

    assert result.exit_code != 0
    assert "请加 --yes" in result.output
    with app.app_context():
        assert db.session.execute(db.select(Village.name)).scalar_one() == "改错了的村名"


def test_restore_on_a_terminal_asks_and_does_nothing_when_declined(app, runner, tmp_path: Path, pg_tools, monkeypatch):
    _load_demo(app)
    out = tmp_path / "vp.backup"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    _spoil(app)
    monkeypatch.setattr("villagepoints.cli.backup._stdin_is_terminal", lambda: True)

    result = runner.invoke(args=["restore", str(out)], input="n\n")

    assert "确定恢复吗" in result.output
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.execute(db.select(Village.name)).scalar_one() == "改错了的村名"


def test_restore_says_when_the_backup_file_is_missing(runner, tmp_path: Path):
    result = runner.invoke(args=["restore", str(tmp_path / "nope.backup"), "--yes"])

    assert result.exit_code != 0
    assert "找不到备份文件" in result.output


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path: Path):
    junk = tmp_path / "notes.backup"
    junk.write_text("这不是备份", encoding="utf-8")

    result = runner.invoke(args=["restore", str(junk), "--yes"])

    assert result.exit_code != 0
    assert "不是积分系统的备份文件" in result.output


def test_restore_refuses_a_backup_from_the_other_kind_of_database(runner, database_url: str, tmp_path: Path):
    other = tmp_path / "other.backup"
    # The first bytes are what tells the two formats apart.
    other.write_bytes(b"PGDMP\x01\x0e\x00" if database_url.startswith("sqlite") else b"SQLite format 3\x00" + b"\x00" * 84)

    result = runner.invoke(args=["restore", str(other), "--yes"])

    assert result.exit_code != 0
    assert "不能直接恢复" in result.output


def test_restore_refuses_a_sqlite_file_of_another_program(runner, database_url: str, tmp_path: Path):
    if not database_url.startswith("sqlite"):
        pytest.skip("只在 SQLite 上有意义")
    import sqlite3

    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()

    result = runner.invoke(args=["restore", str(foreign), "--yes"])

    assert result.exit_code != 0
    assert "不是本系统的备份" in result.output


def test_backup_says_when_the_target_folder_does_not_exist(runner, tmp_path: Path):
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "missing" / "vp.backup")])

    assert result.exit_code != 0
    assert "备份目录" in result.output and "不存在" in result.output


def test_postgresql_backup_says_when_pg_dump_is_missing(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("VP_PG_BINDIR", str(tmp_path))  # an empty folder: no pg_dump in it

    with pytest.raises(backups.BackupError, match="找不到 pg_dump"):
        backups.backup("postgresql+psycopg://vp:secret@127.0.0.1:5/vp", tmp_path / "vp.backup")
    assert not (tmp_path / "vp.backup").exists()


def test_postgresql_password_goes_through_the_environment_not_the_command_line(tmp_path: Path, monkeypatch):
    seen = {}

    def fake_run(args, env, **_kwargs):
        seen["args"], seen["env"] = args, env
        Path(args[args.index("--file") + 1]).write_bytes(b"PGDMP")

        class Done:
            returncode, stdout, stderr = 0, "", ""
        return Done()

    monkeypatch.setattr(backups.subprocess, "run", fake_run)
    monkeypatch.setattr(backups, "_pg_tool", lambda name: f"/usr/bin/{name}")
    backups.backup("postgresql+psycopg://vp:s3cret;rm -rf@db.example:6543/points?sslmode=require", tmp_path / "b")

    assert not any("s3cret" in a for a in seen["args"])
    env = seen["env"]
    assert (env["PGPASSWORD"], env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "s3cret;rm -rf", "db.example", "6543", "vp", "points", "require")
