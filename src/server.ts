// The HTTP half: Stripe webhooks, Slack interactivity, health and metrics. It only starts or signals
// workflows (through the Temporal client); all gate work happens in the worker.
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { AuditStore } from './audit/audit-store';
import { healthRoutes, type ReadinessCheck } from './http/health-routes';
import type { GateMetrics } from './observability/metrics';
import type { SlackApp } from './slack/slack-app';
import type { GateLauncher } from './webhook/gate-launcher';
import { stripeWebhook } from './webhook/stripe-webhook';

export interface ServerDeps {
  logger: Logger;
  stripe: Stripe;
  /** A function: with the Stripe emulator the secret is known only once the endpoint is registered. */
  webhookSecret: () => string | undefined;
  gates: GateLauncher;
  audit: AuditStore;
  metrics: GateMetrics;
  slack: SlackApp;
  readiness: Record<string, ReadinessCheck>;
  isShuttingDown?: () => boolean;
}

export async function buildServer(deps: ServerDeps) {
  const app = Fastify({ loggerInstance: deps.logger, return503OnClosing: true });

  await app.register(healthRoutes, { checks: deps.readiness, metrics: deps.metrics, isShuttingDown: deps.isShuttingDown });
  app.addHook('onRequest', async (request) => {
    // The held gauge comes from the audit tables, so it survives restarts and counts every worker's gates.
    if (request.url === '/metrics') deps.metrics.setHeld(await deps.audit.countHeld());
  });

  await app.register(stripeWebhook, {
    stripe: deps.stripe,
    webhookSecret: deps.webhookSecret,
    gates: deps.gates,
    recordEvent: (event) =>
      deps.audit.recordStripeEvent({ eventId: event.eventId, type: event.type, invoiceId: event.invoiceId, created: event.createdAt }),
    onResult: (type, result) => deps.metrics.webhookReceived(type, result),
  });
  await app.register(deps.slack.receiver.plugin);
  return app;
}

if (require.main === module) {
  void import('./main').then(({ runFromCommandLine }) => runFromCommandLine({ server: true, worker: false }));
}
