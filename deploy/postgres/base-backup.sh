#!/bin/sh
# A base backup of the whole PostgreSQL cluster, for point-in-time recovery (docs/operations.md,
# "Backups and point-in-time recovery"). Run it nightly (cron, a Kubernetes CronJob) as a role
# with REPLICATION (a superuser will do):
#
#   base-backup.sh BACKUP_DIR
#
# It writes BACKUP_DIR/base-<UTC time>/ (base.tar.gz and backup_manifest) and prints that path.
# The server is reached through libpq's environment: PGHOST, PGPORT, PGUSER, PGPASSWORD.
# No WAL goes into the backup (-X none): the WAL comes from the server's archive (archive_command),
# which must be on, and pg_basebackup waits until the last segment the backup needs is archived.
# A backup in progress is named .partial; a failed one stays so, and is never restored from.
# Old backups, and the archived WAL before the oldest kept one (pg_archivecleanup), are the
# operator's to remove. Tested by tests/deploy/test_point_in_time_recovery.py.
set -eu

backups=${1:?usage: base-backup.sh BACKUP_DIR}
target="$backups/base-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$backups"
# -c fast: checkpoint now instead of waiting out a spread one.
pg_basebackup -D "$target.partial" -Ft -z -X none -c fast -l "civicgrid $(basename "$target")"
mv "$target.partial" "$target"
echo "$target"
