#!/usr/bin/env bash
# Set everything up and run the whole test suite: once on SQLite, once on a throwaway
# PostgreSQL (15 where Debian has it). Extra arguments go to pytest (e.g. `bash scripts/test.sh -k import`).
#
# CI=true makes every part mandatory: a missing Chromium or a PostgreSQL that will not
# start fails the run. Elsewhere they are skipped with a loud notice.
# VP_SKIP_POSTGRES=1 skips the PostgreSQL run on purpose (not allowed under CI).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CI="${CI:-}"

notice() {
    echo >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    printf '!!  %s\n' "$@" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    echo >&2
}

bash scripts/setup.sh || exit 1

# Chromium (browser tests), LibreOffice and poppler (exports printed to PDF and read
# back), CJK fonts and a PostgreSQL server with its client tools: installed from Debian's
# packages the first time, quietly; afterwards this is a few file checks.
if ! bash scripts/system_packages.sh; then
    if [ "$CI" = "true" ]; then
        echo "错误：测试需要的系统软件包没能装上（见上面的输出），CI 中这些测试不能跳过。" >&2
        exit 1
    fi
    notice "有系统软件包没能装上：$(bash scripts/system_packages.sh --check)" \
           "缺少的部分（浏览器、PDF 打印或 PostgreSQL）将被跳过。请以 root 运行 bash scripts/system_packages.sh"
fi
# pg_dump refuses a server newer than itself: the backup tests use the server's own tools.
PG_LABEL="PostgreSQL"
if PG_BIN="$(bash scripts/pg_test_server.sh bindir 2>/dev/null)"; then
    export VP_PG_BINDIR="${VP_PG_BINDIR:-$PG_BIN}"
    PG_LABEL="PostgreSQL $(basename "$(dirname "$PG_BIN")")"
fi

PYTEST=(.venv/bin/pytest -p no:cacheprovider "$@")
declare -a SUMMARY=()
status=0

run_suite() {
    local label="$1"; shift
    echo
    echo "==> 测试：$label"
    env "$@" "${PYTEST[@]}"
    local rc=$?
    if [ $rc -eq 0 ]; then
        SUMMARY+=("$label：通过")
    else
        SUMMARY+=("$label：失败（pytest 退出码 $rc）")
        status=1
    fi
}

run_suite "SQLite" VP_TEST_DATABASE_URL=

PG_DIR=""
cleanup() {
    if [ -n "$PG_DIR" ]; then
        bash scripts/pg_test_server.sh stop "$PG_DIR"
        PG_DIR=""
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [ "${VP_SKIP_POSTGRES:-}" = "1" ] && [ "$CI" != "true" ]; then
    notice "VP_SKIP_POSTGRES=1：跳过 PostgreSQL 上的测试。"
    SUMMARY+=("$PG_LABEL：已跳过（VP_SKIP_POSTGRES=1）")
else
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/vp-pg.XXXXXX")"
    echo
    echo "==> 启动临时 $PG_LABEL"
    if PG_URL="$(bash scripts/pg_test_server.sh start "$PG_DIR" | tail -n 1)" && [ -n "$PG_URL" ]; then
        echo "    $PG_URL"
        run_suite "$PG_LABEL" VP_TEST_DATABASE_URL="$PG_URL"
    elif [ "$CI" = "true" ]; then
        echo "错误：临时 PostgreSQL 无法启动，CI 中这一轮测试不能跳过。" >&2
        SUMMARY+=("$PG_LABEL：无法启动")
        status=1
    else
        notice "临时 PostgreSQL 无法启动：PostgreSQL 上的测试被跳过！" \
               "需要 Debian 包 postgresql-15（bash scripts/system_packages.sh 会安装）。"
        SUMMARY+=("$PG_LABEL：已跳过（无法启动）")
    fi
    cleanup
fi

echo
echo "==> 汇总"
printf '    %s\n' "${SUMMARY[@]}"
exit $status
