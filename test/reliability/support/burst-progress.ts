// Where a burst of gates stands, read from the audit on a connection of its own: the fault tests strike
// (kill the worker, stop PostgreSQL) once some gates have decided and most have not.
import { Client as PgClient } from 'pg';

export interface BurstProgress {
  started: number;
  decided: number;
}

/** Polls `gate_runs` until at least `decided` gates have an outcome (or 60 s pass); returns the last count. */
export async function waitUntilDecided(databaseUrl: string, decided: number): Promise<BurstProgress> {
  const audit = new PgClient({ connectionString: databaseUrl });
  await audit.connect();
  let progress: BurstProgress = { started: 0, decided: 0 };
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { rows } = await audit.query<{ started: string; decided: string }>(
        `select count(*) as started, count(outcome) as decided from invoice_gate.gate_runs`,
      );
      progress = { started: Number(rows[0].started), decided: Number(rows[0].decided) };
      if (progress.decided >= decided) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await audit.end();
  }
  return progress;
}
