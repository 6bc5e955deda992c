#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those that are missing, in one
# quiet apt-get run (its output is kept in a log and shown only when it fails).
#
#   bash scripts/system_packages.sh          # install what is missing; exit 1 if it fails
#   bash scripts/system_packages.sh --check  # say what is missing; install nothing
#
# What the suite needs, and the command that shows it is there:
#   PostgreSQL server and client, one major version (15 where Debian has it):
#       initdb, pg_ctl, psql, pg_dump, pg_restore in /usr/lib/postgresql/N/bin
#   Chromium (browser tests):                /usr/bin/chromium
#   LibreOffice Calc (exports printed to PDF): soffice
#   poppler-utils (reading those PDFs back):  pdftotext, pdfinfo, pdftoppm
#   poppler-data (poppler reads the household cards' standard Chinese font, STSong-Light,
#       which the PDF names but does not embed): /usr/share/poppler/cMap/Adobe-GB1
#   Noto CJK fonts (Chinese in the browser and in the PDFs): /usr/share/fonts/opentype/noto
#   libatomic1 (Playwright's bundled node driver links it): libatomic.so.1
set -uo pipefail

CHECK_ONLY=""
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

# The PostgreSQL major version already installed with every tool the suite uses.
pg_bindir() {
    local d
    for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ] \
            && [ -x "$d/pg_dump" ] && [ -x "$d/pg_restore" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# The package names for PostgreSQL: 15 where the release has it, else its default major.
pg_packages() {
    if apt-cache show postgresql-15 >/dev/null 2>&1; then
        echo "postgresql-15 postgresql-client-15"
    else
        echo "postgresql postgresql-client"
    fi
}

missing=()
pg_bindir >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
{ command -v pdftotext && command -v pdfinfo && command -v pdftoppm; } >/dev/null || missing+=(poppler-utils)
[ -d /usr/share/poppler/cMap/Adobe-GB1 ] || missing+=(poppler-data)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
ldconfig -p 2>/dev/null | grep -q 'libatomic\.so\.1' || missing+=(libatomic1)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ -n "$CHECK_ONLY" ]; then
    echo "缺少：${missing[*]}"
    exit 1
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        echo "需要 root 权限安装：${missing[*]}（请以 root 运行，或 apt-get install 它们）" >&2
        exit 1
    fi
fi

echo "==> 首次运行：用 apt-get 安装 ${missing[*]}（只装缺少的，之后不再安装）"
log="$(mktemp "${TMPDIR:-/tmp}/vp-apt.XXXXXX")"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -q >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "apt-get update 失败（完整输出：$log）" >&2
    exit 1
fi
packages=()
for name in "${missing[@]}"; do
    if [ "$name" = postgresql ]; then
        read -r -a pg <<<"$(pg_packages)"
        packages+=("${pg[@]}")
    else
        packages+=("$name")
    fi
done
# Debian's PostgreSQL package would also create and start a "main" cluster on port 5432;
# the suite runs its own throwaway server, so the postinst is told not to.
if [[ " ${packages[*]} " == *" postgresql"* ]]; then
    $sudo mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/villagepoints.conf >/dev/null
fi
if ! $sudo apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${packages[@]}" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "apt-get install ${packages[*]} 失败（完整输出：$log）" >&2
    exit 1
fi
rm -f "$log"
echo "==> 已安装：${packages[*]}"
