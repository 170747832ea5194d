import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { redactSecrets } from '../../src/observability/redact-secrets';
import { createLogger, REDACTED } from '../../src/observability/logger';

test('a line without secrets is passed through as it is (no copy)', () => {
  const line = { invoiceId: 'in_1', nested: { a: 1, list: [{ b: 2 }] } };
  assert.equal(redactSecrets(line, 'X'), line);
});

test('secret-named keys are censored at the top and two levels down, in arrays too; the input is not changed', () => {
  const line = {
    token: 't',
    slack: { botToken: 'b', channel: 'C1' },
    config: { stripe: { secretKey: 'sk', apiUrl: 'u' } },
    headers: [{ authorization: 'Bearer x', accept: '*/*' }],
  };
  const out = redactSecrets(line, 'X');
  assert.deepEqual(out, {
    token: 'X',
    slack: { botToken: 'X', channel: 'C1' },
    config: { stripe: { secretKey: 'X', apiUrl: 'u' } },
    headers: [{ authorization: 'X', accept: '*/*' }],
  });
  assert.equal(line.token, 't');
  assert.equal(line.config.stripe.secretKey, 'sk');
});

test('class instances (errors, dates) are left to their serializers', () => {
  const error = Object.assign(new Error('boom'), { token: 'kept-for-serializer' });
  const line = { err: error, at: new Date(0) };
  assert.equal(redactSecrets(line, 'X'), line);
});

test("the logger censors a child logger's bindings as well as the line", () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  createLogger({ level: 'info' }, stream)
    .child({ apiKey: 'tmprl-secret', invoiceId: 'in_1' })
    .info({ password: 'p' }, 'x');
  const line = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.equal(line.apiKey, REDACTED);
  assert.equal(line.password, REDACTED);
  assert.equal(line.invoiceId, 'in_1');
  assert.ok(!lines[0].includes('tmprl-secret'));
});
