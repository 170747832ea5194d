// What every `npm start` / `npm run server` / `npm run worker` process does around its halves: read
// and validate the configuration once, resolve the services (embedded defaults for what is unset),
// build the shared context, run the halves, and stop everything in order on SIGINT/SIGTERM.
import { execFileSync } from 'node:child_process';
import { ConfigError, describeConfig, loadConfig, type AppConfig } from './config/env';
import { refuseUnsafeEmbedded } from './config/mixed-services-guard';
import { createGateContext, type GateContext } from './context';
import { createLogger } from './observability/logger';
import { resolveServices } from './services/resolve-services';

export interface Roles {
  server: boolean;
  worker: boolean;
}

function loadConfigOrExit(): AppConfig {
  try {
    const config = loadConfig();
    refuseUnsafeEmbedded(config);
    return config;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`invoice-gate: invalid configuration\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

function temporalCliOnPath(): boolean {
  try {
    execFileSync('temporal', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `start` (which starts this process's halves) on a fresh context until a signal stops it. */
export async function runFromCommandLine(roles: Roles, start: (context: GateContext) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel });
  logger.info({ config: describeConfig(config), roles }, 'starting invoice-gate');

  let services: Awaited<ReturnType<typeof resolveServices>> | undefined;
  let context: GateContext | undefined;
  // Installed before anything starts: a SIGTERM while the halves start (an orchestrator's quick
  // stop) waits for the start to finish and then shuts down, instead of leaving a half-stopped process.
  let started = false;
  let signalled: string | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await context?.stop();
    await services?.stop().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
    process.exit(0);
  };
  const onSignal = (signal: string) => {
    if (started) void shutdown(signal);
    else signalled ??= signal;
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    // Only `npm start` runs the emulators in-process; the split commands share the ones from `npm run emulators`.
    services = await resolveServices(config, {
      emulators: roles.server && roles.worker ? 'in-process' : 'external',
      serves: roles.server,
    });
    if (services.notes.length > 0) {
      logger.info({ embedded: services.notes }, 'embedded defaults in use for what is not configured');
      if (services.temporal.embedded && temporalCliOnPath()) {
        logger.info(
          'a temporal CLI is on the PATH: `temporal server start-dev` gives the Web UI; then set TEMPORAL_ADDRESS=localhost:7233 and GATE_ALLOW_EMBEDDED=1 (real Temporal, the other services embedded: a development mix)',
        );
      }
    }
    context = await createGateContext({ config, services, logger });
    await start(context);
  } catch (error) {
    logger.fatal({ err: error }, 'invoice-gate could not start');
    await context?.stop();
    await services?.stop().catch((stopError: unknown) => logger.error({ err: stopError }, 'error while stopping'));
    process.exit(1);
  }

  started = true;
  if (signalled) void shutdown(signalled);
}
