// Connection options for the Temporal client (grpc-js `Connection`) and the worker (Rust core
// `NativeConnection`), built once from the contract's TEMPORAL_* settings so both halves always
// connect the same way: plain (local server, emulator), mTLS (self-hosted, Temporal Cloud with
// certificates) or API key (Temporal Cloud).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalConnectionInput {
  /** host:port of the frontend, e.g. `localhost:7233` or `my-ns.a1b2c.tmprl.cloud:7233` */
  address: string;
  namespace: string;
  /** Temporal Cloud API key (TEMPORAL_API_KEY) */
  apiKey?: string;
  /** PEM client certificate for mTLS (TEMPORAL_TLS_CERT) */
  tlsCertPath?: string;
  /** PEM private key for mTLS (TEMPORAL_TLS_KEY) */
  tlsKeyPath?: string;
}

export type TemporalConnectionMode = 'plain' | 'mtls' | 'api-key' | 'mtls+api-key';

export interface TemporalConnectionOptions {
  mode: TemporalConnectionMode;
  namespace: string;
  /** for `Connection.connect` from @temporalio/client */
  client: ConnectionOptions;
  /** for `NativeConnection.connect` from @temporalio/worker */
  worker: NativeConnectionOptions;
  /** one line for the startup log, without secrets */
  description: string;
}

export class TemporalConnectionConfigError extends Error {
  override name = 'TemporalConnectionConfigError';
}

/**
 * Builds client and worker connection options. Certificate and key files are read here, once.
 * With an API key TLS is always on and the namespace travels as `temporal-namespace` metadata,
 * which Temporal Cloud needs to route API-key requests (harmless elsewhere).
 */
export function buildTemporalConnectionOptions(
  input: TemporalConnectionInput,
  readFile: (path: string) => Buffer = (path) => readFileSync(path),
): TemporalConnectionOptions {
  const address = input.address.trim();
  const namespace = input.namespace.trim();
  if (address === '') throw new TemporalConnectionConfigError('Temporal address is empty');
  if (namespace === '') throw new TemporalConnectionConfigError('Temporal namespace is empty');
  const apiKey = input.apiKey?.trim() || undefined;
  const certPath = input.tlsCertPath?.trim() || undefined;
  const keyPath = input.tlsKeyPath?.trim() || undefined;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new TemporalConnectionConfigError(
      'mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY; only ' +
        (certPath ? 'TEMPORAL_TLS_CERT' : 'TEMPORAL_TLS_KEY') +
        ' is set',
    );
  }

  let clientCertPair: { crt: Buffer; key: Buffer } | undefined;
  if (certPath && keyPath) {
    clientCertPair = {
      crt: readPem(readFile, certPath, 'TEMPORAL_TLS_CERT'),
      key: readPem(readFile, keyPath, 'TEMPORAL_TLS_KEY'),
    };
  }

  const mode: TemporalConnectionMode = clientCertPair
    ? apiKey
      ? 'mtls+api-key'
      : 'mtls'
    : apiKey
      ? 'api-key'
      : 'plain';
  const tls = clientCertPair ? { clientCertPair } : apiKey ? true : false;
  const metadata: Record<string, string> | undefined = apiKey ? { 'temporal-namespace': namespace } : undefined;

  const client: ConnectionOptions = { address, tls };
  const worker: NativeConnectionOptions = { address, tls };
  if (apiKey) {
    client.apiKey = apiKey;
    client.metadata = { ...metadata };
    worker.apiKey = apiKey;
    worker.metadata = { ...metadata };
  }

  const how = {
    plain: 'plain connection',
    mtls: `mTLS with ${certPath}`,
    'api-key': 'TLS with API key',
    'mtls+api-key': `mTLS with ${certPath} and API key`,
  }[mode];
  return { mode, namespace, client, worker, description: `Temporal ${address} namespace ${namespace} (${how})` };
}

function readPem(readFile: (path: string) => Buffer, path: string, variable: string): Buffer {
  let content: Buffer;
  try {
    content = readFile(path);
  } catch (err) {
    throw new TemporalConnectionConfigError(`${variable}: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!content.toString('utf8').includes('-----BEGIN')) {
    throw new TemporalConnectionConfigError(`${variable}: ${path} is not a PEM file`);
  }
  return content;
}
