#!/usr/bin/env bash
# Set everything up and run the whole test suite: once on SQLite, once on a throwaway
# PostgreSQL 15. Extra arguments go to pytest (e.g. `bash scripts/test.sh -k import`).
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

# Debian's Chromium drives the browser tests (Playwright's own browser downloads are
# not used). Installed once; afterwards this is a file check.
install_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null && sudo="sudo -n" || return 1
    fi
    echo "==> 安装 Chromium 和中文字体（apt-get，仅首次）"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null \
        && $sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
}
if ! install_chromium || [ ! -x /usr/bin/chromium ]; then
    if [ "$CI" = "true" ]; then
        echo "错误：无法安装 Chromium（apt-get install chromium），CI 中浏览器测试不能跳过。" >&2
        exit 1
    fi
    notice "未能安装 Chromium：浏览器测试将被跳过。" \
           "请以 root 运行：apt-get install chromium fonts-noto-cjk"
fi

# LibreOffice turns the printable exports into PDF in the tests, poppler-utils reads
# them back (pdftotext, pdfinfo), and a CJK font makes the Chinese print. Installed once.
print_tools_present() {
    command -v soffice >/dev/null && command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null \
        && [ -d /usr/share/fonts/opentype/noto ]
}
install_print_tools() {
    print_tools_present && return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null && sudo="sudo -n" || return 1
    fi
    echo "==> 安装 LibreOffice、poppler-utils 和中文字体（apt-get，仅首次）"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null \
        && $sudo apt-get install -y -qq --no-install-recommends \
            libreoffice-calc-nogui poppler-utils fonts-noto-cjk >/dev/null
}
if ! install_print_tools || ! print_tools_present; then
    if [ "$CI" = "true" ]; then
        echo "错误：无法安装 LibreOffice（apt-get install libreoffice-calc-nogui poppler-utils fonts-noto-cjk），CI 中导出打印测试不能跳过。" >&2
        exit 1
    fi
    notice "未能安装 LibreOffice：导出的 PDF 打印测试将被跳过。" \
           "请以 root 运行：apt-get install libreoffice-calc-nogui poppler-utils fonts-noto-cjk"
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
    SUMMARY+=("PostgreSQL 15：已跳过（VP_SKIP_POSTGRES=1）")
else
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/vp-pg.XXXXXX")"
    echo
    echo "==> 启动临时 PostgreSQL 15"
    if PG_URL="$(bash scripts/pg_test_server.sh start "$PG_DIR" | tail -n 1)" && [ -n "$PG_URL" ]; then
        echo "    $PG_URL"
        run_suite "PostgreSQL 15" VP_TEST_DATABASE_URL="$PG_URL"
    elif [ "$CI" = "true" ]; then
        echo "错误：临时 PostgreSQL 无法启动，CI 中这一轮测试不能跳过。" >&2
        SUMMARY+=("PostgreSQL 15：无法启动")
        status=1
    else
        notice "临时 PostgreSQL 无法启动：PostgreSQL 上的测试被跳过！" \
               "需要 Debian 包 postgresql-15（initdb、pg_ctl）。"
        SUMMARY+=("PostgreSQL 15：已跳过（无法启动）")
    fi
    cleanup
fi

echo
echo "==> 汇总"
printf '    %s\n' "${SUMMARY[@]}"
exit $status
