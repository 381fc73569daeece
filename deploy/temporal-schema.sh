#!/bin/sh
# One-shot, before the Temporal server starts (temporalio/admin-tools image): set up or upgrade
# Temporal's schema in the databases deploy/postgres-init.sh created. Safe on every start:
# setup-schema leaves a newer schema alone, update-schema applies only the missing versions.
# The password comes from SQL_PASSWORD.
set -eu

for database in temporal temporal_visibility; do
    case "$database" in
        temporal) schema=temporal ;;
        *) schema=visibility ;;
    esac
    set -- --plugin postgres12 --ep postgresql -p 5432 -u temporal --db "$database"
    temporal-sql-tool "$@" setup-schema -v 0.0
    temporal-sql-tool "$@" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
echo "Temporal schema is up to date"
