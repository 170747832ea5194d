// PostgreSQL goes away in the middle of a burst (stopped as by a crash, `pg_ctl -m immediate`) and comes
// back a few seconds later. The gate's audit and ledger pools must reconnect on their own; activities
// that failed meanwhile are retried by Temporal; webhooks answered 503 are redelivered by Stripe. The
// server is the test's own (a private cluster in a temporary directory): the machine's shared one is
// never restarted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCohort, seedCohort } from '../support/cohort';
import { startGateHarness, type GateHarness } from '../support/gate-harness';
import { assertGateInvariants, gatedInvoices, waitForOutcomes } from './support/invariants';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres';
import { waitUntilDecided } from './support/burst-progress';

const DOWN_MS = 3_000;

describe('PostgreSQL restarted during a burst', () => {
  let postgres: PrivatePostgres;
  let h: GateHarness;
  before(async () => {
    postgres = await startPrivatePostgres();
    h = await startGateHarness({ databaseAdminUrl: postgres.adminUrl });
  });
  after(async () => {
    await h?.stop();
    await postgres?.destroy();
  });

  test('audit and ledger connections recover, nothing is lost, no audit row is doubled', async (t) => {
    const began = Date.now();
    const step = (what: string) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const members = await seedCohort(h, { size: 40, divergingEvery: 4 });
    // The harness's own connection would not survive the restart.
    await h.ledger.end();
    step('cohort seeded');
    const invoices = gatedInvoices(members, await closeCohort(h, members));
    step('cohort closed');

    const progress = await waitUntilDecided(h.databaseUrl, 3);
    await postgres.stop('immediate');
    step(`PostgreSQL stopped at ${JSON.stringify(progress)}`);
    assert.ok(
      progress.decided < invoices.length,
      `the restart came in the middle of the burst: ${JSON.stringify(progress)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await postgres.start();
    step('PostgreSQL started again');

    await waitForOutcomes(h, invoices, 60_000);
    step('every gate decided');
    assert.ok(await h.stripeEmulator.admin.waitForIdle(30_000), 'every webhook delivered');
    await assertGateInvariants(h, invoices);
  });
});
