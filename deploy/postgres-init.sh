#!/bin/sh
# Runs once, when the postgres image initialises an empty data directory
# (/docker-entrypoint-initdb.d): a role with two databases for Temporal, a role with one
# database for Kurator. Neither role is a superuser, and neither can open the other's databases.
# Kurator's owner role runs the migrations; its API and worker log in as `kurator_service`, a
# member of `kurator_app`, which migration 0008 lets read and append the case history only.
set -eu

psql --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
    --set=temporal_password="$TEMPORAL_DB_PASSWORD" \
    --set=kurator_password="$KURATOR_DB_PASSWORD" \
    --set=kurator_app_password="$KURATOR_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE kurator LOGIN PASSWORD :'kurator_password';
CREATE DATABASE kurator OWNER kurator;
REVOKE ALL ON DATABASE kurator FROM PUBLIC;
CREATE ROLE kurator_app NOLOGIN;
CREATE ROLE kurator_service LOGIN PASSWORD :'kurator_app_password' IN ROLE kurator_app;

-- Temporal's visibility schema needs btree_gin; create it here rather than rely on the
-- temporal role being allowed to.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
