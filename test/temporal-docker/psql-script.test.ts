// test/support/psql-script.ts, the psql stand-in for machines without psql: the init script's
// meta-commands and interpolation behave as psql's, and the first error stops the script.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { runPsqlScript } from '../support/psql-script';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const database = `psql_script_${suffix}`;
const role = `psql_script_role_${suffix}`;

async function admin<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new PgClient({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('a psql script through pg', () => {
  after(async () => {
    await admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS ${role}`);
    });
  });

  it('reads \\getenv, falls back with \\if :{?var}, quotes :\'var\' and :"var", follows \\connect', async () => {
    const script = [
      `\\getenv comment PSQL_SCRIPT_COMMENT`,
      `\\if :{?comment}`,
      `\\else`,
      `\\set comment the default`,
      `\\endif`,
      `\\getenv password PSQL_SCRIPT_PASSWORD`,
      `-- a comment line, skipped`,
      `CREATE ROLE ${role} LOGIN PASSWORD :'password';`,
      `CREATE DATABASE ${database} OWNER ${role};`,
      `\\connect ${database}`,
      `\\set table notes`,
      `CREATE TABLE :"table" (body text);`,
      `INSERT INTO :"table" VALUES (:'comment'),`,
      `  (current_database());`,
    ].join('\n');
    await runPsqlScript(script, { url: ADMIN_URL, env: { PSQL_SCRIPT_PASSWORD: "pa'ss" } });
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    const client = new PgClient({ connectionString: url.toString() });
    await client.connect();
    try {
      const rows = (await client.query<{ body: string }>('select body from notes order by body')).rows;
      assert.deepEqual(
        rows.map((r) => r.body),
        [database, 'the default'],
      );
    } finally {
      await client.end();
    }
    const canLogin = await admin(
      async (client) =>
        (await client.query<{ rolcanlogin: boolean }>('select rolcanlogin from pg_roles where rolname = $1', [role]))
          .rows[0]?.rolcanlogin,
    );
    assert.equal(canLogin, true);
  });

  it('stops at the first error, as ON_ERROR_STOP does, and refuses what it does not know', async () => {
    await assert.rejects(
      runPsqlScript('SELECT 1;\nSELECT * FROM no_such_table_here;\nSELECT 2;', { url: ADMIN_URL, env: {} }),
      /no_such_table_here/,
    );
    await assert.rejects(runPsqlScript('\\copy x from y', { url: ADMIN_URL, env: {} }), /\\copy is not supported/);
    await assert.rejects(runPsqlScript("SELECT :'unset';", { url: ADMIN_URL, env: {} }), /unset is not set/);
  });
});
