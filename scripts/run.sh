#!/usr/bin/env bash
# Set everything up on a fresh machine and run villagepoints on SQLite (instance/).
# Safe to run again: the schema is upgraded in place and existing data is kept.
# HOST and PORT choose where it listens (default 127.0.0.1:5000); DATABASE_URL another database;
# WORKERS the number of gunicorn processes (default 2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
FLASK=(.venv/bin/flask --app villagepoints)

echo "==> 建库（init-db）"
"${FLASK[@]}" init-db
echo "==> 示范数据（仅在数据库里还没有村时加载）"
"${FLASK[@]}" demo --if-empty

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
WORKERS="${WORKERS:-2}"
echo
echo "============================================================"
echo " 打开 http://$HOST:$PORT/ 登录"
if [ -f instance/first-admin.txt ]; then
    echo " 管理员（首次安装时生成；登录后点页面右上角自己的名字修改密码，改后此处不再显示）："
    sed 's/^/   /' instance/first-admin.txt
else
    echo " 管理员：用户名 admin，密码为您修改后的密码"
fi
if [ -f instance/demo-users.txt ]; then
    sed '1s/^/ /; 2,$s/^/   /' instance/demo-users.txt
fi
echo " 按 Ctrl+C 停止。"
echo "============================================================"
echo
# gunicorn, the same server as scripts/serve.sh, with a few workers: fine for one village on
# SQLite (WAL mode lets the workers share the file). Flask's development server is not used.
exec .venv/bin/gunicorn "villagepoints:create_app()" \
    --workers "$WORKERS" --threads 4 --bind "$HOST:$PORT" \
    --access-logfile - --error-logfile - --no-control-socket
