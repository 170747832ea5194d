// The gate's own event destination for Stripe's thin (v2) events in a Stripe account it manages
// itself: the Stripe emulator. (In a real account it is created once in the Dashboard or API, and its
// signing secret is STRIPE_THIN_WEBHOOK_SECRET.) Registered before the server listens, moved to the
// real URL once it is known, removed at stop, as the classic webhook endpoint is.
import type Stripe from 'stripe';
import { METER_ERROR_EVENT_TYPES } from '../webhook/meter-error-report';
import { STRIPE_THIN_WEBHOOK_PATH } from '../webhook/stripe-thin-webhook';

export interface GateEventDestination {
  /** The destination's signing secret (whsec_...). */
  secret: string;
  moveTo(gateUrl: string): Promise<void>;
  remove(): Promise<void>;
}

const thinUrl = (gateUrl: string) => new URL(STRIPE_THIN_WEBHOOK_PATH, gateUrl).href;

export async function registerGateEventDestination(stripe: Stripe, gateUrl: string): Promise<GateEventDestination> {
  let url = thinUrl(gateUrl);
  const params = {
    name: 'invoice-gate meter error reports',
    type: 'webhook_endpoint' as const,
    event_payload: 'thin' as const,
    enabled_events: [...METER_ERROR_EVENT_TYPES],
    include: ['webhook_endpoint.signing_secret'],
  };
  const destination = await stripe.v2.core.eventDestinations.create({ ...params, webhook_endpoint: { url } });
  const secret = destination.webhook_endpoint?.signing_secret;
  if (!secret) throw new Error(`Stripe returned no signing secret for event destination ${destination.id}`);
  return {
    secret,
    async moveTo(nextGateUrl) {
      const next = thinUrl(nextGateUrl);
      if (next === url) return;
      await stripe.v2.core.eventDestinations.update(destination.id, { webhook_endpoint: { url: next } });
      url = next;
    },
    async remove() {
      await stripe.v2.core.eventDestinations.del(destination.id);
    },
  };
}
