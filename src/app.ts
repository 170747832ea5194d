// Composition root: builds the gate's pieces from resolved services and runs the server, the worker,
// or both. Used by npm start / server / worker, the demo and the end-to-end tests alike.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { WebClient } from '@slack/web-api';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import { AuditStore } from './audit/audit-store';
import type { AppConfig } from './config/env';
import { loadGateConfig } from './config/gate-config';
import { ensureDefaultLedgerTable, migrateToLatest, openDatabases, pingDatabase, type CreateDatabaseOptions } from './db';
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
import { createGateWorker } from './worker';

/** Invoice events the gate subscribes to when it registers its own endpoint with the Stripe emulator. */
const WEBHOOK_EVENTS = [
  'invoice.created',
  'invoice.updated',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'invoice.deleted',
] as const;

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

export async function startGate(options: StartGateOptions): Promise<RunningGate> {
  const { config, services, logger, roles } = options;
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error) => logger.error({ err: error }, 'error while stopping'));
    }
  };

  try {
    const databases = openDatabases({ databaseUrl: services.databaseUrl, ledgerDatabaseUrl: services.ledgerDatabaseUrl }, options.database);
    cleanups.push(() => databases.destroy());
    await migrateToLatest(databases.db);
    if (options.ensureLedgerTable ?? databases.embedded) await ensureDefaultLedgerTable(databases.ledgerDb);
    const audit = new AuditStore(databases.db);
    const metrics = options.metrics ?? createMetrics();
    const gateConfig = loadGateConfig(config.gateConfigPath, config.tolerance);
    const stripe = createStripeClient({
      secretKey: services.stripe.secretKey,
      apiUrl: services.stripe.apiUrl,
      maxRequestsPerSecond:
        config.stripe.maxRequestsPerSecond ?? (services.stripe.embedded ? undefined : defaultMaxRequestsPerSecond(services.stripe.secretKey)),
    });
    const temporalOptions = buildTemporalConnectionOptions({
      address: services.temporal.address,
      namespace: services.temporal.namespace,
      apiKey: services.temporal.apiKey,
      tlsCertPath: services.temporal.tlsCert,
      tlsKeyPath: services.temporal.tlsKey,
    });

    const connection = await Connection.connect(temporalOptions.client);
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: services.temporal.namespace });
    const registered = await ensureSearchAttributes(connection, services.temporal.namespace);
    if (registered.added.length > 0) logger.info({ added: registered.added }, 'registered search attributes');

    if (roles.worker) {
      installTemporalLogger(logger);
      const nativeConnection = await NativeConnection.connect(temporalOptions.worker);
      cleanups.push(() => nativeConnection.close());
      const activities = createActivities({
        stripe,
        ledger: { ledgerDb: databases.ledgerDb, gateConfig, reminder: config.reminder },
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
        workflowBundle: options.workflowBundle,
      });
      const running = worker.run();
      cleanups.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      });
      logger.info({ taskQueue: services.temporal.taskQueue }, 'worker started');
    }

    let url: string | undefined;
    if (roles.server) {
      let webhookSecret = services.stripe.webhookSecret;
      let shuttingDown = false;
      const slackApp = createSlackApp({
        signingSecret: services.slack.signingSecret,
        botToken: services.slack.botToken,
        slackApiUrl: services.slack.apiUrl ?? 'https://slack.com/api/',
        reviewerIds: services.slack.reviewerIds,
        port: createTemporalReviewPort(client),
        recordReviewAttempt: async (attempt) => {
          await audit.recordReviewAttempt({
            invoiceId: attempt.invoiceId,
            slackUserId: attempt.slackUserId,
            action: attempt.action,
            allowed: attempt.allowed,
            outcome: attempt.outcome,
            at: attempt.at,
          });
        },
        logger,
      });
      const server = await buildServer({
        logger,
        stripe,
        webhookSecret: () => webhookSecret,
        gates: createTemporalGateLauncher(client, services.temporal.taskQueue),
        audit,
        metrics,
        slack: slackApp,
        readiness: {
          temporal: temporalReadinessCheck(connection, services.temporal.namespace),
          database: () => pingDatabase(databases.db),
        },
        isShuttingDown: () => shuttingDown,
      });
      await server.listen({ port: config.port, host: config.host });
      cleanups.push(async () => {
        shuttingDown = true;
        await server.close();
        await slackApp.receiver.stop();
      });
      const address = server.server.address();
      url = typeof address === 'object' && address ? `http://${config.host}:${address.port}` : `http://${config.host}:${config.port}`;

      if (services.stripe.embedded && !webhookSecret) {
        const endpoint = await stripe.webhookEndpoints.create({ url: `${url}/webhooks/stripe`, enabled_events: [...WEBHOOK_EVENTS] });
        webhookSecret = endpoint.secret;
        cleanups.push(() => stripe.webhookEndpoints.del(endpoint.id));
      }
      if (services.slack.emulatorAdmin) await services.slack.emulatorAdmin.setInteractivityUrl(`${url}/slack/interactions`);
    }

    return { url, client, audit, metrics, ledgerDb: databases.ledgerDb, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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
