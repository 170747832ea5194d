// Runs the embedded Temporal engine alone: `tsx emulators/temporal/cli.ts [--port 7233]
// [--namespace default] [--time-skipping] [--suggest-continue-as-new-at EVENTS] [--verbose]`.
import { parseArgs } from 'node:util';
import { startTemporalEmulator } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7233' },
      host: { type: 'string', default: '127.0.0.1' },
      namespace: { type: 'string', default: 'default' },
      'time-skipping': { type: 'boolean', default: false },
      // As the server's limit.historyCount.suggestContinueAsNew (default 4096).
      'suggest-continue-as-new-at': { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const suggestAt = values['suggest-continue-as-new-at'];
  const historyLength = suggestAt === undefined ? undefined : Number(suggestAt);
  if (historyLength !== undefined && !(Number.isInteger(historyLength) && historyLength > 0))
    throw new Error(`invalid --suggest-continue-as-new-at ${suggestAt} (a number of history events)`);
  const emulator = await startTemporalEmulator({
    port,
    host: values.host,
    namespace: values.namespace,
    timeSkipping: values['time-skipping'],
    continueAsNewSuggestedAt: { historyLength },
    log: values.verbose ? (msg) => console.log(`[temporal] ${msg}`) : undefined,
  });
  console.log(
    `Temporal emulator listening on ${emulator.address} (namespace ${emulator.namespace}${values['time-skipping'] ? ', time skipping' : ''})`,
  );
  const shutdown = () => {
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
