#!/usr/bin/env bash
# Create .venv and install villagepoints with its extras: "test" by default (what the
# test command and the local run need), VP_EXTRAS=serve for a production server.
# Safe to run again: when setup.cfg and pyproject.toml are unchanged since the last
# install into this .venv, it does nothing and returns at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
EXTRAS="${VP_EXTRAS:-test}"
STAMP="$VENV/.villagepoints-installed"

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> 创建虚拟环境 .venv"
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        # Debian's own Python keeps venv in a package of its own.
        rm -rf "$VENV"
        version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "==> 安装 python$version-venv（apt-get，仅首次）"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python$version-venv" >/dev/null 2>&1 \
                || { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 \
                     && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python$version-venv" >/dev/null 2>&1; }
        fi
        "$PYTHON" -m venv "$VENV" || { echo "无法创建虚拟环境：请安装 python$version-venv" >&2; exit 1; }
    fi
fi

# The stamp records what was installed and from where (an editable install points at
# this folder), so a moved checkout or a changed dependency list reinstalls.
wanted="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1) $ROOT [$EXTRAS]"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ] \
    && "$VENV/bin/python" -c "import villagepoints" 2>/dev/null; then
    exit 0
fi

echo "==> 安装依赖（pip install -e '.[$EXTRAS]'）"
# pip and the build backend are chatty; keep their output for when something fails.
log="$(mktemp)"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[$EXTRAS]" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "依赖安装失败（见上面的输出）" >&2
    exit 1
fi
rm -f "$log"
echo "$wanted" > "$STAMP"
echo "==> 依赖已安装"
