// temporal-docker/postgres-init/01-invoice-gate.sql, run as the PostgreSQL image runs it (psql, as the
// superuser; on a machine without psql, the same script through test/support/psql-script.ts) against the
// test PostgreSQL, with its database and role names made unique so runs do not
// collide: the gate's role migrates and uses its schema; the ledger's role reads the ledger and can
// write nothing, not even after turning its read-only default off, and cannot read the gate's schema.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Client as PgClient } from 'pg';
import { migrateToLatest, openDatabases, type Databases } from '../../src/db';
import { ensureDefaultLedgerTable } from '../../src/db/default-ledger-table';
import { countLedgerEvents } from '../../src/ledger/count-ledger-events';
import { DEFAULT_LEDGER_MAPPING } from '../../src/config/gate-config';
import { REPO_ROOT } from '../support/gate-process';
import { runPsqlScript } from '../support/psql-script';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const names = {
  database: `gate_init_${suffix}`,
  owner: `gate_owner_${suffix}`,
  reader: `gate_ledger_reader_${suffix}`,
};
const passwords = { owner: randomBytes(12).toString('hex'), reader: randomBytes(12).toString('hex') };

/** The init script with this run's names (the schema keeps its name: the gate's migrations use it). */
function scratchScript(): string {
  return readFileSync(join(REPO_ROOT, 'temporal-docker/postgres-init/01-invoice-gate.sql'), 'utf8')
    .replace(/\bgate_owner\b/g, names.owner)
    .replace(/\bgate_ledger_reader\b/g, names.reader)
    .replace(/(DATABASE|\\connect) invoice_gate\b/g, `$1 ${names.database}`);
}

function urlFor(role: string, password: string): string {
  const url = new URL(ADMIN_URL);
  url.username = role;
  url.password = password;
  url.pathname = `/${names.database}`;
  return url.href;
}

async function admin<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new PgClient({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('postgres-init: least-privilege roles for the gate and its ledger', () => {
  let databases: Databases;
  let reader: PgClient;

  before(async () => {
    const env = {
      ...process.env,
      INVOICE_GATE_DB_PASSWORD: passwords.owner,
      INVOICE_GATE_LEDGER_PASSWORD: passwords.reader,
    };
    if (spawnSync('psql', ['--version']).status === 0) {
      const url = new URL(ADMIN_URL);
      const result = spawnSync(
        'psql',
        [
          '-v',
          'ON_ERROR_STOP=1',
          '-X',
          '-q',
          '-h',
          url.hostname,
          '-p',
          url.port || '5432',
          '-U',
          decodeURIComponent(url.username),
          '-d',
          url.pathname.slice(1),
        ],
        { input: scratchScript(), encoding: 'utf8', env: { ...env, PGPASSWORD: decodeURIComponent(url.password) } },
      );
      assert.equal(result.status, 0, result.stderr);
    } else {
      await runPsqlScript(scratchScript(), { url: ADMIN_URL, env });
    }
    databases = openDatabases({
      databaseUrl: urlFor(names.owner, passwords.owner),
      ledgerDatabaseUrl: urlFor(names.reader, passwords.reader),
    });
  });

  after(async () => {
    await reader?.end().catch(() => undefined);
    await databases?.destroy();
    await admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${names.database} WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS ${names.owner}`);
      await client.query(`DROP ROLE IF EXISTS ${names.reader}`);
    });
  });

  it('creates two login roles, neither a superuser, with the passwords from the environment', async () => {
    const roles = await admin(
      async (client) =>
        (
          await client.query<{ rolname: string; rolsuper: boolean; rolcanlogin: boolean; rolcreaterole: boolean }>(
            'SELECT rolname, rolsuper, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
            [[names.owner, names.reader]],
          )
        ).rows,
    );
    assert.deepEqual(
      roles.map((r) => [r.rolname, r.rolsuper, r.rolcanlogin, r.rolcreaterole]),
      [
        [names.owner, false, true, false],
        [names.reader, false, true, false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const hashed = await admin(
      async (client) =>
        (
          await client.query<{ ok: boolean }>(
            'SELECT rolpassword IS NOT NULL AS ok FROM pg_authid WHERE rolname = $1',
            [names.owner],
          )
        ).rows[0].ok,
    );
    assert.equal(hashed, true);
  });

  it("the gate's role migrates its schema and writes its tables", async () => {
    const applied = await migrateToLatest(databases.db);
    assert.ok(applied.length > 0, 'every migration ran');
    const owner = await sql<{ owner: string }>`
      select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'invoice_gate'`.execute(databases.db);
    assert.equal(owner.rows[0].owner, names.owner);
    await sql`insert into invoice_gate.stripe_events (event_id, type, invoice_id, payload_created) values ('evt_roles', 'invoice.created', 'in_roles', now())`.execute(
      databases.db,
    );
    // The operator (here the gate's role) loads the ledger into public.
    await ensureDefaultLedgerTable(databases.db);
    await sql`insert into billable_events (stripe_customer_id, event_name, value, occurred_at)
      values ('cus_roles', 'api_call', 1, '2026-01-15T00:00:00Z'), ('cus_roles', 'api_call', 1, '2026-01-16T00:00:00Z')`.execute(
      databases.db,
    );
  });

  it("the ledger's role reads the ledger as the gate queries it", async () => {
    const counted = await countLedgerEvents(databases.ledgerDb, DEFAULT_LEDGER_MAPPING, {
      customerId: 'cus_roles',
      customerMetadata: {},
      lines: [
        {
          lineId: 'il_roles',
          eventName: 'api_call',
          meterId: 'mtr_roles',
          formula: 'count',
          periodStart: Date.parse('2026-01-01T00:00:00Z') / 1000,
          periodEnd: Date.parse('2026-02-01T00:00:00Z') / 1000,
        },
      ],
    });
    assert.deepEqual(counted, { il_roles: '2' });
  });

  it("the ledger's role cannot write the ledger, create tables or read the gate's schema", async () => {
    reader = new PgClient({ connectionString: urlFor(names.reader, passwords.reader) });
    await reader.connect();
    const refused = async (statement: string, why: RegExp) =>
      assert.rejects(reader.query(statement), (error: Error) => {
        assert.match(error.message, why, statement);
        return true;
      });
    await refused(
      "insert into billable_events (stripe_customer_id, event_name) values ('cus_roles', 'api_call')",
      /read-only transaction/,
    );
    // Even with its read-only default turned off, the privileges refuse every write.
    await reader.query('set default_transaction_read_only = off');
    await refused(
      "insert into billable_events (stripe_customer_id, event_name) values ('cus_roles', 'api_call')",
      /permission denied for table billable_events/,
    );
    await refused('update billable_events set value = 100', /permission denied for table billable_events/);
    await refused('delete from billable_events', /permission denied for table billable_events/);
    await refused('truncate billable_events', /permission denied for table billable_events/);
    await refused('create table public.sneaky (id int)', /permission denied for schema public/);
    await refused('select * from invoice_gate.stripe_events', /permission denied for schema invoice_gate/);
    const rows = await reader.query<{ n: string }>('select count(*) as n from billable_events');
    assert.equal(rows.rows[0].n, '2', 'nothing was written');
  });
});
