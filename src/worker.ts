// The worker half: the gate workflow and its activities on the task queue. `npm run worker` runs it
// alone (src/bin/worker.ts), `npm start` next to the server (src/bin/start.ts).
import { WebClient } from '@slack/web-api';
import { NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type GateActivities } from './activities';
import { loadGateConfig } from './config/gate-config';
import type { GateContext } from './context';
import { activityMetricsInterceptor } from './observability/activity-metrics-interceptor';
import { temporalLoggerFromPino } from './observability/logger';

export interface StartWorkerOptions {
  /** Tests and the demo pass a pre-built bundle; otherwise the workflows are bundled from source at start. */
  workflowBundle?: WorkflowBundle;
}

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
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
    activities: buildActivities(context),
    interceptors: { activity: [activityMetricsInterceptor(context.metrics)] },
    // In-flight activities get this long to finish on SIGTERM; anything left is retried by another worker.
    shutdownGraceTime: '20s',
  });
  const running = worker.run();
  context.onStop(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  logger.info({ taskQueue: services.temporal.taskQueue }, 'worker started');
}

function buildActivities({ config, services, stripe, databases, audit, metrics }: GateContext): GateActivities {
  return createActivities({
    stripe,
    ledger: {
      ledgerDb: databases.ledgerDb,
      gateConfig: loadGateConfig(config.gateConfigPath, config.tolerance),
      reminder: config.reminder,
      lifecycle: config.lifecycle,
    },
    slack: {
      slack: new WebClient(services.slack.botToken, { slackApiUrl: services.slack.apiUrl, retryConfig: { retries: 2 } }),
      channelId: services.slack.channelId,
      links: { temporalUiUrl: config.temporal.uiUrl, temporalNamespace: services.temporal.namespace },
      audit,
    },
    audit: { audit, metrics },
  });
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
