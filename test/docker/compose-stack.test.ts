// compose.yaml: the whole stack (temporal-docker/ included as is, plus the gate's server and worker
// from the Dockerfile). No Docker engine in CI: validated with dclint (Compose Specification schema)
// and checked structurally against the included file, the Dockerfile and the contract.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/env';
import { liveKeyOnEmbeddedIssues } from '../../src/config/live-key-guard';
import { mixedServicesIssues } from '../../src/config/mixed-services-guard';
import { REPO_ROOT } from '../support/gate-process';

interface Service {
  build?: { context: string; target: string };
  image?: string;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { disable?: boolean };
  stop_grace_period?: string;
}
interface ComposeFile {
  name: string;
  include?: string[];
  services: Record<string, Service>;
}

const stack = parse(readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8')) as ComposeFile;
const included = parse(readFileSync(join(REPO_ROOT, 'temporal-docker/docker-compose.yml'), 'utf8')) as ComposeFile;
const postgresInit = readFileSync(join(REPO_ROOT, 'temporal-docker/postgres-init/01-invoice-gate.sql'), 'utf8');
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const roles = { 'gate-server': 'server', 'gate-worker': 'worker' } as const;

/** Compose's `${NAME:-default}` / `${NAME:?message}` as the value it takes with `values` set. */
function interpolate(value: string, values: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name: string, kind?: string, rest?: string) => {
    if (values[name]) return values[name];
    if (kind === '?') throw new Error(`${name} is required: ${rest}`);
    return rest ?? '';
  });
}

