#!/bin/sh
# Prepares a new data directory that recovers the cluster to a point in time (docs/operations.md,
# "Backups and point-in-time recovery"), from a base backup of base-backup.sh and the WAL archive:
#
#   restore-to-time.sh BASE_BACKUP WAL_ARCHIVE 'YYYY-MM-DD HH:MM:SS+08' NEW_DATA_DIR
#
# Run it as the user the server runs as (postgres), then start PostgreSQL 15-17 on NEW_DATA_DIR:
# it replays the archived WAL up to the target time, stops before the first transaction that
# committed later, and promotes itself (a new timeline), accepting writes. Give the time with its
# zone. NEW_DATA_DIR must not exist or be empty: this never writes over a cluster. The base backup
# must be older than the target time, and the archive must hold WAL past it. Only the default
# tablespace is restored. Tested by tests/deploy/test_point_in_time_recovery.py.
set -eu

usage="usage: restore-to-time.sh BASE_BACKUP WAL_ARCHIVE TARGET_TIME NEW_DATA_DIR"
base=${1:?$usage} archive=${2:?$usage} target_time=${3:?$usage} data=${4:?$usage}
fail() { echo "restore-to-time.sh: $*" >&2; exit 2; }

[ -f "$base/base.tar.gz" ] || fail "$base holds no base.tar.gz (a base-backup.sh backup?)"
for tarball in "$base"/*.tar.gz; do
  [ "$(basename "$tarball")" = base.tar.gz ] || fail "$tarball: tablespaces other than the default are not restored"
done
[ -d "$archive" ] || fail "no WAL archive at $archive"
case "$archive$target_time" in *"'"*) fail "a quote in the archive path or the time" ;; esac
if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then fail "$data is not empty"; fi

# The recovery settings quote the archive's path: an absolute one, whatever the working directory.
archive=$(cd "$archive" && pwd)
mkdir -p "$data"
chmod 700 "$data"
tar -xzf "$base/base.tar.gz" -C "$data"
# postgresql.auto.conf is read after postgresql.conf: these win over anything the backup carried.
cat >>"$data/postgresql.auto.conf" <<CONF
# restore-to-time.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ): recover to $target_time
restore_command = 'cp "$archive/%f" "%p"'
recovery_target_time = '$target_time'
recovery_target_action = 'promote'
CONF
touch "$data/recovery.signal"
echo "$data is ready: start PostgreSQL on it; it recovers to $target_time and promotes itself"
