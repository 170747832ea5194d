// The embedded Temporal engine with one worker running the gate's workflow bundle on given (fake)
// activities: what workflow unit tests run on, without PostgreSQL or the Stripe and Slack emulators.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startTemporalEmulator, type TemporalEmulator, type TemporalEmulatorOptions } from '../../emulators/temporal';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { workflowBundle } from './workflow-bundle';

export interface WorkflowTestEnv {
  temporal: TemporalEmulator;
  client: Client;
  taskQueue: string;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** GATE_TEST_LOG=WARN shows the SDK's warnings (failed workflow tasks) while debugging a test. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = process.env.GATE_TEST_LOG === 'WARN' ? 'WARN' : 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(level),
    telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } },
  });
}

/** `engine`: options of the embedded engine, e.g. a lowered continue-as-new suggestion threshold. */
export async function startWorkflowTestEnv(
  name: string,
  activities: object,
  engine: Pick<TemporalEmulatorOptions, 'continueAsNewSuggestedAt'> = {},
): Promise<WorkflowTestEnv> {
  installQuietRuntime();
  const temporal = await startTemporalEmulator({ port: 0, ...engine });
  const connection = await Connection.connect({ address: temporal.address });
  await ensureSearchAttributes(connection, 'default');
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const taskQueue = `${name}-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const running = worker.run();
  return {
    temporal,
    client: new Client({ connection }),
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await temporal.stop();
    },
  };
}
