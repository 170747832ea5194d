// The worker half: registers the gate workflow and its activities on the task queue. `npm run worker`
// runs it alone (for deployments that scale it apart from the HTTP server).
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { GateActivities } from './activities';
import { activityMetricsInterceptor } from './observability/activity-metrics-interceptor';
import type { GateMetrics } from './observability/metrics';

export interface GateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: GateActivities;
  metrics: GateMetrics;
  /** Tests pass a pre-built bundle; otherwise the workflows are bundled from source at start. */
  workflowBundle?: WorkflowBundle;
}

export async function createGateWorker(options: GateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: options.activities,
    interceptors: { activity: [activityMetricsInterceptor(options.metrics)] },
    // In-flight activities get this long to finish on SIGTERM; anything left is retried by another worker.
    shutdownGraceTime: '20s',
  });
}

if (require.main === module) {
  void import('./main').then(({ runFromCommandLine }) => runFromCommandLine({ server: false, worker: true }));
}
