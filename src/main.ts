// `npm start`: HTTP server and Temporal worker in one process, with embedded defaults for whatever
// the environment leaves unset. `npm run server` / `npm run worker` run one half each.
import { execFileSync } from 'node:child_process';
import { startGate } from './app';
import { ConfigError, describeConfig, loadConfig } from './config/env';
import { createLogger } from './observability/logger';
import { resolveServices } from './runtime/embedded-services';

function temporalCliOnPath(): boolean {
  try {
    execFileSync('temporal', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function runFromCommandLine(roles: { server: boolean; worker: boolean }): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`invoice-gate: invalid configuration\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const both = roles.server && roles.worker;
  const services = await resolveServices(config, { emulators: both ? 'in-process' : 'external' });
  logger.info({ config: describeConfig(config), roles }, 'starting invoice-gate');
  if (services.notes.length > 0) {
    logger.info({ embedded: services.notes }, 'embedded defaults in use for what is not configured');
    if (services.temporal.embedded && temporalCliOnPath()) {
      logger.info('a temporal CLI is on the PATH: `temporal server start-dev` gives the Web UI; then set TEMPORAL_ADDRESS=localhost:7233');
    }
  }

  let gate;
  try {
    gate = await startGate({ config, services, logger, roles });
  } catch (error) {
    logger.fatal({ err: error }, 'invoice-gate could not start');
    await services.stop();
    process.exit(1);
  }
  if (gate.url) logger.info({ url: gate.url }, `invoice-gate is serving: POST ${gate.url}/webhooks/stripe, ${gate.url}/slack/interactions`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await gate.stop();
    await services.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

if (require.main === module) void runFromCommandLine({ server: true, worker: true });
