// `npm run server`: the HTTP half alone, for deployments that scale it apart from the worker.
import { runFromCommandLine } from '../command-line';
import { startServer } from '../server';

void runFromCommandLine({ server: true, worker: false }, async (context) => {
  await startServer(context);
});
