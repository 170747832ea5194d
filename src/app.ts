// Composition root: builds the gate's pieces from resolved services and runs the server, the worker,
// or both. Used by npm start / server / worker, the demo and the end-to-end tests alike.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { WebClient } from '@slack/web-api';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { createActivities } from './activities';
import { AuditStore } from './audit/audit-store';
import type { AppConfig } from './config/env';
import { loadGateConfig } from './config/gate-config';
import { ensureDefaultLedgerTable, migrateToLatest, openDatabases, pingDatabase, type CreateDatabaseOptions, type Databases } from './db';
import { temporalLoggerFromPino } from './observability/logger';
import { createMetrics, type GateMetrics } from './observability/metrics';
import type { ResolvedServices } from './runtime/embedded-services';
import { buildServer } from './server';
import { createSlackApp } from './slack/slack-app';
import { createTemporalReviewPort } from './slack/temporal-review-port';
import { createStripeClient, defaultMaxRequestsPerSecond } from './stripe/client';
import { buildTemporalConnectionOptions } from './temporal/connection-options';
import { temporalReadinessCheck } from './temporal/readiness';
import { ensureSearchAttributes } from './temporal/search-attributes';
import { createTemporalGateLauncher } from './webhook/gate-launcher';
import { GATE_EVENT_TYPES } from './webhook/stripe-webhook';
import { createGateWorker } from './worker';

export interface StartGateOptions {
  config: AppConfig;
  services: ResolvedServices;
  logger: Logger;
  roles: { server: boolean; worker: boolean };
  workflowBundle?: WorkflowBundle;
  /** Create the contract's default ledger table if missing (embedded database, demo). */
  ensureLedgerTable?: boolean;
  metrics?: GateMetrics;
  /** Database options, e.g. `dataDir` for the embedded PGlite (the demo uses a fresh temp dir). */
  database?: CreateDatabaseOptions;
}

export interface RunningGate {
  /** Base URL of the HTTP server, when it runs. */
  url: string | undefined;
  client: Client;
  audit: AuditStore;
  metrics: GateMetrics;
  /** The ledger connection (with embedded PGlite the only one that may open its directory). */
  ledgerDb: Kysely<any>;
  stop(): Promise<void>;
}

/** What both halves share once the databases, Stripe and Temporal are connected. */
interface GateContext {
  config: AppConfig;
  services: ResolvedServices;
  logger: Logger;
  databases: Databases;
  audit: AuditStore;
  metrics: GateMetrics;
  stripe: Stripe;
  connection: Connection;
  client: Client;
  /** Registers what stop() must undo, in reverse order. */
  onStop(cleanup: () => Promise<unknown>): void;
}

