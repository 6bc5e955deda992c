#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the test suite, in a temporary folder, on a loopback port.
#
#   bash scripts/pg_test_server.sh start DIR   # prints the database URL as its last line
#   bash scripts/pg_test_server.sh stop DIR    # stops the server and removes DIR
#   bash scripts/pg_test_server.sh bindir      # prints the folder of its initdb, pg_dump …
#
# initdb refuses to run as root, so as root the server runs as the `postgres` system
# user (created as `vp-pgtest` when there is none) and DIR is handed to that user.
set -euo pipefail

DB_NAME="villagepoints_test"
DB_USER="vp"

die() { echo "pg_test_server: $*" >&2; exit 1; }

# PostgreSQL 15 where it is installed, else the newest major version Debian put there,
# else whatever initdb is on PATH.
find_bindir() {
    local d
    for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r) \
        "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

server_user() {
    if [ "$(id -u)" != 0 ]; then
        id -un
        return
    fi
    if id postgres >/dev/null 2>&1; then
        echo postgres
        return
    fi
    if ! id vp-pgtest >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin vp-pgtest >/dev/null
    fi
    echo vp-pgtest
}

# Run a command as the server's user (directly when we are not root).
as_user() {
    local user="$1"; shift
    if [ "$(id -u)" = 0 ]; then
        # From / : the server's user may not enter the caller's folder (e.g. /root/…).
        ( cd / && exec runuser -u "$user" -- "$@" )
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local dir bindir user port
    dir="$(realpath -m "$1")"
    bindir="$(find_bindir)" || die "找不到 PostgreSQL 的 initdb/pg_ctl（Debian 包 postgresql-15；bash scripts/system_packages.sh 会安装）"
    user="$(server_user)"
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R "$user" "$dir"
    chmod 700 "$dir"

    as_user "$user" "$bindir/initdb" -D "$dir/data" -U "$DB_USER" --auth=trust \
        --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb 失败"; }

    # A port can be taken between choosing and binding it; try a few.
    local attempt
    for attempt in 1 2 3; do
        port="$(free_port)"
        # Durability settings off: the data is thrown away after the run.
        if as_user "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            echo "$port" >"$dir/port"
            as_user "$user" "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres \
                -c "CREATE DATABASE $DB_NAME" >/dev/null \
                || die "无法创建测试数据库"
            echo "postgresql+psycopg://$DB_USER@127.0.0.1:$port/$DB_NAME"
            return 0
        fi
    done
    tail -n 20 "$dir/server.log" >&2 || true
    die "PostgreSQL 启动失败"
}

stop() {
    local dir bindir user
    dir="$(realpath -m "$1")"
    if [ -f "$dir/data/postmaster.pid" ] && bindir="$(find_bindir)"; then
        user="$(stat -c %U "$dir/data")"
        as_user "$user" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) [ -n "${2:-}" ] || die "用法: $0 start DIR"; start "$2" ;;
    stop) [ -n "${2:-}" ] || die "用法: $0 stop DIR"; stop "$2" ;;
    bindir) find_bindir || die "找不到 PostgreSQL 的 initdb/pg_ctl" ;;
    *) die "用法: $0 start|stop DIR | bindir" ;;
esac
