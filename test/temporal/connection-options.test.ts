import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalReadinessCheck } from '../../src/temporal/readiness';
import { startFakeFrontend } from './fake-frontend';
import { buildTemporalConnectionOptions, TemporalConnectionConfigError } from '../../src/temporal/connection-options';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n';
let dir: string;
let certPath: string;
let keyPath: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'temporal-conn-'));
  certPath = join(dir, 'client.pem');
  keyPath = join(dir, 'client.key');
  writeFileSync(certPath, CERT);
  writeFileSync(keyPath, KEY);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('buildTemporalConnectionOptions', () => {
  it('plain: address only, TLS off, no credentials', () => {
    const options = buildTemporalConnectionOptions({ address: 'localhost:7233', namespace: 'default' });
    assert.equal(options.mode, 'plain');
    assert.equal(options.namespace, 'default');
    assert.deepEqual(options.client, { address: 'localhost:7233', tls: false });
    assert.deepEqual(options.worker, { address: 'localhost:7233', tls: false });
    assert.equal(options.description, 'Temporal localhost:7233 namespace default (plain connection)');
  });

  it('treats blank optional settings as unset', () => {
    const options = buildTemporalConnectionOptions({
      address: ' localhost:7233 ',
      namespace: 'default',
      apiKey: '  ',
      tlsCertPath: '',
      tlsKeyPath: '',
    });
    assert.equal(options.mode, 'plain');
    assert.equal(options.client.address, 'localhost:7233');
  });

  it('mTLS: reads certificate and key once and shares them between client and worker', () => {
    const reads: string[] = [];
    const options = buildTemporalConnectionOptions(
      { address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', tlsCertPath: certPath, tlsKeyPath: keyPath },
      (path) => {
        reads.push(path);
        return Buffer.from(path === certPath ? CERT : KEY);
      },
    );
    assert.equal(options.mode, 'mtls');
    assert.deepEqual(reads, [certPath, keyPath]);
    const tls = options.client.tls as { clientCertPair: { crt: Buffer; key: Buffer } };
    assert.equal(tls.clientCertPair.crt.toString(), CERT);
    assert.equal(tls.clientCertPair.key.toString(), KEY);
    assert.deepEqual(options.worker.tls, options.client.tls);
    assert.equal(options.client.apiKey, undefined);
    assert.equal(options.client.metadata, undefined);
    assert.match(options.description, /mTLS with .*client\.pem/);
  });

  it('mTLS from real files', () => {
    const options = buildTemporalConnectionOptions({
      address: 'temporal:7233',
      namespace: 'prod',
      tlsCertPath: certPath,
      tlsKeyPath: keyPath,
    });
    const tls = options.worker.tls as { clientCertPair: { crt: Buffer; key: Buffer } };
    assert.equal(tls.clientCertPair.crt.toString(), CERT);
  });

  it('API key: TLS on, key and temporal-namespace metadata for both client and worker', () => {
    const options = buildTemporalConnectionOptions({
      address: 'us-east-1.aws.api.temporal.io:7233',
      namespace: 'billing.a1b2c',
      apiKey: 'secret-key',
    });
    assert.equal(options.mode, 'api-key');
    for (const side of [options.client, options.worker]) {
      assert.equal(side.tls, true);
      assert.equal(side.apiKey, 'secret-key');
      assert.deepEqual(side.metadata, { 'temporal-namespace': 'billing.a1b2c' });
    }
    assert.notEqual(options.client.metadata, options.worker.metadata, 'each side gets its own metadata object');
    assert.ok(!options.description.includes('secret-key'), 'the description never shows the key');
    assert.match(options.description, /TLS with API key/);
  });

  it('API key together with a client certificate', () => {
    const options = buildTemporalConnectionOptions({
      address: 'x:7233',
      namespace: 'n',
      apiKey: 'k',
      tlsCertPath: certPath,
      tlsKeyPath: keyPath,
    });
    assert.equal(options.mode, 'mtls+api-key');
    assert.equal(options.client.apiKey, 'k');
    assert.ok((options.client.tls as { clientCertPair?: unknown }).clientCertPair);
  });

  it('rejects half an mTLS configuration, unreadable or non-PEM files, empty address or namespace', () => {
    assert.throws(
      () => buildTemporalConnectionOptions({ address: 'x:7233', namespace: 'n', tlsCertPath: certPath }),
      /needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY; only TEMPORAL_TLS_CERT is set/,
    );
    assert.throws(
      () => buildTemporalConnectionOptions({ address: 'x:7233', namespace: 'n', tlsKeyPath: keyPath }),
      /only TEMPORAL_TLS_KEY is set/,
    );
    assert.throws(
      () =>
        buildTemporalConnectionOptions({
          address: 'x:7233',
          namespace: 'n',
          tlsCertPath: join(dir, 'missing.pem'),
          tlsKeyPath: keyPath,
        }),
      (err: Error) =>
        err instanceof TemporalConnectionConfigError &&
        /TEMPORAL_TLS_CERT: cannot read .*missing\.pem/.test(err.message),
    );
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    assert.throws(
      () =>
        buildTemporalConnectionOptions({
          address: 'x:7233',
          namespace: 'n',
          tlsCertPath: certPath,
          tlsKeyPath: notPem,
        }),
      /TEMPORAL_TLS_KEY: .*not\.pem is not a PEM file/,
    );
    assert.throws(
      () => buildTemporalConnectionOptions({ address: ' ', namespace: 'n' }),
      TemporalConnectionConfigError,
    );
    assert.throws(
      () => buildTemporalConnectionOptions({ address: 'x:7233', namespace: '' }),
      TemporalConnectionConfigError,
    );
  });

  it('the client options are accepted by Connection (lazy, no server needed)', async () => {
    const options = buildTemporalConnectionOptions({ address: '127.0.0.1:1', namespace: 'n', apiKey: 'k' });
    const connection = Connection.lazy(options.client);
    assert.ok(connection.workflowService);
    await connection.close();
  });
});

describe('connecting with the built options', () => {
  it('plain options connect both the client (grpc-js) and the worker (Rust core)', async () => {
    const frontend = await startFakeFrontend();
    try {
      const options = buildTemporalConnectionOptions({ address: frontend.address, namespace: 'default' });
      const client = await Connection.connect(options.client);
      const worker = await NativeConnection.connect(options.worker);
      await worker.close();
      await client.close();
      assert.ok(
        frontend.metadata.filter((m) => m.method === 'GetSystemInfo').length >= 2,
        'both sides reached the server',
      );
      for (const call of frontend.metadata) assert.equal(call.metadata.authorization, undefined);
    } finally {
      await frontend.stop();
    }
  });
});

describe('temporalReadinessCheck', () => {
  it('resolves when the namespace answers, rejects with the reason otherwise, and honours its deadline', async () => {
    const frontend = await startFakeFrontend();
    const connection = await Connection.connect({ address: frontend.address });
    try {
      await temporalReadinessCheck(connection, 'default')();
      await assert.rejects(
        temporalReadinessCheck(connection, 'billing')(),
        /Temporal namespace billing: Namespace billing is not found\./,
      );
      frontend.describeDelayMs = 1000;
      const started = Date.now();
      await assert.rejects(
        temporalReadinessCheck(connection, 'default', 100)(),
        /Temporal namespace default: .*[Dd]eadline/,
      );
      assert.ok(Date.now() - started < 900, 'the gRPC deadline ended the call');
    } finally {
      frontend.describeDelayMs = 0;
      await connection.close();
      await frontend.stop();
    }
  });

  it('rejects when the server is gone', async () => {
    const frontend = await startFakeFrontend();
    const connection = await Connection.connect({ address: frontend.address });
    await frontend.stop();
    try {
      await assert.rejects(temporalReadinessCheck(connection, 'default', 500)(), /Temporal namespace default:/);
    } finally {
      await connection.close();
    }
  });
});
