// GET /: what this service is, for whoever opens its address in a browser, with its operational endpoints.
import type { FastifyPluginAsync } from 'fastify';
import { html } from './run-page/html';

const HOME_PAGE = html`<!doctype html>
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>invoice-gate</title>
    </head>
    <body>
      <h1>invoice-gate</h1>
      <p>
        Gates Stripe usage-based invoices: each draft invoice's metered quantities are recounted in the usage ledger
        before Stripe finalizes it; a diverging invoice is paused and reviewers decide in Slack.
      </p>
      <ul>
        <li><a href="/healthz">/healthz</a>: liveness</li>
        <li><a href="/readyz">/readyz</a>: readiness (Temporal and the database reachable)</li>
        <li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
      </ul>
      <p>
        Stripe sends its events to <code>POST /webhooks/stripe</code>, Slack its button clicks to
        <code>POST /slack/interactions</code>. Reviewers open an invoice's run page through the signed link in its Slack
        alert.
      </p>
    </body>
  </html> `.text;

export const homePage: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; base-uri 'none'; form-action 'none'")
      .send(HOME_PAGE),
  );
};
