// `npm run backfill -- --since YYYY-MM-DD [--until …] [--customer cus_…] [--status …] [--out F.csv]`: the
// read-only report of past finalized invoices against the ledger, on the same configuration as `npm start`
// (unset services run on their embedded defaults). Exit 0 with the CSV written and the summary printed;
// 2 for bad arguments; 1 when the run failed.
import { BACKFILL_USAGE, BackfillArgumentsError, parseBackfillArguments } from '../backfill/arguments';
import { runBackfill } from '../backfill-runner/run-backfill';
import { formatBackfillSummary } from '../backfill/summary';
import { ConfigError, describeConfig, loadConfig } from '../config/env';
import { createGateContext, type GateContext } from '../context';
import { createLogger } from '../observability/logger';
import { resolveServices, type ResolvedServices } from '../services/resolve-services';

async function main(): Promise<number> {
  let args;
  try {
    args = parseBackfillArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BackfillArgumentsError)) throw error;
    process.stderr.write(`invoice-gate backfill: ${error.message}\n\n${BACKFILL_USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`invoice-gate: invalid configuration\n${error.message}\n`);
    return 1;
  }
  // Progress and the summary are for people: logs stay at warn unless LOG_LEVEL says otherwise.
  const logger = createLogger({ level: process.env.LOG_LEVEL ? config.logLevel : 'warn' });
  logger.info({ config: describeConfig(config), request: args.request }, 'starting a backfill report');

  let services: ResolvedServices | undefined;
  let context: GateContext | undefined;
  try {
    // Embedded defaults run in this process on free ports, so a running `npm start` is not disturbed.
    services = await resolveServices(config, { emulators: 'in-process', ports: 'random', serves: false });
    for (const note of services.notes) process.stderr.write(`embedded default: ${note}\n`);
    if (services.stripe.embedded) {
      process.stderr.write(
        'the embedded Stripe emulator starts empty: set STRIPE_SECRET_KEY to report on your account\n',
      );
    }
    context = await createGateContext({ config, services, logger });
    const report = await runBackfill(context, { request: args.request, out: args.out, progress: process.stderr });
    process.stdout.write(
      `\nBackfill ${report.runId} (${report.started === 'attached' ? 'attached to the running workflow' : 'completed'})\n` +
        `CSV: ${report.csvPath}\n\n${formatBackfillSummary(report.summary)}`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`invoice-gate backfill: ${error instanceof Error ? error.message : String(error)}\n`);
    logger.error({ err: error }, 'backfill failed');
    return 1;
  } finally {
    await context?.stop();
    await services?.stop().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
  }
}

void main().then((code) => process.exit(code));
