-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
-- POSTGRES_DB creates the auth database; the customer service owns a database of its own.
CREATE DATABASE customers;
