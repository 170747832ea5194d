// The HTTP half: Stripe webhooks, Slack interactivity, health, readiness and metrics. It only starts,
// signals and queries workflows (through the gate client); all gate work happens in the worker.
// `npm run server` runs it alone (src/bin/server.ts), `npm start` next to the worker (src/bin/start.ts).
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { AuditStore, StripeEventInput } from './audit/audit-store';
import { GroupCommit } from './audit/group-commit';
import { HoldQueueReader } from './audit/hold-queue';
import { InvoiceRecordReader, type InvoiceRecord } from './audit/invoice-record';
import { runPageMeterErrors } from './http/run-page/run-page-meter-errors';
import type { GateContext } from './context';
import { pingDatabase } from './db';
import { createGateClient, type GateClient } from './client/gate-client';
import { healthRoutes, openMetricsWarning, type ReadinessCheck } from './http/health-routes';
import { holdsRoutes, type HoldsRoutesOptions } from './http/holds/holds-routes';
import { homePage } from './http/home-page';
import { runPageRoutes, type RunPageRoutesOptions } from './http/run-page/run-page-routes';
import { createSlackApp, type SlackApp } from './http/slack/slack-app';
import { logsItsOwnRequests, stripeWebhook } from './webhook/stripe-webhook';
import { STRIPE_THIN_WEBHOOK_PATH, stripeThinWebhook } from './webhook/stripe-thin-webhook';
import type { MeterErrorStore } from './audit/meter-error-store';
import type { GateMetrics } from './observability/metrics';
import { SignatureRedactingLogController } from './observability/request-log';
import { temporalReadinessCheck } from './temporal/readiness';
import { temporalUiUrl, temporalWorkflowUrl } from './temporal/ui-url';

export interface ServerDeps {
  logger: Logger;
  /** Used only to verify webhook signatures. */
  stripe: Stripe;
  webhookSecret: string;
  /**
   * The thin-event destination's signing secret and where its meter error reports go: with both,
   * POST /webhooks/stripe/thin exists; without, it does not (404).
   */
  thinEvents?: { secret: string; meterErrors: MeterErrorStore };
  /** The Stripe key's mode (true: live): events of the other mode are ignored. */
  livemode?: boolean;
  gate: GateClient;
  audit: AuditStore;
  metrics: GateMetrics;
  slack: SlackApp;
  readiness: Record<string, ReadinessCheck>;
  isShuttingDown?: () => boolean;
  /** GATE_METRICS_TOKEN: /metrics requires it as a bearer token. */
  metricsToken?: string;
  /** The reviewers' run page (GET /invoices/:invoiceId); without it the route does not exist. */
  runPage?: RunPageRoutesOptions;
  /** The review queue (GET /holds, /holds.csv); without it the routes do not exist. */
  holds?: HoldsRoutesOptions;
}

/** Fastify's own options for the gate's server (the routes are plugins). */
export function fastifyOptions(logger: Logger) {
  return {
    loggerInstance: logger,
    return503OnClosing: true,
    // The Stripe webhook logs one line per request itself, with what it did; no line holds a link signature.
    logController: new SignatureRedactingLogController({ disableRequestLogging: logsItsOwnRequests }),
  };
}

export async function buildServer(deps: ServerDeps) {
  const app = Fastify(fastifyOptions(deps.logger));
  await app.register(healthRoutes, {
    checks: deps.readiness,
    metrics: deps.metrics,
    isShuttingDown: deps.isShuttingDown,
    metricsToken: deps.metricsToken,
  });
  // Each webhook answers only once its event is in the audit; concurrent ones share one insert.
  const receivedEvents = new GroupCommit((events: StripeEventInput[]) => deps.audit.recordStripeEvents(events));
  await app.register(stripeWebhook, {
    stripe: deps.stripe,
    webhookSecret: deps.webhookSecret,
    livemode: deps.livemode,
    gates: deps.gate,
    recordEvent: (event) =>
      receivedEvents.submit({
        eventId: event.eventId,
        type: event.type,
        invoiceId: event.invoiceId,
        created: event.createdAt,
      }),
    metrics: deps.metrics,
  });
  if (deps.thinEvents) {
    const { secret, meterErrors } = deps.thinEvents;
    await app.register(stripeThinWebhook, {
      stripe: deps.stripe,
      thinWebhookSecret: secret,
      recordReport: (report) => meterErrors.record(report),
    });
  }
  await app.register(deps.slack.receiver.plugin);
  await app.register(homePage);
  if (deps.runPage) await app.register(runPageRoutes, deps.runPage);
  if (deps.holds) await app.register(holdsRoutes, deps.holds);
  return app;
}

/** sk_live_ / rk_live_ keys act on live data; test keys (and the emulator's) on test data. */
export function stripeKeyIsLive(secretKey: string): boolean {
  return /^(sk|rk)_live_/.test(secretKey);
}

