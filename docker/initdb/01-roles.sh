#!/bin/sh
# First start of the database container: the schema owner and the API's
# role (which owns nothing and cannot bypass row-level security), with
# passwords from the environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v owner_pw="$KEYWORK_OWNER_PASSWORD" -v api_pw="$KEYWORK_API_PASSWORD" <<'SQL'
CREATE ROLE keywork LOGIN CREATEROLE PASSWORD :'owner_pw';
CREATE ROLE keywork_api LOGIN NOBYPASSRLS PASSWORD :'api_pw';
ALTER ROLE keywork_api SET statement_timeout = '10s';
ALTER ROLE keywork_api SET timezone = 'UTC';
CREATE DATABASE keywork OWNER keywork;
SQL
