// The Stripe API emulator as a library: startStripeEmulator({ port }) -> { url, apiKey, admin, stop }.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Admin } from './admin';
import { StripeEmulatorAdmin } from './admin-client';
import { onInvoiceCreatedDelivered } from './billing';
import { STRIPE_EMULATOR_DEFAULTS } from './defaults';
import { Faults } from './faults';
import { ApiServer } from './server';
import { ThinEvents } from './thin-events';
import { WebhookDeliverer } from './webhooks';
import { DEFAULT_BILLING_SETTINGS, World, type BillingSettings } from './world';

export { StripeEmulatorAdmin } from './admin-client';
export { STRIPE_EMULATOR_DEFAULTS } from './defaults';
export type * from './admin-client';
export { signPayload } from './webhooks';

export interface StripeEmulatorOptions {
  /** 0 = a random free port (tests). Default STRIPE_EMULATOR_DEFAULTS.port. */
  port?: number;
  host?: string;
  /** The secret key clients must send. Default STRIPE_EMULATOR_DEFAULTS.apiKey. */
  apiKey?: string;
  /** First webhook retry delay; doubles per attempt. Default 200 ms. */
  webhookRetryBaseMs?: number;
  /** How often due billing actions run on the wall clock. Default 250 ms. */
  tickMs?: number;
  /** Finalization grace period, 72 h fallback, automatic payment delay (emulated seconds); Stripe's by default. */
  billing?: Partial<BillingSettings>;
  /**
   * How often the meter events rejected since the last report are sent as meter error reports (thin
   * events); 0: only when asked (admin `reportMeterErrors`). Default 1000 ms.
   */
  meterErrorReportMs?: number;
  log?: (msg: string) => void;
}

export interface StripeEmulator {
  /** e.g. 'http://127.0.0.1:12111' (the STRIPE_API_URL). */
  url: string;
  port: number;
  apiKey: string;
  admin: StripeEmulatorAdmin;
  stop(): Promise<void>;
}

/**
 * The `stripe` package has no base-URL option: split a STRIPE_API_URL such as
 * 'http://127.0.0.1:12111' into its host/port/protocol config (the URL must have no path).
 */
export function stripeConnectionOptions(baseUrl: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const u = new URL(baseUrl);
  if (u.pathname !== '/' && u.pathname !== '') throw new Error(`Stripe API base URL must not have a path: ${baseUrl}`);
  const protocol = u.protocol === 'http:' ? 'http' : 'https';
  return { host: u.hostname, port: u.port ? Number(u.port) : protocol === 'http' ? 80 : 443, protocol };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startStripeEmulator(opts: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const host = opts.host ?? STRIPE_EMULATOR_DEFAULTS.host;
  const apiKey = opts.apiKey ?? STRIPE_EMULATOR_DEFAULTS.apiKey;
  const log = opts.log ?? (() => undefined);
  const world = new World({ ...DEFAULT_BILLING_SETTINGS, ...opts.billing });
  const hooks = new WebhookDeliverer(
    world,
    opts.webhookRetryBaseMs ?? 200,
    (event) => {
      if (event.type === 'invoice.created') onInvoiceCreatedDelivered(world, event);
    },
    log,
  );
  const faults = new Faults();
  const api = new ApiServer(world, faults, apiKey, (t) => hooks.hasSubscribers(t));
  const thin = new ThinEvents(world, apiKey, opts.webhookRetryBaseMs ?? 200, log);
  const admin = new Admin(world, api, faults, hooks, thin);

  const server = createServer((req, res) => {
    readBody(req)
      .then((body) =>
        (req.url ?? '').startsWith('/_emulator')
          ? admin.handle(req, res, body)
          : (req.url ?? '').startsWith('/v2/')
            ? thin.handle(req, res, body)
            : api.handle(req, res, body),
      )
      .catch((err: Error) => {
        log(`stripe emulator: ${err.stack ?? err.message}`);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? STRIPE_EMULATOR_DEFAULTS.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;

  const ticker = setInterval(() => {
    try {
      admin.tick();
    } catch (err) {
      log(`stripe emulator tick: ${(err as Error).message}`);
    }
  }, opts.tickMs ?? 250);
  ticker.unref();
  const reportEvery = opts.meterErrorReportMs ?? 1000;
  const reporter = reportEvery > 0 ? setInterval(() => thin.report(), reportEvery) : null;
  reporter?.unref();

  return {
    url,
    port,
    apiKey,
    admin: new StripeEmulatorAdmin(url),
    async stop() {
      clearInterval(ticker);
      if (reporter) clearInterval(reporter);
      hooks.stop();
      thin.reset();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
