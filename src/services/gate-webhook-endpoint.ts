// The gate's own webhook endpoint in a Stripe account it manages itself: the Stripe emulator. (In a
// real account the endpoint is created once in the dashboard and its secret is STRIPE_WEBHOOK_SECRET.)
// It is registered before the server listens, so the server gets its signing secret as a plain string;
// when the port is only known once listening (PORT=0), the endpoint is then moved to the real URL.
import type Stripe from 'stripe';
import { GATE_EVENT_TYPES } from '../webhook/stripe-event';

export interface GateWebhookEndpoint {
  /** The endpoint's signing secret (whsec_...). */
  secret: string;
  /** Points the endpoint at the gate's actual base URL (a no-op when it already does). */
  moveTo(gateUrl: string): Promise<void>;
  remove(): Promise<void>;
}

const webhookUrl = (gateUrl: string) => new URL('/webhooks/stripe', gateUrl).href;

export async function registerGateWebhookEndpoint(stripe: Stripe, gateUrl: string): Promise<GateWebhookEndpoint> {
  let url = webhookUrl(gateUrl);
  const endpoint = await stripe.webhookEndpoints.create({
    url,
    enabled_events: GATE_EVENT_TYPES as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
  });
  if (!endpoint.secret) throw new Error(`Stripe returned no signing secret for webhook endpoint ${endpoint.id}`);
  return {
    secret: endpoint.secret,
    async moveTo(nextGateUrl) {
      const next = webhookUrl(nextGateUrl);
      if (next === url) return;
      await stripe.webhookEndpoints.update(endpoint.id, { url: next });
      url = next;
    },
    async remove() {
      await stripe.webhookEndpoints.del(endpoint.id);
    },
  };
}
