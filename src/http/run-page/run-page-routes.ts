// GET /invoices/:invoiceId?sig=… : the reviewers' run page, opened only by a link the gate signed
// (src/run-page/). Every other request (no, forged or expired signature, another invoice's signature,
// an invoice the gate never saw, an id that is not an invoice id) gets the same 404, which tells nothing.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { InvoiceRecord } from '../../audit/invoice-record';
import { RUN_PAGE_SIGNATURE_PARAM } from '../../run-page/link-signature';
import { INVOICE_ID } from '../../webhook/stripe-event';
import { RUN_PAGE_STYLE_HASH, renderNotFoundPage, renderRunPage, type RunPageInput } from './run-page-view';

export interface RunPageRoutesOptions {
  /** Whether the signature opens this invoice's page now (RunPageLinks.verify). */
  verify(invoiceId: string, signature: unknown): boolean;
  read(invoiceId: string): Promise<InvoiceRecord | null>;
  /** Sentences about Stripe's meter error reports that concern the record's lines; without it, none. */
  meterErrors?: (record: InvoiceRecord) => Promise<string[]>;
  livemode: boolean;
  stripeDashboardUrl?: string;
  temporalRunUrl?: RunPageInput['temporalRunUrl'];
  now?: () => Date;
}

// The page runs no script, loads nothing, and may not be framed; its one stylesheet is allowed by hash.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src '${RUN_PAGE_STYLE_HASH}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return (
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      // The URL carries the signature: it must not travel to Stripe or Temporal as a Referer, nor be cached.
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
  );
}

const NOT_FOUND = renderNotFoundPage();

export const runPageRoutes: FastifyPluginAsync<RunPageRoutesOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());
  app.get<{ Params: { invoiceId: string }; Querystring: Record<string, unknown> }>(
    '/invoices/:invoiceId',
    // The signature is a credential: the gate's logger leaves it out of every request it logs
    // (src/observability/request-log.ts), on this route and any other.
    async (req, reply) => {
      const { invoiceId } = req.params;
      const signature = req.query[RUN_PAGE_SIGNATURE_PARAM];
      if (!INVOICE_ID.test(invoiceId) || !options.verify(invoiceId, signature)) {
        return htmlHeaders(reply).code(404).send(NOT_FOUND);
      }
      const record = await options.read(invoiceId);
      if (!record) return htmlHeaders(reply).code(404).send(NOT_FOUND);
      return htmlHeaders(reply).send(
        renderRunPage({
          record,
          livemode: options.livemode,
          stripeDashboardUrl: options.stripeDashboardUrl,
          temporalRunUrl: options.temporalRunUrl,
          ...(options.meterErrors ? { meterErrors: await options.meterErrors(record) } : {}),
          now: now(),
        }),
      );
    },
  );
};
