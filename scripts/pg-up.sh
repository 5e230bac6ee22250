#!/bin/sh
# Start Debian's PostgreSQL 15 on 127.0.0.1:5432 with role and database yibao/yibao
# (CREATEDB, for test databases). Idempotent: safe to run when everything is already up.
# Then: DATABASE_URL=postgres://yibao:yibao@127.0.0.1:5432/yibao
set -eu

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /usr/lib/postgresql/15 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 \+main '; then
    pg_createcluster 15 main >/dev/null
fi

if ! pg_lsclusters -h | grep -q '^15 \+main .* online'; then
    pg_ctlcluster 15 main start
fi

# Wait until the server accepts connections.
i=0
until su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 30 ]; then
        echo "pg-up: PostgreSQL did not start" >&2
        exit 1
    fi
    sleep 1
done

if [ "$(su postgres -c "psql -qAtc \"select 1 from pg_roles where rolname = 'yibao'\"")" != "1" ]; then
    su postgres -c "psql -v ON_ERROR_STOP=1 -qc \"CREATE ROLE yibao LOGIN PASSWORD 'yibao' CREATEDB\""
fi
if [ "$(su postgres -c "psql -qAtc \"select 1 from pg_database where datname = 'yibao'\"")" != "1" ]; then
    su postgres -c "createdb -O yibao yibao"
fi
echo "pg-up: postgres://yibao:yibao@127.0.0.1:5432/yibao"
