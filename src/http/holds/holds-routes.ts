// GET /holds and GET /holds.csv: the review queue, opened only by a link the gate signed for it
// (src/run-page/run-page-links.ts, the run page's key and expiry). No, a forged or an expired signature
// gets the run page's 404, which tells nothing; a bad filter on a good link gets a 400 saying what is wrong.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { HOLD_QUEUE_LIMIT, QUEUE_STATUSES, type HoldQueueEntry, type HoldQueueFilter } from '../../audit/hold-queue';
import { RUN_PAGE_SIGNATURE_PARAM } from '../../run-page/link-signature';
import { renderNotFoundPage } from '../run-page/run-page-view';
import { holdsCsv } from './holds-csv';
import { HOLDS_PAGE_STYLE_HASH, renderHoldsPage } from './holds-view';

export interface HoldsRoutesOptions {
  /** Whether the signature opens the queue now (RunPageLinks.verifyHolds). */
  verify(signature: unknown): boolean;
  /** Open holds, oldest first, at most `limit` (HoldQueueReader.list). */
  list(filter: HoldQueueFilter, limit: number): Promise<HoldQueueEntry[]>;
  /** A fresh signed link to an invoice's run page (RunPageLinks.urlFor). */
  runPageUrl: (invoiceId: string) => string;
  now?: () => Date;
}

// Empty form fields mean "any": the filter form sends them.
const FilterQuery = z.object({
  customer: z
    .string()
    .regex(/^(cus_[A-Za-z0-9]{1,255})?$/, 'customer must be a Stripe customer id (cus_…)')
    .optional(),
  status: z
    .union([z.enum(QUEUE_STATUSES), z.literal('')], { error: `status must be one of ${QUEUE_STATUSES.join(', ')}` })
    .optional(),
});

// The page runs no script and may not be framed; its one stylesheet is allowed by hash; its filter form
// submits to this server only.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src '${HOLDS_PAGE_STYLE_HASH}'`,
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function privateHeaders(reply: FastifyReply): FastifyReply {
  return (
    reply
      // The URL carries the signature: it must not travel on as a Referer, nor be cached.
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
  );
}

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return privateHeaders(reply)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY);
}

const NOT_FOUND = renderNotFoundPage();

/** The CSV is for spreadsheets and scripts: it lists every open hold up to this many. */
const HOLDS_CSV_LIMIT = 100_000;

export const holdsRoutes: FastifyPluginAsync<HoldsRoutesOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());

  /** The filter of a signed request, or the reply already sent (404 unsigned, 400 bad filter). */
  async function open(
    query: Record<string, unknown>,
    reply: FastifyReply,
  ): Promise<{ filter: HoldQueueFilter; signature: string } | null> {
    const signature = query[RUN_PAGE_SIGNATURE_PARAM];
    if (typeof signature !== 'string' || !options.verify(signature)) {
      await htmlHeaders(reply).code(404).send(NOT_FOUND);
      return null;
    }
    const parsed = FilterQuery.safeParse({ customer: query.customer, status: query.status });
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => issue.message).join('; ');
      await privateHeaders(reply).code(400).type('text/plain; charset=utf-8').send(`bad filter: ${message}\n`);
      return null;
    }
    const { customer, status } = parsed.data;
    return { filter: { customerId: customer || undefined, status: status || undefined }, signature };
  }

  // The signature is a credential: the gate's logger leaves it out of every request URL it logs
  // (src/observability/request-log.ts).
  app.get<{ Querystring: Record<string, unknown> }>('/holds', async (req, reply) => {
    const opened = await open(req.query, reply);
    if (!opened) return reply;
    // One more than shown, to say when the list is cut.
    const entries = await options.list(opened.filter, HOLD_QUEUE_LIMIT + 1);
    const truncated = entries.length > HOLD_QUEUE_LIMIT;
    return htmlHeaders(reply).send(
      renderHoldsPage({
        entries: truncated ? entries.slice(0, HOLD_QUEUE_LIMIT) : entries,
        filter: opened.filter,
        truncatedAt: truncated ? HOLD_QUEUE_LIMIT : null,
        signature: opened.signature,
        runPageUrl: options.runPageUrl,
        now: now(),
      }),
    );
  });

  app.get<{ Querystring: Record<string, unknown> }>('/holds.csv', async (req, reply) => {
    const opened = await open(req.query, reply);
    if (!opened) return reply;
    const entries = await options.list(opened.filter, HOLDS_CSV_LIMIT);
    const stamp = now().toISOString().slice(0, 19).replaceAll(':', '-');
    return privateHeaders(reply)
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="invoice-gate-holds-${stamp}.csv"`)
      .send(holdsCsv(entries, now()));
  });
};
