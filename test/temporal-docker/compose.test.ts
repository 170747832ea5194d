import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS } from '../../src/temporal/search-attribute-keys';
import { cliTypeName } from '../../src/temporal/search-attributes';

const DIR = 'temporal-docker';
const COMPOSE_PATH = join(DIR, 'docker-compose.yml');
const composeText = readFileSync(COMPOSE_PATH, 'utf8');

interface Service {
  image: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[]; interval: string; retries: number };
  entrypoint?: string[];
  command?: string[];
  restart?: string;
}
const compose = parse(composeText) as {
  name: string;
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

/** dclint validates against the Compose Specification JSON schema (plus lint rules). */
function dclint(path: string): {
  status: number | null;
  messages: Array<{ rule: string; severity: string; message: string }>;
} {
  const result = spawnSync(
    process.execPath,
    ['node_modules/dclint/bin/dclint.cjs', '-f', 'json', '--max-warnings', '0', path],
    {
      encoding: 'utf8',
    },
  );
  const report = JSON.parse(result.stdout || '[]') as Array<{
    messages: Array<{ rule: string; severity: string; message: string }>;
  }>;
  return { status: result.status, messages: report.flatMap((r) => r.messages) };
}

describe('temporal-docker/docker-compose.yml', () => {
  it('is a valid Compose file (dclint: Compose Specification schema, no warnings)', () => {
    const { status, messages } = dclint(COMPOSE_PATH);
    assert.deepEqual(messages, []);
    assert.equal(status, 0);
  });

  it('the validator does reject an invalid Compose file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      writeFileSync(broken, composeText.replace('    depends_on:\n', '    depend_on:\n'));
      const { status, messages } = dclint(broken);
      assert.equal(status, 1);
      assert.ok(
        messages.some((m) => m.rule === 'invalid-schema'),
        JSON.stringify(messages),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has PostgreSQL, Temporal (auto-setup), the Web UI and the search attribute registration', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'postgresql',
      'temporal',
      'temporal-search-attributes',
      'temporal-ui',
    ]);
    assert.match(compose.services.temporal.image, /^temporalio\/auto-setup:/);
    assert.match(compose.services['temporal-ui'].image, /^temporalio\/ui:/);
    assert.match(compose.services['temporal-search-attributes'].image, /^temporalio\/admin-tools:/);
    assert.match(compose.services.postgresql.image, /^postgres:/);
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const tag = service.image.split(':')[1];
      assert.ok(tag && /^\d+\.\d+/.test(tag), `${name} image ${service.image} is not pinned to a version`);
    }
  });

  it('publishes Temporal on 7233 and the Web UI on 8233 (the contract default TEMPORAL_UI_URL), on localhost only', () => {
    assert.deepEqual(compose.services.temporal.ports, ['127.0.0.1:7233:7233']);
    assert.deepEqual(compose.services['temporal-ui'].ports, ['127.0.0.1:8233:8080']);
    assert.equal(compose.services['temporal-ui'].environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(compose.services['temporal-ui'].environment?.TEMPORAL_UI_PORT, '8080');
    for (const service of Object.values(compose.services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/);
    }
  });

  it('uses PostgreSQL persistence and SQL visibility with the mounted dynamic config', () => {
    const env = compose.services.temporal.environment ?? {};
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.equal(env.POSTGRES_USER, compose.services.postgresql.environment?.POSTGRES_USER);
    assert.equal(env.POSTGRES_PWD, compose.services.postgresql.environment?.POSTGRES_PASSWORD);
    assert.notEqual(env.ENABLE_ES, 'true');
    assert.equal(env.DYNAMIC_CONFIG_FILE_PATH, 'config/dynamicconfig/development-sql.yaml');
    assert.ok(compose.services.temporal.volumes?.includes('./dynamicconfig:/etc/temporal/config/dynamicconfig'));
    const dynamicConfig = parse(readFileSync(join(DIR, 'dynamicconfig/development-sql.yaml'), 'utf8')) as Record<
      string,
      Array<{ value: unknown }>
    >;
    assert.equal(dynamicConfig['system.forceSearchAttributesCacheRefreshOnRead'][0].value, true);
    // auto-setup only creates the main database when its name differs from the user; the
    // PostgreSQL image creates a database named after the user unless POSTGRES_DB says otherwise
    const pgEnv = compose.services.postgresql.environment ?? {};
    assert.ok(pgEnv.POSTGRES_DB === undefined || pgEnv.POSTGRES_DB === pgEnv.POSTGRES_USER);
    assert.ok(compose.services.postgresql.volumes?.some((v) => v.startsWith('temporal-postgres-data:')));
    assert.ok('temporal-postgres-data' in compose.volumes);
    assert.ok(existsSync(join(DIR, 'postgres-init/01-invoice-gate.sql')));
  });

  it('orders start-up with depends_on conditions and healthchecks', () => {
    const s = compose.services;
    assert.deepEqual(s.temporal.depends_on, { postgresql: { condition: 'service_healthy' } });
    assert.deepEqual(s['temporal-ui'].depends_on, { temporal: { condition: 'service_healthy' } });
    assert.deepEqual(s['temporal-search-attributes'].depends_on, { temporal: { condition: 'service_healthy' } });
    assert.match(s.postgresql.healthcheck!.test.join(' '), /pg_isready/);
    assert.deepEqual(s.temporal.healthcheck!.test.slice(0, 5), [
      'CMD',
      'temporal',
      'operator',
      'namespace',
      'describe',
    ]);
    assert.ok(s.temporal.healthcheck!.test.includes(s.temporal.environment!.DEFAULT_NAMESPACE));
  });

  it('registers exactly the contract search attributes, with their types, in the gate namespace', () => {
    const service = compose.services['temporal-search-attributes'];
    assert.deepEqual(service.entrypoint, ['/bin/sh', '-c']);
    const script = (service.command ?? []).join('\n');
    const registered = [...script.matchAll(/^\s*register (\S+) (\S+)\s*$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      registered,
      INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, cliTypeName(k.type)]),
    );
    assert.match(
      script,
      /temporal operator search-attribute create --namespace "\$\$NAMESPACE" --name "\$\$1" --type "\$\$2"/,
    );
    assert.equal(service.environment?.NAMESPACE, compose.services.temporal.environment?.DEFAULT_NAMESPACE);
    assert.equal(service.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(compose.services.temporal.environment?.SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES, 'true');
  });

  it('README explains how to run the gate against it', () => {
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    assert.match(readme, /TEMPORAL_ADDRESS=localhost:7233 npm start/);
    assert.match(readme, /http:\/\/localhost:8233/);
    assert.match(readme, /InvoiceGateStatus="held"/);
  });
});
