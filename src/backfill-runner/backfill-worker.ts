// The worker that runs backfills: the backfill workflow and its activities on the backfill task queue,
// hosted by the `npm run backfill` process itself (so a backfill needs no change to the deployed workers).
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { withActivityFailures } from '../activities/activity-failure';
import { createBackfillActivities } from '../activities/backfill';
import { BackfillStore } from '../audit/backfill-store';
import { loadGateConfig } from '../config/gate-config';
import type { GateContext } from '../context';
import { installTemporalLogger } from '../temporal/runtime-logger';
import { backfillTaskQueue } from '../workflows/backfill-definitions';

export interface BackfillWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startBackfillWorker(
  context: GateContext,
  options: { workflowBundle?: WorkflowBundle } = {},
): Promise<BackfillWorker> {
  const { services, config, databases, stripe, logger } = context;
  installTemporalLogger(logger);
  const taskQueue = backfillTaskQueue(services.temporal.taskQueue);
  const connection = await NativeConnection.connect(context.temporalOptions.worker);
  try {
    const worker = await Worker.create({
      connection,
      namespace: services.temporal.namespace,
      taskQueue,
      ...(options.workflowBundle
        ? { workflowBundle: options.workflowBundle }
        : { workflowsPath: require.resolve('../workflows') }),
      activities: withActivityFailures(
        createBackfillActivities({
          stripe,
          ledgerDb: databases.ledgerDb,
          gateConfig: loadGateConfig(config.gateConfigPath, config.tolerance),
          store: new BackfillStore(databases.db),
        }),
      ),
      shutdownGraceTime: '10s',
    });
    const running = worker.run();
    let stopped = false;
    return {
      taskQueue,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch((error: unknown) => logger.error({ err: error }, 'backfill worker stopped with an error'));
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
