// Test helper: a Kysely instance on the local PostgreSQL and a uniquely named schema per test,
// dropped afterwards, so test files can run in parallel on one database.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from '../../src/db/create-database';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function uniqueSchemaName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  db: Kysely<any>;
  /** Creates (and remembers for dropping) a fresh schema. */
  createSchema(prefix: string): Promise<string>;
  /** A fresh schema name, not created yet (e.g. for migrateToLatest), dropped on close. */
  reserveSchema(prefix: string): string;
  /** Drops the schemas and closes the pool. */
  close(): Promise<void>;
}

export function openTestDatabase(): TestDatabase {
  const db = createDatabase<any>(TEST_DATABASE_URL, { maxConnections: 4 });
  const schemas: string[] = [];
  return {
    db,
    async createSchema(prefix) {
      const name = uniqueSchemaName(prefix);
      await sql`create schema ${sql.id(name)}`.execute(db);
      schemas.push(name);
      return name;
    },
    reserveSchema(prefix) {
      const name = uniqueSchemaName(prefix);
      schemas.push(name);
      return name;
    },
    async close() {
      for (const name of schemas) await sql`drop schema if exists ${sql.id(name)} cascade`.execute(db);
      await db.destroy();
    },
  };
}
