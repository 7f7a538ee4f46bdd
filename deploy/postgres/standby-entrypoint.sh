#!/bin/sh
# The hot standby: cloned from the primary on its first start (pg_basebackup -R writes
# standby.signal and primary_conninfo; the slot keeps the primary's WAL until replayed),
# then started as a read-only server.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h primary -p 5432; do sleep 1; done
  pg_basebackup -h primary -p 5432 -U replicator -D "$PGDATA" -R -X stream -c fast \
    -C -S streamsettle_standby
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on -c max_standby_streaming_delay=30s
