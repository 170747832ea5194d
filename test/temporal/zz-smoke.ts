import { startTestEnv, runWorker } from '/work/main/test/temporal/helpers';
import { createTestActivities } from '/work/main/test/temporal/activities';
async function main() {
  const t0 = Date.now();
  const env = await startTestEnv();
  console.log('env', Date.now() - t0);
  const worker = await runWorker(env, { activities: createTestActivities() });
  console.log('worker', Date.now() - t0);
  const r = await env.client.workflow.execute('greet', { taskQueue: worker.taskQueue, workflowId: 'x1', args: ['world'] });
  console.log('result', r, Date.now() - t0);
  await worker.stop();
  console.log('worker stopped', Date.now() - t0);
  await env.stop();
  console.log('stopped', Date.now() - t0);
}
main().catch((e) => { console.error('ERR', e); process.exit(1); });
