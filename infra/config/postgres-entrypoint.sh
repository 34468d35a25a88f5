#!/bin/sh
# idstack PostgreSQL entrypoint: initialise once, then become postgres (PID 1,
# so SIGINT from docker stop is PostgreSQL's fast shutdown).
set -eu
data=/var/lib/idstack/postgres
bin=/usr/lib/postgresql/15/bin
mkdir -p "$data" /run/postgresql
chown -R postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  pwfile=$(mktemp)
  trap 'rm -f "$pwfile"' EXIT
  printf '%s' "${IDSTACK_DB_PASSWORD:?IDSTACK_DB_PASSWORD is required}" >"$pwfile"
  chown postgres "$pwfile"
  setpriv --reuid=postgres --regid=postgres --init-groups \
    "$bin/initdb" -D "$data" -U idstack --pwfile="$pwfile" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  trap - EXIT
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$data/pg_hba.conf"
fi
unset IDSTACK_DB_PASSWORD
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$data" \
  -c listen_addresses='*' -c fsync=on -c synchronous_commit=on \
  -c max_connections=300 -c shared_buffers=128MB -c log_min_messages=warning \
  -c idstack.member=postgres