export async function startGate(options: StartGateOptions): Promise<RunningGate> {
  const { config, services, logger, roles } = options;
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error) => logger.error({ err: error }, 'error while stopping'));
    }
  };
  const onStop = (cleanup: () => Promise<unknown>) => void cleanups.push(cleanup);

  try {
    const databases = openDatabases({ databaseUrl: services.databaseUrl, ledgerDatabaseUrl: services.ledgerDatabaseUrl }, options.database);
    onStop(() => databases.destroy());
    await migrateToLatest(databases.db);
    if (options.ensureLedgerTable ?? databases.embedded) await ensureDefaultLedgerTable(databases.ledgerDb);

    const stripe = createStripeClient({
      secretKey: services.stripe.secretKey,
      apiUrl: services.stripe.apiUrl,
      maxRequestsPerSecond:
        config.stripe.maxRequestsPerSecond ?? (services.stripe.embedded ? undefined : defaultMaxRequestsPerSecond(services.stripe.secretKey)),
    });
    const connection = await Connection.connect(temporalConnectionOptions(services).client);
    onStop(() => connection.close());
    const registered = await ensureSearchAttributes(connection, services.temporal.namespace);
    if (registered.added.length > 0) logger.info({ added: registered.added }, 'registered search attributes');

    const context: GateContext = {
      config,
      services,
      logger,
      databases,
      audit: new AuditStore(databases.db),
      metrics: options.metrics ?? createMetrics(),
      stripe,
      connection,
      client: new Client({ connection, namespace: services.temporal.namespace }),
      onStop,
    };
    if (roles.worker) await startWorker(context, options.workflowBundle);
    const url = roles.server ? await startServer(context) : undefined;
    return { url, client: context.client, audit: context.audit, metrics: context.metrics, ledgerDb: databases.ledgerDb, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function temporalConnectionOptions(services: ResolvedServices) {
  return buildTemporalConnectionOptions({
    address: services.temporal.address,
    namespace: services.temporal.namespace,
    apiKey: services.temporal.apiKey,
    tlsCertPath: services.temporal.tlsCert,
    tlsKeyPath: services.temporal.tlsKey,
  });
}

async function startWorker(ctx: GateContext, workflowBundle: WorkflowBundle | undefined): Promise<void> {
  const { config, services, logger, audit, metrics } = ctx;
  installTemporalLogger(logger);
  const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(services).worker);
  ctx.onStop(() => nativeConnection.close());
  const activities = createActivities({
    stripe: ctx.stripe,
    ledger: {
      ledgerDb: ctx.databases.ledgerDb,
      gateConfig: loadGateConfig(config.gateConfigPath, config.tolerance),
      reminder: config.reminder,
    },
    slack: {
      slack: new WebClient(services.slack.botToken, { slackApiUrl: services.slack.apiUrl, retryConfig: { retries: 2 } }),
      channelId: services.slack.channelId,
      links: { temporalUiUrl: config.temporal.uiUrl, temporalNamespace: services.temporal.namespace },
      audit,
    },
    audit: { audit, metrics },
  });
  const worker = await createGateWorker({
    connection: nativeConnection,
    namespace: services.temporal.namespace,
    taskQueue: services.temporal.taskQueue,
    activities,
    metrics,
    workflowBundle,
  });
  const running = worker.run();
  ctx.onStop(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  logger.info({ taskQueue: services.temporal.taskQueue }, 'worker started');
}

/** Starts the HTTP server and returns its base URL. */
async function startServer(ctx: GateContext): Promise<string> {
  const { config, services, logger, audit, stripe } = ctx;
  let webhookSecret = services.stripe.webhookSecret;
  let shuttingDown = false;
  const slackApp = createSlackApp({
    signingSecret: services.slack.signingSecret,
    botToken: services.slack.botToken,
    slackApiUrl: services.slack.apiUrl ?? 'https://slack.com/api/',
    reviewerIds: services.slack.reviewerIds,
    port: createTemporalReviewPort(ctx.client),
    recordReviewAttempt: async (attempt) => void (await audit.recordReviewAttempt(attempt)),
    logger,
  });
  const server = await buildServer({
    logger,
    stripe,
    webhookSecret: () => webhookSecret,
    gates: createTemporalGateLauncher(ctx.client, services.temporal.taskQueue),
    audit,
    metrics: ctx.metrics,
    slack: slackApp,
    readiness: {
      temporal: temporalReadinessCheck(ctx.connection, services.temporal.namespace),
      database: () => pingDatabase(ctx.databases.db),
    },
    isShuttingDown: () => shuttingDown,
  });
  await server.listen({ port: config.port, host: config.host });
  ctx.onStop(async () => {
    shuttingDown = true;
    await server.close();
    await slackApp.receiver.stop();
  });
  const address = server.server.address();
  const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.port}`;

  // With the emulators, the gate wires itself up: its webhook endpoint in Stripe, its interactivity URL in Slack.
  if (services.stripe.embedded && !webhookSecret) {
    const endpoint = await stripe.webhookEndpoints.create({
      url: `${url}/webhooks/stripe`,
      enabled_events: GATE_EVENT_TYPES as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
    });
    webhookSecret = endpoint.secret;
    ctx.onStop(() => stripe.webhookEndpoints.del(endpoint.id));
  }
  if (services.slack.emulatorAdmin) await services.slack.emulatorAdmin.setInteractivityUrl(`${url}/slack/interactions`);
  return url;
}

let temporalRuntimeInstalled = false;
/** The SDK's runtime (and so its logger) can be installed once per process, before the first worker. */
function installTemporalLogger(logger: Logger): void {
  if (temporalRuntimeInstalled) return;
  temporalRuntimeInstalled = true;
  // Core (Rust) logs are forwarded too, so everything the SDK says goes through pino and LOG_LEVEL.
  Runtime.install({
    logger: temporalLoggerFromPino(logger.child({ component: 'temporal' })),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } } },
  });
}
