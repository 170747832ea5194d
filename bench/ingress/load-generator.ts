// The ingress benchmark's client, in its own process so it does not share a core's event loop with the
// server it measures: `count` distinct, signed `invoice.created` events of about 3 KB each, sent over
// `connections` keep-alive connections. A 503 is retried after its Retry-After, as Stripe does, so an
// event's latency runs from its first attempt to its 2xx. Prints one JSON line (LoadResult) and exits.
import { Agent, request } from 'node:http';
import Stripe from 'stripe';

export interface LoadOptions {
  url: string;
  webhookSecret: string;
  connections: number;
  count: number;
  /** Sent first and not counted: JIT, connection pools and caches warm up on them. */
  warmup: number;
  /** Makes event and invoice ids unique across runs against the same Temporal namespace. */
  prefix: string;
}

export interface LoadResult {
  delivered: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers by HTTP status, retried 503s included. */
  statuses: Record<string, number>;
}

const stripe = new Stripe('sk_test_ingress_load_generator');

/** An invoice.created event the size of a real one (Stripe's draft invoice with its lines is ~3 KB). */
function invoiceCreatedEvent(prefix: string, i: number): string {
  const id = `in_${prefix}${i.toString(36).padStart(8, '0')}`;
  const now = Math.floor(Date.now() / 1000);
  const line = (n: number) => ({
    id: `il_${prefix}${i}x${n}`,
    object: 'line_item',
    amount: 1530,
    currency: 'usd',
    description: `Usage: api calls (${n})`,
    period: { start: now - 30 * 86_400, end: now },
    quantity: 1530,
    pricing: { type: 'price_details', price_details: { price: `price_${prefix}${n}`, product: `prod_${n}` } },
  });
  const body = {
    id: `evt_${prefix}${i.toString(36).padStart(8, '0')}`,
    object: 'event',
    api_version: '2025-09-30.clover',
    created: now,
    livemode: false,
    type: 'invoice.created',
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id,
        object: 'invoice',
        status: 'draft',
        customer: `cus_${prefix}${i}`,
        created: now,
        currency: 'usd',
        auto_advance: true,
        automatically_finalizes_at: now + 3600,
        billing_reason: 'subscription_cycle',
        collection_method: 'charge_automatically',
        period_start: now - 30 * 86_400,
        period_end: now,
        subtotal: 4590,
        total: 4590,
        amount_due: 4590,
        lines: {
          object: 'list',
          has_more: false,
          total_count: 3,
          url: `/v1/invoices/${id}/lines`,
          data: [1, 2, 3].map(line),
        },
        metadata: {},
      },
    },
  };
  return JSON.stringify(body);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function run(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const post = (payload: string, signature: string) =>
    new Promise<{ statusCode: number; retryAfter: string | undefined }>((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'stripe-signature': signature,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({
              statusCode: res.statusCode ?? 0,
              retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const statuses: Record<string, number> = {};
  const total = options.warmup + options.count;
  // Signed up front: signing is the sender's cost, not the server's. Stripe's tolerance is 5 minutes.
  const events = Array.from({ length: total }, (_, i) => {
    const payload = invoiceCreatedEvent(options.prefix, i);
    return { payload, signature: stripe.webhooks.generateTestHeaderString({ payload, secret: options.webhookSecret }) };
  });

  const deliver = async (i: number): Promise<number> => {
    const started = performance.now();
    for (;;) {
      const { statusCode, retryAfter } = await post(events[i].payload, events[i].signature);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) return performance.now() - started;
      if (statusCode !== 503) throw new Error(`event ${i}: HTTP ${statusCode}`);
      const retryAfterS = Number(retryAfter ?? 1);
      await new Promise((resolve) => setTimeout(resolve, (Number.isFinite(retryAfterS) ? retryAfterS : 1) * 1000));
    }
  };

  /** Sends events [from, to) with `connections` senders, each taking the next event when it is done. */
  const sendAll = async (from: number, to: number): Promise<number[]> => {
    const latencies: number[] = [];
    let next = from;
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (next < to) latencies.push(await deliver(next++));
      }),
    );
    return latencies;
  };

  await sendAll(0, options.warmup);
  for (const key of Object.keys(statuses)) delete statuses[key];
  const started = performance.now();
  const latencies = await sendAll(options.warmup, total);
  const elapsedMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    delivered: latencies.length,
    elapsedMs,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    statuses,
  };
}

if (require.main === module) {
  run(JSON.parse(process.argv[2]) as LoadOptions).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`load generator: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