describe('compose.yaml (the whole stack)', () => {
  it('is a valid Compose file (dclint: Compose Specification schema, no warnings)', () => {
    const result = spawnSync(
      process.execPath,
      ['node_modules/dclint/bin/dclint.cjs', '-f', 'json', '--max-warnings', '0', 'compose.yaml'],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    const report = JSON.parse(result.stdout || '[]') as Array<{ messages: unknown[] }>;
    assert.deepEqual(
      report.flatMap((r) => r.messages),
      [],
    );
    assert.equal(result.status, 0);
  });

  it('includes temporal-docker/ as is and adds the gate server and worker, built from the Dockerfile', () => {
    assert.deepEqual(stack.include, ['temporal-docker/docker-compose.yml']);
    assert.deepEqual(Object.keys(stack.services).sort(), ['gate-server', 'gate-worker']);
    for (const [name, role] of Object.entries(roles)) {
      const service = stack.services[name];
      assert.deepEqual(service.build, { context: '.', target: 'runtime' });
      assert.match(dockerfile, /^FROM \S+ AS runtime$/m);
      assert.deepEqual(service.command, ['node', `dist/src/bin/${role}.js`]);
    }
  });

  it('both roles start after PostgreSQL, Temporal and the search attribute registration', () => {
    for (const name of Object.keys(roles)) {
      const dependsOn = stack.services[name].depends_on ?? {};
      for (const dependency of Object.keys(dependsOn)) assert.ok(dependency in included.services, dependency);
      assert.deepEqual(dependsOn, {
        postgresql: { condition: 'service_healthy' },
        temporal: { condition: 'service_healthy' },
        'temporal-search-attributes': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('points the gate at that Temporal, that PostgreSQL (the database postgres-init creates) and the Web UI', () => {
    const env = stack.services['gate-server'].environment ?? {};
    assert.deepEqual(stack.services['gate-worker'].environment, env);
    const temporal = included.services.temporal.environment ?? {};
    // the address the Web UI and the registration use inside the compose network
    assert.equal(env.TEMPORAL_ADDRESS, included.services['temporal-ui'].environment?.TEMPORAL_ADDRESS);
    assert.equal(env.TEMPORAL_NAMESPACE, temporal.DEFAULT_NAMESPACE);
    assert.equal(env.TEMPORAL_NAMESPACE, included.services['temporal-search-attributes'].environment?.NAMESPACE);
    const pg = included.services.postgresql.environment ?? {};
    // Never as Temporal's superuser: the gate's own role, and the read-only role for the ledger, both
    // created by postgres-init with the passwords the postgresql service passes it.
    const database = new URL(interpolate(env.DATABASE_URL, {}));
    assert.equal(database.hostname, 'postgresql');
    assert.notEqual(database.username, pg.POSTGRES_USER);
    assert.equal(database.username, 'gate_owner');
    assert.equal(database.password, interpolate(pg.INVOICE_GATE_DB_PASSWORD, {}));
    assert.match(postgresInit, new RegExp(`CREATE DATABASE ${database.pathname.slice(1)} OWNER gate_owner;`));
    const ledger = new URL(interpolate(env.LEDGER_DATABASE_URL, {}));
    assert.equal(ledger.username, 'gate_ledger_reader');
    assert.equal(ledger.password, interpolate(pg.INVOICE_GATE_LEDGER_PASSWORD, {}));
    assert.equal(ledger.pathname, database.pathname);
    assert.match(postgresInit, /CREATE ROLE gate_ledger_reader LOGIN PASSWORD :'ledger_password';/);
    assert.equal(
      new URL(interpolate(env.DATABASE_URL, { INVOICE_GATE_DB_PASSWORD: 'fromdotenv' })).password,
      'fromdotenv',
    );
    // the Web UI's published port is where TEMPORAL_UI_URL sends the browser
    const [uiPort] = (included.services['temporal-ui'].ports ?? [])[0].split(':').slice(1);
    assert.equal(interpolate(env.TEMPORAL_UI_URL, {}), `http://localhost:${uiPort}`);
  });

  it('takes the credentials from the environment or .env, requiring what the image cannot default', () => {
    const env = stack.services['gate-server'].environment ?? {};
    const credentials = {
      STRIPE_SECRET_KEY: 'sk_live_fromdotenv',
      STRIPE_WEBHOOK_SECRET: 'whsec_fromdotenv',
      SLACK_BOT_TOKEN: 'xoxb-fromdotenv',
      SLACK_SIGNING_SECRET: 'signing-fromdotenv',
      SLACK_CHANNEL_ID: 'C0FROMENV',
      GATE_PUBLIC_URL: 'https://gate.example.com',
      GATE_LINK_SECRET: 'link-secret-fromdotenv-0123456789abcdef',
      GATE_METRICS_TOKEN: 'metrics-token-fromdotenv-0123456789',
    };
    for (const name of Object.keys(credentials)) {
      assert.match(env[name], new RegExp(`^\\$\\{${name}:\\?`), `${name} is required`);
      const without = { ...credentials, [name]: '' };
      assert.throws(() => Object.values(env).map((v) => interpolate(v, without)), new RegExp(name));
    }
    // interpolated, the environment is a valid configuration with nothing embedded, where even a live key may run
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, credentials)]));
    const config = parseConfig(resolved);
    assert.equal(config.temporal.address, 'temporal:7233');
    assert.ok(config.databaseUrl);
    assert.ok(config.ledgerDatabaseUrl);
    assert.deepEqual(liveKeyOnEmbeddedIssues(config), []);
    assert.deepEqual(mixedServicesIssues(config), []);
    // Slack links name the public address, the run page key and the metrics token are the operator's.
    assert.equal(config.runPage.publicUrl, credentials.GATE_PUBLIC_URL);
    assert.equal(config.runPage.linkSecret, credentials.GATE_LINK_SECRET);
    assert.equal(config.metricsToken, credentials.GATE_METRICS_TOKEN);
  });

  it('publishes the webhook port on localhost only; the worker has no HTTP health check; both get time to drain', () => {
    assert.deepEqual(stack.services['gate-server'].ports, ['127.0.0.1:3000:3000']);
    assert.equal(stack.services['gate-worker'].ports, undefined);
    assert.deepEqual(stack.services['gate-worker'].healthcheck, { disable: true });
    assert.equal(stack.services['gate-server'].healthcheck, undefined, 'the server keeps the image HEALTHCHECK');
    for (const name of Object.keys(roles)) assert.equal(stack.services[name].stop_grace_period, '30s');
  });
});
