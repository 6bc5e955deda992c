#!/usr/bin/env bash
# Set everything up on a fresh machine and run villagepoints on SQLite (instance/).
# Safe to run again: the schema is upgraded in place and existing data is kept.
# HOST and PORT choose where it listens (default 127.0.0.1:5000); DATABASE_URL another database.
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
echo
echo "============================================================"
echo " 打开 http://$HOST:$PORT/ 登录"
if [ -f instance/first-admin.txt ]; then
    echo " 管理员（首次安装时生成，登录后请修改密码）："
    sed 's/^/   /' instance/first-admin.txt
else
    echo " 管理员：用户名 admin，密码为您已修改过的密码"
fi
if [ -f instance/demo-users.txt ]; then
    sed '1s/^/ /; 2,$s/^/   /' instance/demo-users.txt
fi
echo "============================================================"
echo
exec "${FLASK[@]}" run --host "$HOST" --port "$PORT"
