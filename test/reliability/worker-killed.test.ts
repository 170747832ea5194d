// The worker process dies (SIGKILL: no shutdown, activities in flight) in the middle of 50 gates, and
// a new one starts. Temporal (the engine, in this process) keeps every gate's history: the new worker
// replays them and carries on; activities the dead worker held are retried once their start-to-close
// timeout passes (emulated time, so the test does not wait five real minutes for the ledger's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCohort, seedCohort } from '../support/cohort';
import { startGateHarness, type GateHarness } from '../support/gate-harness';
import { assertGateInvariants, gatedInvoices, waitForOutcomes } from './support/invariants';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { waitUntilDecided } from './support/burst-progress';

/** Longer than every activity's start-to-close timeout (the ledger's is 5 minutes). */
const PAST_EVERY_ACTIVITY_TIMEOUT_MS = 6 * 60_000;

describe('the worker killed in the middle of a burst', () => {
  let h: GateHarness;
  const workers: WorkerProcess[] = [];
  before(async () => {
    h = await startGateHarness({ worker: false });
  });
  after(async () => {
    for (const worker of workers) await worker.kill();
    await h?.stop();
  });

  test('SIGKILL during 50 gates, then a new worker: every gate resumes and ends right', async (t) => {
    const began = Date.now();
    const step = (what: string) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const [worker, members] = await Promise.all([
      startWorkerProcess(h.workerEnv()),
      seedCohort(h, { size: 50, divergingEvery: 5 }),
    ]);
    workers.push(worker);
    step('worker started, cohort seeded');
    const invoices = gatedInvoices(members, await closeCohort(h, members));
    assert.equal(invoices.length, 50);
    step('cohort closed');

    // Kill it once the burst is under way: some gates decided, most not.
    const progress = await waitUntilDecided(h.databaseUrl, 5);
    await workers[0].kill();
    step(`worker killed at ${JSON.stringify(progress)}`);
    assert.ok(progress.decided >= 5, `the burst was under way before the kill: ${JSON.stringify(progress)}`);
    assert.ok(progress.decided < 50, `the kill came in the middle of the burst: ${JSON.stringify(progress)}`);

    workers.push(await startWorkerProcess(h.workerEnv()));
    step('new worker started');
    await h.temporal.skipTime(PAST_EVERY_ACTIVITY_TIMEOUT_MS);
    step('time skipped');
    await waitForOutcomes(h, invoices, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\nworker output:\n${workers[1].output()}`);
    });
    step('every gate decided');
    await assertGateInvariants(h, invoices);
  });
});
