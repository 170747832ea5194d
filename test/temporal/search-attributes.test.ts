import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import {
  ensureSearchAttributes,
  INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS,
  SearchAttributeRegistrationError,
} from '../../src/temporal/search-attributes';
import {
  GateVariancePctKey,
  InvoiceGateStatusKey,
  StripeCustomerIdKey,
  StripeInvoiceIdKey,
} from '../../src/temporal/search-attribute-keys';
import { startFakeFrontend, type FakeFrontend } from './fake-frontend';

// A fake frontend over real gRPC, so the test goes through the SDK's Connection exactly as the
// worker does against Temporal Server. Its OperatorService behaves like the server's: ALREADY_EXISTS
// when an attribute of the request is registered already.
interface FakeOperator {
  custom: Map<string, string>;
  calls: string[];
  /** runs before AddSearchAttributes handles a request: simulates another worker racing us */
  beforeAdd?: () => void;
  refuseAdd?: grpc.status;
}

const fake: FakeOperator = { custom: new Map(), calls: [] };
let frontend: FakeFrontend;
let connection: Connection;

before(async () => {
  frontend = await startFakeFrontend({
    ListSearchAttributes: (call, cb) => {
      fake.calls.push(`list:${call.request.namespace}`);
      cb(null, {
        customAttributes: Object.fromEntries(fake.custom),
        systemAttributes: { WorkflowId: 'INDEXED_VALUE_TYPE_KEYWORD', StartTime: 'INDEXED_VALUE_TYPE_DATETIME' },
        storageSchema: {},
      });
    },
    AddSearchAttributes: (call, cb) => {
      const request = call.request as { namespace: string; searchAttributes: Record<string, string> };
      fake.calls.push(`add:${request.namespace}:${Object.keys(request.searchAttributes).sort().join(',')}`);
      if (fake.refuseAdd !== undefined) {
        cb({ code: fake.refuseAdd, details: 'Request unauthorized.' });
        return;
      }
      fake.beforeAdd?.();
      fake.beforeAdd = undefined;
      for (const name of Object.keys(request.searchAttributes)) {
        if (fake.custom.has(name)) {
          cb({ code: grpc.status.ALREADY_EXISTS, details: `Search attribute ${name} already exists.` });
          return;
        }
      }
      for (const [name, type] of Object.entries(request.searchAttributes)) fake.custom.set(name, type);
      cb(null, {});
    },
  });
  connection = await Connection.connect({ address: frontend.address });
});

after(async () => {
  await connection?.close();
  await frontend?.stop();
});

beforeEach(() => {
  fake.custom = new Map();
  fake.calls = [];
  fake.beforeAdd = undefined;
  fake.refuseAdd = undefined;
});

describe('search attribute keys', () => {
  it('live in a workflow-safe module: it imports nothing but @temporalio/common', () => {
    const source = readFileSync('src/temporal/search-attribute-keys.ts', 'utf8');
    const imports = [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(imports)], ['@temporalio/common']);
  });

  it('are exactly the contract four with their types', () => {
    assert.deepEqual(
      INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, k.type]),
      [
        ['InvoiceGateStatus', 'KEYWORD'],
        ['StripeCustomerId', 'KEYWORD'],
        ['StripeInvoiceId', 'KEYWORD'],
        ['GateVariancePct', 'DOUBLE'],
      ],
    );
    assert.equal(InvoiceGateStatusKey.name, 'InvoiceGateStatus');
    assert.equal(StripeCustomerIdKey.type, 'KEYWORD');
    assert.equal(StripeInvoiceIdKey.type, 'KEYWORD');
    assert.equal(GateVariancePctKey.type, 'DOUBLE');
  });
});

