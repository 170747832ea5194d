// What the server and the worker share: configuration, logger, databases, audit store, metrics,
// Stripe client and Temporal connection/client, plus the ordered cleanup that undoes them. Built
// once per process; `npm start` builds one for both halves.
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { AuditStore } from './audit/audit-store';
import { DecisionLog } from './audit/decision-log';
import { LineInsightsStore } from './audit/line-insights-store';
import { MeterErrorStore } from './audit/meter-error-store';
import type { AppConfig } from './config/env';
import {
  ensureDefaultLedgerTable,
  migrateToLatest,
  openDatabases,
  type CreateDatabaseOptions,
  type Databases,
} from './db';
import { createMetrics, type GateMetrics } from './observability/metrics';
import { linkKeyOrigin, runPageLinkKey } from './run-page/link-signature';
import { RunPageLinks } from './run-page/run-page-links';
import type { ResolvedServices } from './services/resolve-services';
import { createStripeClient, defaultMaxRequestsPerSecond } from './stripe/client';
import { buildTemporalConnectionOptions, type TemporalConnectionOptions } from './temporal/connection-options';
import { ensureSearchAttributes } from './temporal/search-attributes';

export interface GateContextOptions {
  config: AppConfig;
  services: ResolvedServices;
  logger: Logger;
  /** Create the contract's default ledger table if missing (default: on the embedded database only). */
  ensureLedgerTable?: boolean;
  metrics?: GateMetrics;
  /** Database options, e.g. `dataDir` for the embedded PGlite (the demo uses a fresh temp dir). */
  database?: CreateDatabaseOptions;
}

export interface GateContext {
  config: AppConfig;
  services: ResolvedServices;
  logger: Logger;
  databases: Databases;
  audit: AuditStore;
  /** The append-only, hash-chained log of every decision attempt. */
  decisions: DecisionLog;
  /** Where held lines diverge in time, and lines against the customer's history (same schema as audit). */
  lineInsights: LineInsightsStore;
  /** Stripe's meter error reports (POST /webhooks/stripe/thin writes them, the alerts read them). */
  meterErrors: MeterErrorStore;
  metrics: GateMetrics;
  stripe: Stripe;
  /** Client and worker connection options, built once so both halves connect the same way. */
  temporalOptions: TemporalConnectionOptions;
  connection: Connection;
  client: Client;
  /** Signed links to the reviewers' run page: the worker puts them in Slack, the server checks them. */
  runPageLinks: RunPageLinks;
  /** Registers what stop() must undo; stop() undoes it in reverse order. */
  onStop(cleanup: () => Promise<unknown>): void;
  stop(): Promise<void>;
}

export async function createGateContext(options: GateContextOptions): Promise<GateContext> {
  const { config, services, logger } = options;
  const cleanups: Array<() => Promise<unknown>> = [];
  const onStop = (cleanup: () => Promise<unknown>) => void cleanups.push(cleanup);
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error) => logger.error({ err: error }, 'error while stopping'));
    }
  };

  try {
    const databases = openDatabases(
      { databaseUrl: services.databaseUrl, ledgerDatabaseUrl: services.ledgerDatabaseUrl },
      options.database,
    );
    onStop(() => databases.destroy());
    await migrateToLatest(databases.db);
    if (options.ensureLedgerTable ?? databases.embedded) await ensureDefaultLedgerTable(databases.ledgerDb);

    const stripe = createStripeClient({
      secretKey: services.stripe.secretKey,
      apiUrl: services.stripe.apiUrl,
      maxRequestsPerSecond:
        config.stripe.maxRequestsPerSecond ??
        (services.stripe.embedded ? undefined : defaultMaxRequestsPerSecond(services.stripe.secretKey)),
    });
    const temporalOptions = buildTemporalConnectionOptions({
      address: services.temporal.address,
      namespace: services.temporal.namespace,
      apiKey: services.temporal.apiKey,
      tlsCertPath: services.temporal.tlsCert,
      tlsKeyPath: services.temporal.tlsKey,
    });
    const connection = await Connection.connect(temporalOptions.client);
    onStop(() => connection.close());
    const registered = await ensureSearchAttributes(connection, services.temporal.namespace);
    if (registered.added.length > 0) logger.info({ added: registered.added }, 'registered search attributes');

    const linkKey = {
      linkSecret: config.runPage.linkSecret,
      stripeSecretKey: services.stripe.secretKey,
      stripeEmbedded: services.stripe.embedded,
    };
    if (linkKeyOrigin(linkKey) === 'random') {
      logger.info(
        "run page links are signed with a random key of this process: they stop opening when it ends, and a server and a worker run apart verify none of each other's (set GATE_LINK_SECRET)",
      );
    }

    return {
      config,
      services,
      logger,
      databases,
      audit: new AuditStore(databases.db),
      decisions: new DecisionLog(databases.db),
      lineInsights: new LineInsightsStore(databases.db),
      meterErrors: new MeterErrorStore(databases.db),
      metrics: options.metrics ?? createMetrics(),
      stripe,
      temporalOptions,
      connection,
      client: new Client({ connection, namespace: services.temporal.namespace }),
      runPageLinks: new RunPageLinks({
        key: runPageLinkKey(linkKey),
        publicUrl: config.runPage.publicUrl,
        defaultUrl: `http://${config.host}:${config.port}`,
        expiryMs: config.runPage.linkExpiryMs,
      }),
      onStop,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
