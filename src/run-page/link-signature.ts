// Signed links to a reviewer's run page: an HMAC-SHA256 over (invoice id, expiry), so a link opens
// one invoice's page until it expires and cannot be forged or pointed at another invoice.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The query parameter carrying the signature: `?sig=<expiry unix seconds>.<hex HMAC>`. */
export const RUN_PAGE_SIGNATURE_PARAM = 'sig';

// One parameter, not `expires=…&sig=…`: an `&` inside a Slack mrkdwn link must be escaped, and some
// Slack clients open such links wrongly.
const SIGNATURE = /^(\d{1,12})\.([0-9a-f]{64})$/;

/** Label of the derived key: a different label would give an unrelated key from the same secret. */
const DERIVED_KEY_LABEL = 'invoice-gate/run-page-links/v1';

export interface LinkKeySource {
  /** GATE_LINK_SECRET, when configured. */
  linkSecret: string | undefined;
  /** The Stripe secret key: both halves (server and worker) always hold it. */
  stripeSecretKey: string;
  /** The Stripe key is the emulator's (STRIPE_SECRET_KEY unset): no secret to derive from. */
  stripeEmbedded: boolean;
}

/** Where the link key comes from: GATE_LINK_SECRET, the (real) Stripe secret key, or this process alone. */
export function linkKeyOrigin(source: LinkKeySource): 'link-secret' | 'stripe-key' | 'random' {
  if (source.linkSecret) return 'link-secret';
  return source.stripeEmbedded ? 'random' : 'stripe-key';
}

/**
 * The key links are signed with: GATE_LINK_SECRET, or else an HMAC of a fixed label under the Stripe
 * secret key. The Stripe key is the one secret every process of the gate has (the worker calls Stripe,
 * the server reads it too), so a worker-only process signs what a server-only process verifies; the
 * derivation is one-way, so the link key reveals nothing about the Stripe key. Rotating the Stripe key
 * ends the links signed before. On the Stripe emulator there is no such secret (its key may be the public
 * default of `npm run emulators`): the key is random, this process's only, and links end with it.
 */
export function runPageLinkKey(source: LinkKeySource): Buffer {
  switch (linkKeyOrigin(source)) {
    case 'link-secret':
      return Buffer.from(source.linkSecret!, 'utf8');
    case 'stripe-key':
      return createHmac('sha256', source.stripeSecretKey).update(DERIVED_KEY_LABEL).digest();
    case 'random':
      return randomBytes(32);
  }
}

function mac(key: Buffer, invoiceId: string, expiresAt: number): Buffer {
  // Invoice ids never contain a newline (INVOICE_ID), so the message is unambiguous.
  return createHmac('sha256', key).update(`${invoiceId}\n${expiresAt}`).digest();
}

/** The signature value for a link to `invoiceId` that works until `expiresAt` (unix seconds). */
export function signRunPageLink(key: Buffer, invoiceId: string, expiresAt: number): string {
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0)
    throw new RangeError(`expiresAt must be a positive whole number of unix seconds, got ${expiresAt}`);
  return `${expiresAt}.${mac(key, invoiceId, expiresAt).toString('hex')}`;
}

/** Whether `signature` (the query value as received) opens `invoiceId`'s page at `nowSeconds`. */
export function verifyRunPageLink(key: Buffer, invoiceId: string, signature: unknown, nowSeconds: number): boolean {
  if (typeof signature !== 'string') return false;
  const parts = SIGNATURE.exec(signature);
  if (!parts) return false;
  const expiresAt = Number(parts[1]);
  if (expiresAt <= nowSeconds) return false;
  // Both 32 bytes (the pattern fixes the length), as timingSafeEqual requires.
  return timingSafeEqual(Buffer.from(parts[2], 'hex'), mac(key, invoiceId, expiresAt));
}
