// GET /healthz (liveness), GET /readyz (can we do work: Temporal and the database reachable) and
// GET /metrics (Prometheus text). Orchestrators restart on a failing /healthz and stop routing on a
// failing /readyz, so /healthz never depends on anything outside the process. These routes answer on
// the port Stripe and Slack reach: their bodies never carry a dependency's error text (it goes to the
// log), and with GATE_METRICS_TOKEN set /metrics answers only `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';

/** A readiness check: resolves when the dependency is usable, rejects (or times out) otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  /** why the check failed; absent when ok */
  error?: string;
  /** the check did not answer within its time limit */
  timedOut?: boolean;
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
  /** GATE_METRICS_TOKEN: when set, /metrics requires `Authorization: Bearer <token>` */
  metricsToken?: string;
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
      ...(err instanceof CheckTimeoutError ? { timedOut: true } : {}),
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

/** What /readyz shows of a failed check: whether it timed out, never the dependency's own words. */
const PUBLIC_CHECK_ERROR = { timedOut: 'timed out', failed: 'failed (the log says why)' } as const;

/** The report as answered: each failed check's error made generic (the detailed report is logged). */
export function publicReadinessReport(report: ReadinessReport): ReadinessReport {
  const checks: ReadinessReport['checks'] = {};
  for (const [name, result] of Object.entries(report.checks)) {
    checks[name] = result.ok
      ? result
      : {
          ok: false,
          error: result.timedOut ? PUBLIC_CHECK_ERROR.timedOut : PUBLIC_CHECK_ERROR.failed,
          durationMs: result.durationMs,
        };
  }
  return { status: report.status, checks };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Whether the Authorization header carries the token (compared in constant time, as digests of equal length). */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(sha256(match[1]), sha256(token));
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

/** The start-up warning for a /metrics anyone on the network can read, or null when it is not. */
export function openMetricsWarning(host: string, metricsToken: string | undefined): string | null {
  if (metricsToken || LOOPBACK_HOSTS.test(host)) return null;
  return `/metrics answers anyone who reaches ${host}, where Stripe and Slack reach the gate: set GATE_METRICS_TOKEN (Prometheus sends it as a bearer token), or keep the port off the internet`;
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
      return reply.code(503).send(publicReadinessReport(report));
    }
    return report;
  });

  const metrics = options.metrics;
  const token = options.metricsToken;
  if (metrics) {
    app.get('/metrics', { logLevel }, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      if (token !== undefined && !bearerTokenMatches(req.headers.authorization, token)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send({ error: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <GATE_METRICS_TOKEN>' });
      }
      try {
        const { contentType, body } = await metrics.render();
        return reply.type(contentType).send(body);
      } catch (error) {
        req.log.error({ err: error }, 'metrics could not be rendered');
        return reply
          .code(503)
          .send({ error: 'metrics_unavailable', message: 'metrics are unavailable; the log says why' });
      }
    });
  }
};
