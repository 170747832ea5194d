// GET /healthz (liveness), GET /readyz (can we do work: Temporal and the database reachable) and
// GET /metrics (Prometheus text). Orchestrators restart on a failing /healthz and stop routing on a
// failing /readyz, so /healthz never depends on anything outside the process.
import type { FastifyPluginAsync } from 'fastify';

/** A readiness check: resolves when the dependency is usable, rejects (or times out) otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  /** why the check failed; absent when ok */
  error?: string;
  durationMs: number;
}

export interface ReadinessReport {
  status: 'ready' | 'unready';
  checks: Record<string, CheckResult>;
}

export interface HealthRoutesOptions {
  /** named checks, e.g. `{ temporal: ..., database: ... }`; all run in parallel on each /readyz */
  checks: Record<string, ReadinessCheck>;
  /** per-check time limit; default 2000 ms */
  checkTimeoutMs?: number;
  /** Prometheus exposition for /metrics; without it /metrics is not registered */
  metrics?: { render(): Promise<{ contentType: string; body: string }> };
  /** true while the process drains before shutdown: /readyz answers 503 without running checks */
  isShuttingDown?: () => boolean;
}

const MAX_ERROR_LENGTH = 300;

class CheckTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]);
    return { ok: true, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    const message = err instanceof Error ? err.message || err.name : String(err);
    return {
      ok: false,
      error: message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}...` : message,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check with its timeout; ready only when all pass. */
export async function checkReadiness(
  checks: Record<string, ReadinessCheck>,
  timeoutMs = 2000,
): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name], timeoutMs)));
  const report: ReadinessReport = { status: 'ready', checks: {} };
  names.forEach((name, i) => {
    report.checks[name] = results[i];
    if (!results[i].ok) report.status = 'unready';
  });
  return report;
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, options) => {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  // Probes and scrapes every few seconds would drown the request log: log them at warn, unless the
  // service is already quieter than that.
  const severity = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
  const current = severity.find((level) => level === app.log.level) ?? 'info';
  const logLevel = severity.indexOf(current) > severity.indexOf('warn') ? current : 'warn';

  app.get('/healthz', { logLevel }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (options.isShuttingDown?.()) {
      return reply.code(503).send({ status: 'unready', checks: {}, reason: 'shutting down' });
    }
    const report = await checkReadiness(options.checks, timeoutMs);
    if (report.status === 'unready') {
      req.log.warn({ checks: report.checks }, 'not ready');
      return reply.code(503).send(report);
    }
    return report;
  });

  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', { logLevel }, async (_req, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.header('cache-control', 'no-store').type(contentType).send(body);
    });
  }
};
