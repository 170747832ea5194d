// Shared test setup: an emulator on a random port, a real `stripe` client pointed at it by a
// plain base URL (as STRIPE_API_URL is given), and a webhook receiver that records deliveries.
import { after, before } from 'node:test';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startStripeEmulator, stripeConnectionOptions, type StripeEmulator } from '../../../emulators/stripe/index';

export function stripeClient(baseUrl: string, apiKey: string, extra: Partial<Stripe.StripeConfig> = {}): Stripe {
  return new Stripe(apiKey, { ...stripeConnectionOptions(baseUrl), ...extra });
}

export async function startAll(): Promise<{ emulator: StripeEmulator; stripe: Stripe }> {
  const emulator = await startStripeEmulator({ port: 0, webhookRetryBaseMs: 20 });
  return { emulator, stripe: stripeClient(emulator.url, emulator.apiKey) };
}

export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer with, per request (default 200). */
  respond: (r: Received) => number;
  close(): Promise<void>;
  waitFor(predicate: (all: Received[]) => boolean, timeoutMs?: number): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Partial<Receiver> = { received, respond: () => 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, at: Date.now() };
      received.push(r);
      res.statusCode = receiver.respond!(r);
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${port}/webhooks/stripe`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  receiver.waitFor = async (predicate, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${received.length} deliveries`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return receiver as Receiver;
}

export function eventTypes(received: Received[]): string[] {
  return received.map((r) => (JSON.parse(r.body) as { type: string }).type);
}

/**
 * The usual file setup: an emulator with an SDK client, and a webhook receiver, started before the
 * file's tests and stopped after them. Read `suite.emulator`, `suite.stripe`, `suite.receiver` in tests.
 */
export function useEmulatorWithReceiver(): {
  readonly emulator: StripeEmulator;
  readonly stripe: Stripe;
  readonly receiver: Receiver;
} {
  let started: { emulator: StripeEmulator; stripe: Stripe; receiver: Receiver } | undefined;
  before(async () => {
    const { emulator, stripe } = await startAll();
    started = { emulator, stripe, receiver: await startReceiver() };
  });
  after(async () => {
    await started?.emulator.stop();
    await started?.receiver.close();
  });
  const get = () => {
    if (!started) throw new Error('the suite has not started');
    return started;
  };
  return {
    get emulator() {
      return get().emulator;
    },
    get stripe() {
      return get().stripe;
    },
    get receiver() {
      return get().receiver;
    },
  };
}
