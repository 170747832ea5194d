// `npm run worker`: the Temporal worker alone, for deployments that scale it apart from the server.
import { runFromCommandLine } from '../command-line';
import { startWorker } from '../worker';

void runFromCommandLine({ server: false, worker: true }, async (context) => {
  await startWorker(context);
});
