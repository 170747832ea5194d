// `npm start`: the HTTP server and the Temporal worker in one process; whatever the environment
// leaves unset runs on an embedded default, and the log says which, once, at start.
import { runFromCommandLine } from '../command-line';
import { startServer } from '../server';
import { startWorker } from '../worker';

void runFromCommandLine({ server: true, worker: true }, async (context) => {
  await startWorker(context);
  await startServer(context);
});