/** Builds the server from the context, listens, and returns its base URL; context.stop() closes it. */
export async function startServer(context: GateContext): Promise<string> {
  const { config, services, logger, audit } = context;
  const webhookSecret = services.stripe.webhookSecret;
  if (!webhookSecret)
    throw new Error('the HTTP server needs the Stripe webhook signing secret (STRIPE_WEBHOOK_SECRET)');
  const gate = createGateClient(context.client, services.temporal.taskQueue);
  const slack = createSlackApp({
    signingSecret: services.slack.signingSecret,
    botToken: services.slack.botToken,
    slackApiUrl: services.slack.apiUrl ?? 'https://slack.com/api/',
    reviewerIds: services.slack.reviewerIds,
    appToken: services.slack.appToken,
    gate,
    recordReviewAttempt: async (attempt) => void (await audit.recordReviewAttempt(attempt)),
    recordRefusedDecision: async ({ invoiceId, decision, refusal, updateId, gateStatus, at }) =>
      void (await context.decisions.append({
        // The Update id names the attempt, so a retried write adds nothing; its refusals are logged here once.
        attemptId: `${updateId}:refused:${refusal.code}`,
        at,
        invoiceId,
        reviewer: decision.reviewer,
        action: decision.action,
        reason: decision.reason ?? null,
        note: decision.note ?? null,
        accepted: false,
        refusal: `${refusal.code}: ${refusal.message}`,
        channel: services.slack.appToken ? 'slack_socket' : 'slack',
        gateStatus,
      })),
    logger,
  });
  let shuttingDown = false;
  const holdQueue = new HoldQueueReader(context.databases.db);
  // The hold gauges are read from the audit tables at each scrape: they count every worker's gates.
  context.metrics.readHoldsFrom(() => holdQueue.summarize());
  const thinSecret = services.stripe.thinWebhookSecret;
  if (!thinSecret) {
    logger.warn(
      `${STRIPE_THIN_WEBHOOK_PATH} is off: STRIPE_THIN_WEBHOOK_SECRET is unset, so Stripe's meter error reports are not received`,
    );
  }
  const server = await buildServer({
    logger,
    stripe: context.stripe,
    webhookSecret,
    ...(thinSecret ? { thinEvents: { secret: thinSecret, meterErrors: context.meterErrors } } : {}),
    livemode: stripeKeyIsLive(services.stripe.secretKey),
    gate,
    audit,
    metrics: context.metrics,
    slack,
    readiness: {
      temporal: temporalReadinessCheck(context.connection, services.temporal.namespace),
      database: () => pingDatabase(context.databases.db),
    },
    isShuttingDown: () => shuttingDown,
    metricsToken: config.metricsToken,
    runPage: runPageOptions(context),
    holds: {
      verify: (signature) => context.runPageLinks.verifyHolds(signature),
      list: (filter, limit) => holdQueue.list(filter, limit),
      runPageUrl: (invoiceId) => context.runPageLinks.urlFor(invoiceId),
    },
  });
  const metricsWarning = openMetricsWarning(config.host, config.metricsToken);
  if (metricsWarning) logger.warn({ host: config.host }, metricsWarning);
  await server.listen({ port: config.port, host: config.host });
  slack.receiver.startReceiving();
  context.onStop(async () => {
    shuttingDown = true;
    await server.close();
    await slack.receiver.stop();
  });

  const address = server.server.address();
  const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.port}`;
  context.runPageLinks.serverListening(url);
  await services.serverListening(url);
  const clicks = slack.receiver.transport === 'socket' ? 'Slack clicks over Socket Mode' : `${url}/slack/interactions`;
  logger.info({ url }, `invoice-gate is serving: POST ${url}/webhooks/stripe, ${clicks}`);
  return url;
}

function runPageOptions({ runPageLinks, databases, services, config, meterErrors }: GateContext): RunPageRoutesOptions {
  const reader = new InvoiceRecordReader(databases.db);
  const uiUrl = temporalUiUrl(services.temporal);
  return {
    verify: (invoiceId, signature) => runPageLinks.verify(invoiceId, signature),
    read: (invoiceId) => reader.read(invoiceId),
    ...(config.meterErrorsAction === 'off'
      ? {}
      : { meterErrors: (record: InvoiceRecord) => runPageMeterErrors(meterErrors, record) }),
    // The gate only sees invoices of its key's mode (the webhook ignores the other mode's events).
    livemode: stripeKeyIsLive(services.stripe.secretKey),
    temporalRunUrl: uiUrl
      ? (workflowId, runId) => temporalWorkflowUrl(uiUrl, services.temporal.namespace, workflowId, runId)
      : undefined,
  };
}