describe('ensureSearchAttributes', () => {
  it('adds all four in one call when none exist, then is a no-op', async () => {
    const first = await ensureSearchAttributes(connection, 'default');
    assert.deepEqual(first, {
      existing: [],
      added: ['InvoiceGateStatus', 'StripeCustomerId', 'StripeInvoiceId', 'GateVariancePct'],
    });
    assert.deepEqual(Object.fromEntries(fake.custom), {
      InvoiceGateStatus: 'INDEXED_VALUE_TYPE_KEYWORD',
      StripeCustomerId: 'INDEXED_VALUE_TYPE_KEYWORD',
      StripeInvoiceId: 'INDEXED_VALUE_TYPE_KEYWORD',
      GateVariancePct: 'INDEXED_VALUE_TYPE_DOUBLE',
    });
    assert.deepEqual(fake.calls, [
      'list:default',
      'add:default:GateVariancePct,InvoiceGateStatus,StripeCustomerId,StripeInvoiceId',
      'list:default',
    ]);

    fake.calls = [];
    const second = await ensureSearchAttributes(connection, 'default');
    assert.deepEqual(second.added, []);
    assert.equal(second.existing.length, 4);
    assert.deepEqual(fake.calls, ['list:default'], 'nothing is added when all exist');
  });

  it('adds only the missing ones', async () => {
    fake.custom.set('InvoiceGateStatus', 'INDEXED_VALUE_TYPE_KEYWORD');
    fake.custom.set('Unrelated', 'INDEXED_VALUE_TYPE_INT');
    const result = await ensureSearchAttributes(connection, 'billing');
    assert.deepEqual(result, {
      existing: ['InvoiceGateStatus'],
      added: ['StripeCustomerId', 'StripeInvoiceId', 'GateVariancePct'],
    });
    assert.ok(fake.calls.includes('add:billing:GateVariancePct,StripeCustomerId,StripeInvoiceId'));
    assert.equal(fake.custom.get('Unrelated'), 'INDEXED_VALUE_TYPE_INT');
  });

  it('tolerates ALREADY_EXISTS when another worker registers some of them concurrently', async () => {
    fake.beforeAdd = () => {
      fake.custom.set('StripeCustomerId', 'INDEXED_VALUE_TYPE_KEYWORD');
      fake.custom.set('GateVariancePct', 'INDEXED_VALUE_TYPE_DOUBLE');
    };
    const result = await ensureSearchAttributes(connection, 'default');
    assert.equal(result.added.length, 4);
    assert.equal(fake.custom.size, 4);
    assert.equal(fake.custom.get('StripeInvoiceId'), 'INDEXED_VALUE_TYPE_KEYWORD');
    assert.equal(fake.custom.get('InvoiceGateStatus'), 'INDEXED_VALUE_TYPE_KEYWORD');
  });

  it('tolerates ALREADY_EXISTS when another worker registered all of them', async () => {
    fake.beforeAdd = () => {
      for (const key of INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS) {
        fake.custom.set(key.name, key.type === 'DOUBLE' ? 'INDEXED_VALUE_TYPE_DOUBLE' : 'INDEXED_VALUE_TYPE_KEYWORD');
      }
    };
    const result = await ensureSearchAttributes(connection, 'default');
    assert.equal(result.added.length, 4);
    assert.equal(fake.calls.filter((c) => c.startsWith('add:')).length, 1);
  });

  it('refuses an attribute registered with another type', async () => {
    fake.custom.set('GateVariancePct', 'INDEXED_VALUE_TYPE_KEYWORD');
    await assert.rejects(
      ensureSearchAttributes(connection, 'default'),
      (err: Error) =>
        err instanceof SearchAttributeRegistrationError &&
        /GateVariancePct exists in namespace default with type INDEXED_VALUE_TYPE_KEYWORD, expected Double/.test(
          err.message,
        ),
    );
    assert.ok(!fake.calls.some((c) => c.startsWith('add:')), 'nothing is added on a type conflict');
  });

  it('explains how to register by hand when the server refuses (e.g. Temporal Cloud)', async () => {
    fake.refuseAdd = grpc.status.PERMISSION_DENIED;
    await assert.rejects(ensureSearchAttributes(connection, 'prod'), (err: Error) => {
      assert.ok(err instanceof SearchAttributeRegistrationError);
      assert.match(err.message, /cannot register search attributes in namespace prod/);
      assert.match(
        err.message,
        /temporal operator search-attribute create --namespace prod --name InvoiceGateStatus --type Keyword/,
      );
      assert.match(err.message, /--name GateVariancePct --type Double/);
      return true;
    });
  });
});
