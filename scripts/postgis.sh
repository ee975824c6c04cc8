#!/usr/bin/env bash
# A private PostgreSQL + PostGIS cluster for tests and local use (never the system cluster).
#   scripts/postgis.sh install   apt packages (as root): postgresql + postgis for this Debian
#   scripts/postgis.sh start     init (first time) and start on $ARTOIS_PG_PORT (default 55432)
#   scripts/postgis.sh stop
#   scripts/postgis.sh url       print the DATABASE_URL of the private cluster
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${ARTOIS_PG_PORT:-55432}
PGDATA=${ARTOIS_PG_DATA:-/tmp/artois-geo-pg-$PORT}
DB=artois
URL="postgresql://artois:artois@127.0.0.1:$PORT/$DB"

pg_bin() {
  local v
  v=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$v" ] || { echo "PostgreSQL is not installed: run $0 install" >&2; exit 1; }
  echo "$v"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  install)
    # postgresql-15-postgis-3 on Debian 12, postgresql-17-postgis-3 on Debian 13
    if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
      apt-get update -qq
      pkg=$(apt-cache search --names-only '^postgresql-[0-9]+-postgis-3$' | awk '{print $1}' | sort -V | tail -1)
      [ -n "$pkg" ] || { echo "no postgresql-N-postgis-3 package found" >&2; exit 1; }
      echo "Installing $pkg"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "$pkg" postgresql-contrib >/dev/null
    fi
    ;;
  start)
    BIN=$(pg_bin)
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      mkdir -p "$PGDATA"
      [ "$(id -u)" -eq 0 ] && chown postgres: "$PGDATA"
      as_owner "$BIN/initdb" -D "$PGDATA" -U postgres -A trust --encoding UTF8 --locale C.UTF-8 >/dev/null
      cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDATA'
shared_buffers = 256MB
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start >/dev/null
    fi
    psql_() { as_owner "$BIN/psql" -h "$PGDATA" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
    psql_ -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'artois'" | grep -q 1 || \
      psql_ -d postgres -c "CREATE ROLE artois LOGIN PASSWORD 'artois'"
    psql_ -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 || \
      psql_ -d postgres -c "CREATE DATABASE $DB OWNER artois"
    psql_ -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS unaccent;"
    echo "$URL"
    ;;
  stop)
    BIN=$(pg_bin)
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 install|start|stop|url" >&2; exit 2 ;;
esac
