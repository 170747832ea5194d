// The links the gate puts in its Slack messages: a reviewer opens the invoice's run page on this
// server with them. Shared by both halves: the worker signs (Slack alerts), the server verifies.
import { RUN_PAGE_SIGNATURE_PARAM, signRunPageLink, verifyRunPageLink } from './link-signature';

/**
 * What a link to the review queue signs in place of an invoice id. Run page links sign invoice ids
 * (`in_…`), so a queue link never opens a run page and no run page link opens the queue.
 */
export const HOLDS_LINK_SUBJECT = 'holds';

/** The review queue's two routes: one signature opens both. */
export type HoldsFormat = 'html' | 'csv';

export interface RunPageLinksOptions {
  key: Buffer;
  /** GATE_PUBLIC_URL: where reviewers reach the server; undefined -> `defaultUrl`, then the server's own. */
  publicUrl: string | undefined;
  /** http://HOST:PORT from the configuration, until the server says where it really listens. */
  defaultUrl: string;
  /** How long a link works (GATE_LINK_EXPIRY). */
  expiryMs: number;
  /** Clock in ms; tests pass their own. */
  now?: () => number;
}

export class RunPageLinks {
  private baseUrl: string;
  private readonly now: () => number;

  constructor(private readonly options: RunPageLinksOptions) {
    this.baseUrl = options.publicUrl ?? options.defaultUrl;
    this.now = options.now ?? Date.now;
  }

  /** The server listens at `url` (PORT=0 picks a port): links use it unless GATE_PUBLIC_URL is set. */
  serverListening(url: string): void {
    if (!this.options.publicUrl) this.baseUrl = url;
  }

  /** A fresh signed link to the invoice's run page, valid for the configured expiry. */
  urlFor(invoiceId: string): string {
    const expiresAt = Math.floor((this.now() + this.options.expiryMs) / 1000);
    const url = new URL(`invoices/${encodeURIComponent(invoiceId)}`, `${this.baseUrl.replace(/\/+$/, '')}/`);
    url.searchParams.set(RUN_PAGE_SIGNATURE_PARAM, signRunPageLink(this.options.key, invoiceId, expiresAt));
    return url.toString();
  }

  /** A fresh signed link to the review queue (GET /holds, or /holds.csv), valid for the configured expiry. */
  holdsUrl(format: HoldsFormat = 'html'): string {
    const expiresAt = Math.floor((this.now() + this.options.expiryMs) / 1000);
    const url = new URL(format === 'csv' ? 'holds.csv' : 'holds', `${this.baseUrl.replace(/\/+$/, '')}/`);
    url.searchParams.set(RUN_PAGE_SIGNATURE_PARAM, signRunPageLink(this.options.key, HOLDS_LINK_SUBJECT, expiresAt));
    return url.toString();
  }

  /** Whether a received signature opens the review queue now. */
  verifyHolds(signature: unknown): boolean {
    return verifyRunPageLink(this.options.key, HOLDS_LINK_SUBJECT, signature, Math.floor(this.now() / 1000));
  }

  /** Whether a received signature opens this invoice's page now. */
  verify(invoiceId: string, signature: unknown): boolean {
    return verifyRunPageLink(this.options.key, invoiceId, signature, Math.floor(this.now() / 1000));
  }
}
