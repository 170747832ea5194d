import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import {
  createLogger,
  gateLogBindings,
  loggerOptions,
  parseLogLevel,
  REDACTED,
  temporalLoggerFromPino,
} from '../../src/observability/logger';

function sink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('levels come from config and are validated', () => {
    assert.equal(loggerOptions().level, 'info');
    assert.equal(loggerOptions({ level: 'DEBUG' }).level, 'debug');
    assert.equal(parseLogLevel(' silent '), 'silent');
    assert.throws(() => parseLogLevel('loud'), /invalid log level "loud"/);
  });

  it('redacts secrets in nested objects and keeps the rest', () => {
    const { lines, stream } = sink();
    const log = createLogger({ level: 'info' }, stream);
    log.info(
      {
        token: 'xoxb-1',
        slack: { botToken: 'xoxb-2', signingSecret: 's1', channel: 'C1' },
        config: { stripe: { secretKey: 'sk_test_1', apiUrl: 'http://x' } },
        apiKey: 'tmprl-key',
        STRIPE_WEBHOOK_SECRET: 'whsec_1',
      },
      'configured',
    );
    const line = lines[0];
    const text = JSON.stringify(line);
    for (const secret of ['xoxb-1', 'xoxb-2', 's1"', 'sk_test_1', 'tmprl-key', 'whsec_1']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.equal(line.token, REDACTED);
    assert.deepEqual(line.slack, { botToken: REDACTED, signingSecret: REDACTED, channel: 'C1' });
    assert.equal((line.config as { stripe: { apiUrl: string } }).stripe.apiUrl, 'http://x');
    assert.equal(line.level, 'info');
    assert.equal(line.service, 'invoice-gate');
    assert.equal(line.msg, 'configured');
  });

  it('redacts signature, authorization and cookie headers in Fastify request logs', async () => {
    const { lines, stream } = sink();
    const app = Fastify({
      loggerInstance: createLogger({ level: 'info' }, stream),
    });
    app.post('/webhooks/stripe', async (req) => {
      req.log.info({ headers: req.headers }, 'headers seen');
      return { ok: true };
    });
    await app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: {
        authorization: 'Bearer abc',
        'stripe-signature': 't=1,v1=deadbeef',
        'x-slack-signature': 'v0=cafe',
        cookie: 'session=xyz',
        'content-type': 'application/json',
      },
      payload: '{}',
    });
    await app.close();
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of ['Bearer abc', 'deadbeef', 'v0=cafe', 'session=xyz'])
      assert.ok(!text.includes(secret), `${secret} leaked`);
    const seen = lines.find((l) => l.msg === 'headers seen') as { headers: Record<string, string> };
    assert.equal(seen.headers['stripe-signature'], REDACTED);
    assert.equal(seen.headers['x-slack-signature'], REDACTED);
    assert.equal(seen.headers.authorization, REDACTED);
    assert.equal(seen.headers.cookie, REDACTED);
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.ok(
      lines.some((l) => l.msg === 'incoming request'),
      'Fastify request logging goes through the same logger',
    );
  });

  it('the options work as Fastify logger options', async () => {
    const app = Fastify({ logger: loggerOptions({ level: 'warn' }) });
    app.get('/', async () => 'ok');
    assert.equal((await app.inject('/')).body, 'ok');
    assert.equal(app.log.level, 'warn');
    await app.close();
  });

  it('gate bindings put invoice and workflow id on every line of a child logger', () => {
    const { lines, stream } = sink();
    const log = createLogger({}, stream).child(gateLogBindings('in_123', 'invoice-gate-in_123'));
    log.info('held');
    log.warn('still held');
    assert.deepEqual(gateLogBindings('in_1', 'wf'), { invoiceId: 'in_1', workflowId: 'wf' });
    for (const line of lines) {
      assert.equal(line.invoiceId, 'in_123');
      assert.equal(line.workflowId, 'invoice-gate-in_123');
    }
    assert.equal(lines.length, 2);
  });

  it('adapts pino to the Temporal SDK logger', () => {
    const { lines, stream } = sink();
    const logger = temporalLoggerFromPino(createLogger({ level: 'debug' }, stream));
    logger.info('Worker started', { taskQueue: 'invoice-gate', sdkComponent: 'worker' });
    logger.log('WARN', 'slow poll');
    logger.trace('hidden at debug level');
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.taskQueue]),
      [
        ['info', 'Worker started', 'invoice-gate'],
        ['warn', 'slow poll', undefined],
      ],
    );
  });
});
