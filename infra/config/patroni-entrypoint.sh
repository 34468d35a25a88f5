#!/bin/sh
# idstack Patroni entrypoint: prepare what Debian's packaging would (a
# socket directory, a data directory owned by postgres with mode 0700, a
# configuration only postgres reads), then become Patroni as postgres (PID
# 1, so SIGTERM from docker stop is Patroni's clean shutdown of PostgreSQL).
set -eu
data=/var/lib/idstack/postgres
mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
install -o postgres -g postgres -m 0600 /etc/idstack/patroni.yml /run/postgresql/patroni.yml
exec setpriv --reuid=postgres --regid=postgres --init-groups /usr/bin/patroni /run/postgresql/patroni.yml
