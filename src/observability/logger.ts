// pino settings shared by the Fastify server and the Temporal worker: one JSON line per event,
// never a secret. Every line about a gate carries `invoiceId` and `workflowId` (gateLogBindings).
import pino, { type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { redactSecrets, SECRET_KEYS } from './redact-secrets';
import { redactLinkSignatures, serializeRequest } from './request-log';
import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REDACTED = '[redacted]';

/**
 * What pino removes by path, without wildcards (cheap): Fastify's request and response headers (`req`
 * and `res` are serialized after the `log` formatter runs) and secret-named keys at the top level,
 * which also covers a child logger's bindings (pino runs the bindings formatter for the root only).
 * Deeper secret-named keys are removed by the `log` formatter (redactSecrets).
 */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'req.headers["x-slack-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...[...SECRET_KEYS].map((key) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`)),
];

export interface LoggerConfig {
  /** LOG_LEVEL; default `info` (`silent` in tests is common) */
  level?: string;
  /** bindings on every line, e.g. `{ service: 'invoice-gate', component: 'worker' }` */
  base?: Record<string, unknown>;
}

export function parseLogLevel(level: string | undefined): LogLevel {
  const normalized = (level ?? 'info').trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(normalized)) return normalized as LogLevel;
  throw new Error(`invalid log level ${JSON.stringify(level)}; use one of ${LOG_LEVELS.join(', ')}`);
}

/** pino options, usable as Fastify's `logger` option and for `pino(options)`. */
export function loggerOptions(config: LoggerConfig = {}): LoggerOptions {
  return {
    level: parseLogLevel(config.level),
    base: { service: 'invoice-gate', ...config.base },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // Fastify keeps a logger instance's serializers over its own: request URLs without link signatures.
    serializers: { req: serializeRequest },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Secret-named keys one and two levels into a line (the top level is redacted by path), and the
      // link signatures in a route's own `url` field (the Stripe webhook logs its requests itself).
      log: (object) => redactSecrets(withoutLinkSignature(object), REDACTED),
    },
  };
}

function withoutLinkSignature(object: Record<string, unknown>): Record<string, unknown> {
  const url = object.url;
  if (typeof url !== 'string' || !url.includes('?')) return object;
  const redacted = redactLinkSignatures(url);
  return redacted === url ? object : { ...object, url: redacted };
}

export function createLogger(config: LoggerConfig = {}, destination?: pino.DestinationStream): PinoLogger {
  return destination ? pino(loggerOptions(config), destination) : pino(loggerOptions(config));
}

/** Bindings for every log line about one gate: `logger.child(gateLogBindings(id, wfId))`. */
export function gateLogBindings(invoiceId: string, workflowId: string): { invoiceId: string; workflowId: string } {
  return { invoiceId, workflowId };
}

/**
 * Adapts a pino logger to the Temporal SDK's Logger interface, for `Runtime.install({ logger })`
 * and worker logs: SDK metadata becomes pino fields.
 */
export function temporalLoggerFromPino(logger: PinoLogger): TemporalLogger {
  const levels: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    const method = levels[level] ?? 'info';
    if (meta) logger[method](meta, message);
    else logger[method](message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
