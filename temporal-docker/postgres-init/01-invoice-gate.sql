-- Runs once, when the PostgreSQL volume is first initialised: a database for invoice-gate itself
-- (DATABASE_URL=postgres://temporal:temporal@localhost:5433/invoice_gate). Temporal's own databases
-- (temporal, temporal_visibility) are created by the auto-setup image.
CREATE DATABASE invoice_gate;
