-- Runs once, when the PostgreSQL volume is first initialised (psql, as the superuser `temporal`, which
-- also owns Temporal's own databases: the gate never connects as it). Least privilege for invoice-gate:
--   gate_owner          owns the database invoice_gate and its schema invoice_gate (the gate's audit
--                       tables, migrated at every start): DATABASE_URL of the server and the worker
--   gate_ledger_reader  reads the ledger (public.billable_events, or whatever the ledger mapping names in
--                       schema public) and nothing else, in read-only transactions: LEDGER_DATABASE_URL
-- Passwords come from INVOICE_GATE_DB_PASSWORD / INVOICE_GATE_LEDGER_PASSWORD in the postgresql service's
-- environment (set them in .env beyond one machine). Temporal's databases are created by auto-setup.
\getenv gate_password INVOICE_GATE_DB_PASSWORD
\if :{?gate_password}
\else
\set gate_password invoice_gate
\endif
\getenv ledger_password INVOICE_GATE_LEDGER_PASSWORD
\if :{?ledger_password}
\else
\set ledger_password invoice_gate_ledger
\endif

CREATE ROLE gate_owner LOGIN PASSWORD :'gate_password';
CREATE ROLE gate_ledger_reader LOGIN PASSWORD :'ledger_password';
-- Whatever the reader's client asks, its transactions cannot write.
ALTER ROLE gate_ledger_reader SET default_transaction_read_only = on;

CREATE DATABASE invoice_gate OWNER gate_owner;
REVOKE ALL ON DATABASE invoice_gate FROM PUBLIC;
GRANT CONNECT ON DATABASE invoice_gate TO gate_ledger_reader;

\connect invoice_gate
-- The gate's schema, owned by the gate's role (its migrations create the tables in it).
CREATE SCHEMA invoice_gate AUTHORIZATION gate_owner;
-- The ledger lives in public (owned by pg_database_owner, i.e. gate_owner; PUBLIC may not create there).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gate_ledger_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO gate_ledger_reader;
-- Tables created later in public by the gate's role or by this superuser (an operator loading the
-- ledger) are readable by the reader, and only readable.
ALTER DEFAULT PRIVILEGES FOR ROLE gate_owner IN SCHEMA public GRANT SELECT ON TABLES TO gate_ledger_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO gate_ledger_reader;
