"""Backup and restore of the whole database: SQLite's online backup, or pg_dump/pg_restore.

A SQLite backup is itself a SQLite file; a PostgreSQL backup is pg_dump's custom format.
Either one holds every table, alembic_version included, so a restore brings back the
schema revision of the day it was taken (run `init-db` afterwards to upgrade it).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# Every villagepoints database has this table; a file without it is someone else's database.
MARKER_TABLE = "alembic_version"
# libpq reads these from the environment; URL query keys are passed on under these names.
_LIBPQ_QUERY_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message says why in Chinese."""


@dataclass
class BackupInfo:
    """What a backup file is: its format and its size in bytes."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    size: int


def backup(engine_url: str | URL, out_path: str | Path) -> BackupInfo:
    """Write a consistent copy of the database to out_path while the app keeps running."""
    url = make_url(engine_url)
    out = Path(out_path)
    if not out.parent.is_dir():
        raise BackupError(f"备份目录“{out.parent}”不存在，请先创建。")
    if out.is_dir():
        raise BackupError(f"“{out}”是一个目录，请给出备份文件的路径。")
    # Written beside the target and renamed at the end, so a failed run never leaves a
    # half-written file under the name a restore would later trust.
    partial = out.with_name(out.name + ".part")
    try:
        kind = _dialect(url)
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(url), out, partial)
        else:
            _pg_dump(url, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(path=out, kind=kind, size=out.stat().st_size)


def restore(engine_url: str | URL, in_path: str | Path) -> BackupInfo:
    """Replace everything in the database with the contents of a backup file.

    Close the app's own connections first (``db.engine.dispose()``): a SQLite connection
    in the middle of a transaction, or a PostgreSQL session holding a table, blocks it.
    """
    url = make_url(engine_url)
    info = inspect_backup(url, in_path)
    if info.kind == "sqlite":
        _sqlite_restore(info.path, _sqlite_path(url, must_exist=False))
    else:
        _pg_restore(url, info.path)
    return info


def inspect_backup(engine_url: str | URL, in_path: str | Path) -> BackupInfo:
    """Check that in_path is a villagepoints backup this database can be restored from."""
    url = make_url(engine_url)
    path = Path(in_path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件“{path}”。")
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    found = "sqlite" if head.startswith(SQLITE_MAGIC) else "postgresql" if head.startswith(PGDUMP_MAGIC) else None
    if found is None:
        raise BackupError(f"“{path.name}”不是积分系统的备份文件（既不是 SQLite 备份，也不是 pg_dump 备份）。")
    wanted = _dialect(url)
    if found != wanted:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(
            f"“{path.name}”是 {names[found]} 数据库的备份，当前数据库是 {names[wanted]}，不能直接恢复。"
        )
    has_marker = _sqlite_has_marker(path) if found == "sqlite" else _pg_dump_has_marker(path)
    if not has_marker:
        raise BackupError(f"“{path.name}”里没有积分系统的数据表（{MARKER_TABLE}），不是本系统的备份。")
    return BackupInfo(path=path, kind=found, size=path.stat().st_size)


def _dialect(url: URL) -> str:
    name = url.get_backend_name()
    if name in ("sqlite", "postgresql"):
        return name
    raise BackupError(f"不支持备份 {name} 数据库，只支持 SQLite 和 PostgreSQL。")


# --- SQLite -------------------------------------------------------------------------


def _sqlite_path(url: URL, must_exist: bool = True) -> Path:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise BackupError("内存中的 SQLite 数据库不能备份或恢复，请使用数据库文件。")
    path = Path(database)
    if must_exist and not path.is_file():
        raise BackupError(f"数据库文件“{path}”不存在，没有可备份的数据。")
    if not must_exist and not path.parent.is_dir():
        raise BackupError(f"数据库目录“{path.parent}”不存在。")
    return path


def _sqlite_backup(db_path: Path, out: Path, partial: Path) -> None:
    if out.resolve() == db_path.resolve():
        raise BackupError("备份文件不能是数据库文件本身，请换一个路径。")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(db_path, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            # The online backup API copies a consistent snapshot (the WAL included) while
            # other connections keep reading and writing; a file copy would not.
            source.backup(target)
            # One self-contained file: no -wal/-shm companions to lose beside the backup.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 备份失败：{exc}") from exc
    finally:
        source.close()


def _sqlite_restore(backup_path: Path, db_path: Path) -> None:
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(db_path, timeout=30)
        try:
            # The backup API in this direction too: it writes under SQLite's own locks,
            # so the WAL and any reader stay coherent, where copying the file over would not.
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 恢复失败：{exc}") from exc
    finally:
        source.close()


def _sqlite_has_marker(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MARKER_TABLE,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


# --- PostgreSQL ---------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    # VP_PG_BINDIR picks a newer client than the one on PATH: pg_dump refuses a server
    # newer than itself.
    bindir = os.environ.get("VP_PG_BINDIR", "").strip()
    found = shutil.which(name, path=bindir) if bindir else shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 {name}：PostgreSQL 的备份和恢复需要它（Debian/Ubuntu：apt-get install postgresql-client）。"
        )
    return found


def _pg_env(url: URL) -> dict[str, str]:
    """Connection parameters for libpq, through the environment rather than argv."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("PG") and key not in ("PGPASSFILE", "PGSERVICEFILE", "PGSYSCONFDIR"):
            del env[key]  # a stray PGHOST in the caller's shell must not redirect the dump
    for key, value in url.query.items():
        name = _LIBPQ_QUERY_ENV.get(key)
        if name:
            env[name] = value if isinstance(value, str) else value[-1]
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    if not url.database:
        raise BackupError("DATABASE_URL 里没有数据库名。")
    env["PGDATABASE"] = url.database
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what}无法运行：{exc}") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BackupError(f"{what}失败（退出码 {result.returncode}）：" + "\n".join(detail))
    return result


def _pg_dump(url: URL, partial: Path) -> None:
    env = _pg_env(url)
    # The database name is also given as -d: a bare name, so libpq takes the rest from env.
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial),
          "--dbname", _dbname_arg(url)], env, "pg_dump 备份")


def _pg_restore(url: URL, path: Path) -> None:
    env = _pg_env(url)
    # One transaction: a restore that fails half-way leaves the database as it was.
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--dbname", _dbname_arg(url), str(path)], env, "pg_restore 恢复")


def _dbname_arg(url: URL) -> str:
    # libpq reads a --dbname containing "=" as a whole connection string; quote it as one.
    name = url.database or ""
    if "=" in name:
        return "dbname='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return name


def _pg_dump_has_marker(path: Path) -> bool:
    tool = _pg_tool("pg_restore")
    try:
        result = _run([tool, "--list", str(path)], dict(os.environ), "读取备份目录")
    except BackupError:
        return False  # a damaged or truncated dump: not a backup anyone can restore
    return any(" TABLE " in line and MARKER_TABLE in line for line in result.stdout.splitlines())
