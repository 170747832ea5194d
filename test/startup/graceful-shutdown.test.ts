// SIGTERM drains: a webhook already in flight when the signal comes is answered (and its gate
// started), then the process exits 0. This is what `docker stop` and Kubernetes do to the server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import Stripe from 'stripe';
import { startTemporalEmulator, type TemporalEmulator } from '../../emulators/temporal';
import { createScratchDatabase, startGateProcess, TSX_LOADER } from '../support/gate-process';

const WEBHOOK_SECRET = 'whsec_graceful_shutdown';
const stripe = new Stripe('sk_test_unused');

let temporal: TemporalEmulator;
let database: { url: string; drop(): Promise<void> };
before(async () => {
  [temporal, database] = await Promise.all([startTemporalEmulator({ port: 0 }), createScratchDatabase('gate_sigterm')]);
});
after(async () => {
  await temporal?.stop();
  await database?.drop();
});

/** Sends the headers and half of the body now; `finish()` sends the rest and resolves with the answer. */
function slowPost(url: string, body: string, headers: Record<string, string>) {
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  const req = request(`${url}/webhooks/stripe`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(bytes.length) },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  req.write(bytes.subarray(0, half));
  return {
    finish() {
      req.end(bytes.subarray(half));
      return answered;
    },
  };
}

test(
  'SIGTERM: the in-flight webhook is answered and its gate started, then the server exits 0',
  { timeout: 120_000 },
  async () => {
    const gate = startGateProcess(['--import', TSX_LOADER, 'src/bin/server.ts'], {
      PORT: '0',
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'invoice-gate-sigterm',
      STRIPE_SECRET_KEY: 'sk_test_graceful',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: 'http://127.0.0.1:1',
      SLACK_BOT_TOKEN: 'xoxb-graceful',
      SLACK_SIGNING_SECRET: 'graceful-signing-secret',
      SLACK_CHANNEL_ID: 'C0GRACEFUL',
      SLACK_API_URL: 'http://127.0.0.1:1/api/',
    });
    try {
      const url = await gate.waitForUrl(90_000);
      const payload = JSON.stringify({
        id: 'evt_in_flight',
        object: 'event',
        type: 'invoice.created',
        created: 1,
        livemode: false,
        data: {
          object: { id: 'in_InFlight1', object: 'invoice', status: 'draft', customer: 'cus_1', livemode: false },
        },
      });
      const inFlight = slowPost(url, payload, {
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      gate.child.kill('SIGTERM');
      await gate.waitForLine(/"msg":"shutting down"/, 10_000);
      const answer = await inFlight.finish();
      assert.equal(answer.status, 200, `${answer.body}\n${gate.output()}`);
      assert.deepEqual(JSON.parse(answer.body), { received: true, result: 'started' });

      const exit = await gate.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, gate.output());
      const connection = await Connection.connect({ address: temporal.address });
      try {
        const described = await new Client({ connection }).workflow.getHandle('invoice-gate-in_InFlight1').describe();
        assert.equal(described.taskQueue, 'invoice-gate-sigterm');
      } finally {
        await connection.close();
      }
    } finally {
      gate.child.kill('SIGKILL');
    }
  },
);
