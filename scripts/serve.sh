#!/usr/bin/env bash
# Run villagepoints for real (a township or county): gunicorn with several workers.
# Safe to run again: dependencies are checked, the schema is upgraded in place, data kept.
#
#   DATABASE_URL  postgresql://user:password@host/dbname (without it: SQLite in instance/,
#                 fine for one village, PostgreSQL for a township)
#   WORKERS       gunicorn worker processes (default 4; about 2 × CPU cores)
#   BIND          address to listen on (default 127.0.0.1:8000, behind nginx)
#   VILLAGEPOINTS_COOKIE_SECURE=1
#                 served over HTTPS (nginx): login cookies are marked Secure (set it in production)
#
# Logs: the access log on stdout, gunicorn's and the app's messages on stdout/stderr;
# under systemd both go to journald (journalctl -u villagepoints).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Only what serving needs (gunicorn), not the test tools.
VP_EXTRAS=serve bash scripts/setup.sh
FLASK=(.venv/bin/flask --app villagepoints)

if [ -z "${DATABASE_URL:-}" ]; then
    echo "==> 未设置 DATABASE_URL：使用 instance/ 里的 SQLite（乡镇部署请用 PostgreSQL）" >&2
fi
echo "==> 建库或升级数据库结构（init-db）"
# Also writes instance/secret_key before the workers start, so they all share one key.
"${FLASK[@]}" init-db

WORKERS="${WORKERS:-4}"
BIND="${BIND:-127.0.0.1:8000}"
echo "==> gunicorn：$WORKERS 个进程，监听 $BIND；健康检查 http://$BIND/healthz"
# No control socket: it defaults to ~/.gunicorn/, which a service user may not have and
# which a second instance on the same machine would fight over.
exec .venv/bin/gunicorn "villagepoints:create_app()" \
    --workers "$WORKERS" --bind "$BIND" \
    --access-logfile - --error-logfile - --no-control-socket
