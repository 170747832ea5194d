// The ingress benchmark's ceilings, in their own process like the gate: the same Fastify route that
// keeps the raw body, answering at once (`bare`), or after `stripe.webhooks.constructEvent` (`verify`:
// what the gate's server role cannot beat, since it must check every signature). Prints its URL.
import Fastify from 'fastify';
import Stripe from 'stripe';

const [mode, webhookSecret] = process.argv.slice(2);
if (mode !== 'bare' && mode !== 'verify') throw new Error('usage: baseline-server.ts bare|verify <whsec_...>');
const stripe = new Stripe('sk_test_ingress_baseline');

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/webhooks/stripe', async (request, reply) => {
    if (mode === 'verify') {
      const signature = request.headers['stripe-signature'];
      try {
        stripe.webhooks.constructEvent(request.body as Buffer, String(signature), webhookSecret);
      } catch (error) {
        return reply.code(400).send({ error: 'invalid_signature', message: (error as Error).message });
      }
    }
    return { received: true };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`listening on ${url}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
