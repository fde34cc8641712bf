#!/usr/bin/env bash
# Run once by the postgres image's entrypoint on an empty data directory (mounted into
# /docker-entrypoint-initdb.d). Creates what `python -m allinone.migrate` expects to find, the same
# as shared.db.bootstrap.ensure_database does for development and tests:
#   quotient_owner  owns the database and the schemas; used by migrations only (DATABASE_OWNER_URL)
#   quotient_app    what the services connect as (DATABASE_URL): not a superuser, cannot bypass
#                   row-level security, owns nothing; migrations grant it table privileges
# Passwords come from QUOTIENT_OWNER_DB_PASSWORD and QUOTIENT_APP_DB_PASSWORD (see
# docker-compose.yml). To change them later, ALTER ROLE by hand: this script never runs again on an
# initialised volume.
set -euo pipefail

: "${QUOTIENT_OWNER_DB_PASSWORD:?QUOTIENT_OWNER_DB_PASSWORD must be set}"
: "${QUOTIENT_APP_DB_PASSWORD:?QUOTIENT_APP_DB_PASSWORD must be set}"

# psql variables (:'name') quote the passwords as literals; they are never spliced into the SQL.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$QUOTIENT_OWNER_DB_PASSWORD" \
    -v app_password="$QUOTIENT_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE quotient_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'owner_password';
CREATE ROLE quotient_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'app_password';
CREATE DATABASE quotient OWNER quotient_owner;
GRANT CONNECT ON DATABASE quotient TO quotient_app;
\connect quotient
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
