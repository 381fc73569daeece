#!/bin/sh
# Runs once, when the postgres image initialises an empty data directory
# (/docker-entrypoint-initdb.d): a role with two databases for Temporal, a role with one
# database for Kurator. Neither role is a superuser, and neither can open the other's databases.
set -eu

psql --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
    --set=temporal_password="$TEMPORAL_DB_PASSWORD" \
    --set=kurator_password="$KURATOR_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE kurator LOGIN PASSWORD :'kurator_password';
CREATE DATABASE kurator OWNER kurator;
REVOKE ALL ON DATABASE kurator FROM PUBLIC;

-- Temporal's visibility schema needs btree_gin; create it here rather than rely on the
-- temporal role being allowed to.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
