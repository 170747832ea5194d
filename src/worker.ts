// The worker half: the gate workflow and its activities on the task queue. `npm run worker` runs it
// alone (src/bin/worker.ts), `npm start` next to the server (src/bin/start.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import {
  NativeConnection,
  Worker,
  type WorkerOptions,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createActivities, type GateActivities } from './activities';
import { loadGateConfig } from './config/gate-config';
import type { GateContext } from './context';
import { createGateClient } from './client/gate-client';
import { activityMetricsInterceptor } from './observability/activity-metrics-interceptor';
import { installTemporalLogger } from './temporal/runtime-logger';
import { temporalUiUrl } from './temporal/ui-url';
import { OBSERVE_DIGEST_WORKFLOW_ID, OBSERVE_DIGEST_WORKFLOW_TYPE } from './workflows/digest-definitions';
import { bundleWorkflowsInChildProcess } from './temporal/bundle-workflows';
import type { invoiceSweeper } from './workflows/invoice-sweeper';
import type { observeDigest } from './workflows/observe-digest';
import { INVOICE_SWEEPER_WORKFLOW_ID, INVOICE_SWEEPER_WORKFLOW_TYPE } from './workflows/sweeper-definitions';

export interface StartWorkerOptions {
  /** Tests and the demo pass a pre-built bundle; otherwise dist/'s prebuilt one, or bundled from sources at start. */
  workflowBundle?: WorkflowBundle;
  /** Stripe's clock (unix seconds) for the sweep's window; default this machine's. Tests pass the Stripe emulator's. */
  stripeNow?: () => Promise<number>;
  /** Worker slots, pollers and cache size other than the SDK's defaults: the month-end benchmark measures them. */
  tuning?: WorkerTuning;
}

export type WorkerTuning = Pick<
  WorkerOptions,
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'maxConcurrentWorkflowTaskPolls'
  | 'maxConcurrentActivityTaskPolls'
  | 'maxCachedWorkflows'
>;

/** Starts the worker; context.stop() shuts it down (in-flight activities get a grace time). */
export async function startWorker(context: GateContext, options: StartWorkerOptions = {}): Promise<void> {
  const { services, logger } = context;
  installTemporalLogger(logger);
  const connection = await NativeConnection.connect(context.temporalOptions.worker);
  context.onStop(() => connection.close());
  const worker = await Worker.create({
    connection,
    namespace: services.temporal.namespace,
    taskQueue: services.temporal.taskQueue,
    workflowBundle: options.workflowBundle ?? (await workflowCode()),
    activities: buildActivities(context, options),
    interceptors: { activity: [activityMetricsInterceptor(context.metrics)] },
    // In-flight activities get this long to finish on SIGTERM; anything left is retried by another worker.
    shutdownGraceTime: '20s',
    // Held gates wait days for a reviewer; uncached, each wake-up replays its history (bench/README.md, "Held gates").
    ...(context.config.temporal.maxCachedWorkflows !== undefined && {
      maxCachedWorkflows: context.config.temporal.maxCachedWorkflows,
    }),
    ...options.tuning,
  });
  const running = worker.run();
  context.onStop(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  logger.info({ taskQueue: services.temporal.taskQueue }, 'worker started');
  await startSweeper(context);
  await startObserveDigest(context);
}

/** Written by `npm run build` (scripts/build.mjs) next to the compiled worker. */
export const PREBUILT_WORKFLOW_BUNDLE = 'workflow-bundle.js';

/**
 * Compiled (dist/): the bundle the build made, so the worker starts without webpack. From sources
 * (tsx): bundled at start from the current code, in a child process (webpack's memory goes with it).
 */
async function workflowCode(): Promise<WorkflowBundleOption> {
  if (!__filename.endsWith('.js')) return bundleWorkflowsInChildProcess(require.resolve('./workflows'));
  const codePath = join(__dirname, PREBUILT_WORKFLOW_BUNDLE);
  if (!existsSync(codePath)) throw new Error(`${codePath} is missing: dist/ is incomplete, run npm run build`);
  return { codePath };
}

/** The sweep for missed webhooks runs in one workflow; every worker asks for it and joins the running one. */
async function startSweeper({ client, config, services, logger }: GateContext): Promise<void> {
  const everyMs = config.lifecycle.sweepEveryMs;
  if (everyMs === null) return;
  const handle = await client.workflow.start<typeof invoiceSweeper>(INVOICE_SWEEPER_WORKFLOW_TYPE, {
    taskQueue: services.temporal.taskQueue,
    workflowId: INVOICE_SWEEPER_WORKFLOW_ID,
    args: [{ everyMs }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: 'Sweep for missed invoice.created webhooks',
  });
  logger.info(
    { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
    'sweep for missed webhooks running',
  );
}

/** The daily observe-mode digest runs in one workflow; every worker asks for it and joins the running one. */
async function startObserveDigest({ client, config, services, logger }: GateContext): Promise<void> {
  const atMinuteUtc = config.digestAtMinuteUtc;
  if (atMinuteUtc === null) return;
  const handle = await client.workflow.start<typeof observeDigest>(OBSERVE_DIGEST_WORKFLOW_TYPE, {
    taskQueue: services.temporal.taskQueue,
    workflowId: OBSERVE_DIGEST_WORKFLOW_ID,
    args: [{ atMinuteUtc }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: 'Daily observe-mode digest',
  });
  logger.info({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }, 'observe-mode digest running');
}

function buildActivities(
  {
    config,
    services,
    stripe,
    databases,
    audit,
    decisions,
    lineInsights,
    meterErrors,
    metrics,
    client,
    runPageLinks,
  }: GateContext,
  options: StartWorkerOptions,
): GateActivities {
  const gateConfig = loadGateConfig(config.gateConfigPath, config.tolerance);
  const slack = new WebClient(services.slack.botToken, {
    slackApiUrl: services.slack.apiUrl,
    retryConfig: { retries: 2 },
  });
  return createActivities({
    stripe,
    ledger: {
      ledgerDb: databases.ledgerDb,
      gateConfig,
      reminder: config.reminder,
      lifecycle: config.lifecycle,
      mode: config.mode,
      history: config.history,
      review: config.review,
    },
    slack: {
      slack,
      channelId: services.slack.channelId,
      links: { temporalUiUrl: temporalUiUrl(services.temporal), temporalNamespace: services.temporal.namespace },
      audit,
      runPage: runPageLinks,
      // GATE_METER_ERRORS_ACTION=off: the alerts do not read Stripe's meter error reports.
      ...(config.meterErrorsAction === 'off' ? {} : { meterErrors }),
    },
    audit: { audit, decisions, metrics },
    sweep: {
      stripe,
      gates: createGateClient(client, services.temporal.taskQueue),
      config: config.lifecycle,
      metrics,
      ...(options.stripeNow && { stripeNow: options.stripeNow }),
    },
    observeDigest: { audit, slack, channelId: services.slack.channelId, config },
    explain: {
      stripe,
      ledgerDb: databases.ledgerDb,
      gateConfig,
      insights: lineInsights,
    },
  });
}
