// The service's environment, parsed and validated once at start (see the Configuration table in
// docs/contract.md). Unset services stay undefined: the start-up wiring picks the embedded defaults.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { DEFAULT_METER_ERRORS_ACTION, METER_ERRORS_ACTIONS, type MeterErrorsAction } from '../gate/meter-errors';
import { DEFAULT_HISTORY_SETTINGS, parseJumpFactor, type HistorySettings } from '../gate/history-jump';
import { parseSecondApprovalThreshold } from '../gate/second-approval';
import type { GateMode, ReviewSettings, Tolerance } from '../gate/types';
import { ConfigError, type ConfigIssue } from './config-error';
import { formatDuration, parseDuration } from './duration';

export { ConfigError, type ConfigIssue } from './config-error';

export type Env = Record<string, string | undefined>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  port: number;
  host: string;
  /** Gate schema + ledger; undefined -> embedded PGlite. */
  databaseUrl: string | undefined;
  /** Separate (read-only) ledger connection; undefined -> same as databaseUrl. */
  ledgerDatabaseUrl: string | undefined;
  temporal: {
    /** host:port; undefined -> the embedded Temporal emulator. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    apiKey: string | undefined;
    /** TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY as given (a file path, or PEM text starting with -----BEGIN). */
    tlsCert: string | undefined;
    tlsKey: string | undefined;
    /** TEMPORAL_UI_URL as given; undefined -> http://localhost:8233 with a real Temporal, no link on the embedded engine. */
    uiUrl: string | undefined;
    /** TEMPORAL_MAX_CACHED_WORKFLOWS; undefined -> the SDK's default, from the V8 heap limit. */
    maxCachedWorkflows: number | undefined;
  };
  stripe: {
    secretKey: string | undefined;
    webhookSecret: string | undefined;
    /**
     * STRIPE_THIN_WEBHOOK_SECRET: the event destination's signing secret for thin (v2) events at
     * POST /webhooks/stripe/thin; undefined -> the emulator's own destination, or the route is off.
     */
    thinWebhookSecret: string | undefined;
    /** undefined -> https://api.stripe.com, or the emulator when the key is unset. */
    apiUrl: string | undefined;
    /** STRIPE_MAX_REQUESTS_PER_SECOND; undefined -> 80 for live keys, 20 for test keys, none for the emulator. */
    maxRequestsPerSecond: number | undefined;
  };
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    channelId: string | undefined;
    /** undefined -> https://slack.com/api/, or the emulator. */
    apiUrl: string | undefined;
    /** Who may release or recount; empty -> nobody (start-up warns). */
    reviewerIds: string[];
    /** SLACK_APP_TOKEN (`xapp-...`): clicks arrive over Socket Mode instead of POST /slack/interactions. */
    appToken: string | undefined;
  };
  /** From GATE_TOLERANCE_PCT / _ABS / _MONEY (money only when set); the config file may override it. */
  tolerance: Tolerance;
  /** Who may decide and when a release needs a second reviewer; the workflow validates every decision with it. */
  review: ReviewSettings;
  /** INVOICE_GATE_CONFIG: path of the JSON config file. */
  gateConfigPath: string | undefined;
  /** GATE_MODE: `enforce` pauses diverging invoices, `observe` only records what it would do; per customer in the config file. */
  mode: GateMode;
  /** GATE_DIGEST_AT: minutes after 00:00 UTC at which the daily observe-mode digest is posted; null = off. */
  digestAtMinuteUtc: number | null;
  lifecycle: {
    /** GATE_DECIDE_MARGIN: pause an undecided invoice this long before Stripe finalizes it. */
    decideMarginMs: number;
    /** GATE_SWEEP_EVERY: how often drafts of the last 2 h are listed for missed webhooks; null = off. */
    sweepEveryMs: number | null;
    /** GATE_FOLLOW_FINALIZED_FOR: how long a finalized invoice is followed for payment. */
    followFinalizedForMs: number;
  };
  reminder: {
    /** GATE_REMINDER_AFTER: first reminder for a held invoice, in ms. */
    afterMs: number;
    /** GATE_REMINDER_EVERY: then every, in ms. */
    everyMs: number;
  };
  /** The reviewers' run page (GET /invoices/:invoiceId) and the signed links to it. */
  runPage: {
    /** GATE_LINK_SECRET; undefined -> derived from the Stripe secret key, random on the emulator (src/run-page/link-signature.ts). */
    linkSecret: string | undefined;
    /** GATE_PUBLIC_URL: where reviewers reach this server; undefined -> the server's own address. */
    publicUrl: string | undefined;
    /** GATE_LINK_EXPIRY: how long a link in Slack opens the page. */
    linkExpiryMs: number;
  };
  /** GATE_HISTORY_JUMP / GATE_HISTORY_ACTION: each line against the customer's previous invoices. */
  history: HistorySettings;
  /** GATE_METER_ERRORS_ACTION: a draft whose customer had meter events rejected by Stripe in its period. */
  meterErrorsAction: MeterErrorsAction;
  logLevel: LogLevel;
  /** GATE_METRICS_TOKEN: GET /metrics requires `Authorization: Bearer <token>`; undefined -> open. */
  metricsToken: string | undefined;
  /**
   * GATE_ALLOW_EMBEDDED=1: embedded and real services may be mixed, and a live Stripe key may run on the
   * embedded Temporal engine or database (tests).
   */
  allowEmbedded: boolean;
}

/** Empty values (`FOO=` in a .env file) count as unset. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const text = z.string().trim();
/** A URL whose scheme is one of `protocols` (e.g. 'https:'). */
const urlWith = (protocols: string[], message: string) =>
  text.refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message },
  );
const databaseUrl = urlWith(['postgres:', 'postgresql:'], 'must be a postgres:// or postgresql:// URL');
const httpUrl = urlWith(['http:', 'https:'], 'must be an http:// or https:// URL');
const port = text
  .regex(/^\d+$/, 'must be a whole number from 0 to 65535')
  .transform(Number)
  .refine((n) => n <= 65535, {
    message: 'must be a whole number from 0 to 65535',
  });
const hostPort = text.regex(
  /^[^\s/:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/,
  'must be host:port, e.g. localhost:7233',
);
export const NON_NEGATIVE_DECIMAL = /^\d+(\.\d+)?$/;
const nonNegativeDecimal = text.regex(NON_NEGATIVE_DECIMAL, 'must be a non-negative decimal number, e.g. 1 or 0.5');
const duration = text.transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive duration like 90s, 30m, 4h, 1d, or milliseconds' });
    return z.NEVER;
  }
  return ms;
});
export const GATE_MODES = ['enforce', 'observe'] as const;
/** `HH` or `HH:MM` (UTC), or `off`: minutes after midnight UTC, or null. */
const digestAt = text.toLowerCase().transform((v, ctx) => {
  if (v === 'off') return null;
  const match = /^(\d{1,2})(?::(\d{2}))?$/.exec(v);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2] ?? '0');
  if (!match || hours > 23 || minutes > 59) {
    ctx.addIssue({ code: 'custom', message: 'must be a UTC time of day, HH or HH:MM (e.g. 9 or 09:30), or off' });
    return z.NEVER;
  }
  return hours * 60 + minutes;
});
const SLACK_ID = /^[A-Za-z0-9_-]+$/;
const reviewerIds = text.transform((v, ctx) => {
  const ids = [
    ...new Set(
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const bad = ids.filter((id) => !SLACK_ID.test(id));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be comma-separated Slack user IDs (e.g. U012ABCDEF); not IDs: ${bad.join(', ')}`,
    });
    return z.NEVER;
  }
  return ids;
});

const envSchema = z.object({
  PORT: optional(port).default(3000),
  HOST: optional(text).default('127.0.0.1'),
  DATABASE_URL: optional(databaseUrl),
  LEDGER_DATABASE_URL: optional(databaseUrl),
  TEMPORAL_ADDRESS: optional(hostPort),
  TEMPORAL_NAMESPACE: optional(text).default('default'),
  TEMPORAL_TASK_QUEUE: optional(text).default('invoice-gate'),
  TEMPORAL_API_KEY: optional(text),
  TEMPORAL_TLS_CERT: optional(text),
  TEMPORAL_TLS_KEY: optional(text),
  TEMPORAL_UI_URL: optional(httpUrl),
  // 0 turns the cache off; 1 is refused by the SDK (it needs room for a workflow and its query).
  TEMPORAL_MAX_CACHED_WORKFLOWS: optional(
    text
      .regex(/^\d+$/, 'must be 0 (no cache) or a whole number of at least 2')
      .transform(Number)
      .refine((n) => n !== 1, { message: 'must be 0 (no cache) or a whole number of at least 2' }),
  ),
  STRIPE_SECRET_KEY: optional(
    text.regex(/^(sk|rk)_\S+$/, 'must be a Stripe secret or restricted key (sk_test_..., sk_live_..., rk_...)'),
  ),
  STRIPE_WEBHOOK_SECRET: optional(text.regex(/^whsec_\S+$/, 'must be a webhook signing secret (whsec_...)')),
  STRIPE_THIN_WEBHOOK_SECRET: optional(
    text.regex(/^whsec_\S+$/, 'must be an event destination signing secret (whsec_...)'),
  ),
  STRIPE_API_URL: optional(httpUrl),
  STRIPE_MAX_REQUESTS_PER_SECOND: optional(
    text
      .regex(/^\d+(\.\d+)?$/, 'must be a positive number of requests per second')
      .transform(Number)
      .refine((n) => n > 0, {
        message: 'must be a positive number of requests per second',
      }),
  ),
  SLACK_BOT_TOKEN: optional(text.regex(/^xox[a-z]-\S+$/, 'must be a Slack bot token (xoxb-...)')),
  SLACK_SIGNING_SECRET: optional(text),
  SLACK_CHANNEL_ID: optional(text.regex(/^[A-Za-z0-9_-]+$/, 'must be a Slack channel ID, e.g. C012ABCDEF')),
  SLACK_API_URL: optional(httpUrl),
  SLACK_REVIEWER_IDS: optional(reviewerIds).default([]),
  SLACK_APPROVER_IDS: optional(reviewerIds),
  /** Minor units: `50000` for every currency, `usd=50000,eur=40000` per currency. */
  GATE_SECOND_APPROVAL_ABOVE: optional(
    text.transform((v, ctx) => {
      try {
        return parseSecondApprovalThreshold(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  ),
  SLACK_APP_TOKEN: optional(
    text.regex(/^xapp-\S+$/, 'must be a Slack app-level token (xapp-..., with the connections:write scope)'),
  ),
  GATE_TOLERANCE_PCT: optional(nonNegativeDecimal).default('1'),
  GATE_TOLERANCE_ABS: optional(nonNegativeDecimal).default('0'),
  /** Minor units of the invoice currency; unset: no money limit. */
  GATE_TOLERANCE_MONEY: optional(nonNegativeDecimal),
  INVOICE_GATE_CONFIG: optional(text),
  GATE_MODE: optional(
    text.toLowerCase().pipe(z.enum(GATE_MODES, { message: `must be one of ${GATE_MODES.join(', ')}` })),
  ).default('enforce'),
  GATE_DIGEST_AT: optional(digestAt).default(9 * 60),
  GATE_REMINDER_AFTER: optional(duration).default(4 * 3_600_000),
  GATE_REMINDER_EVERY: optional(duration).default(24 * 3_600_000),
  GATE_DECIDE_MARGIN: optional(duration).default(15 * 60_000),
  /** `off` (or 0) turns the sweep for missed webhooks off. */
  GATE_SWEEP_EVERY: optional(
    text.transform((v, ctx) => {
      if (v === 'off' || v === '0') return null;
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a positive duration like 5m, or off' });
        return z.NEVER;
      }
      return ms;
    }),
  ).default(5 * 60_000),
  GATE_FOLLOW_FINALIZED_FOR: optional(duration).default(45 * 86_400_000),
  GATE_LINK_SECRET: optional(text.min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')),
  GATE_PUBLIC_URL: optional(httpUrl),
  GATE_LINK_EXPIRY: optional(duration).default(30 * 86_400_000),
  /** A factor above 1 like `5x` (a jump beyond it, or a drop below its inverse, is flagged); `off` turns it off. */
  GATE_HISTORY_JUMP: optional(
    text.transform((v, ctx) => {
      if (v === 'off') return null;
      const factor = parseJumpFactor(v);
      if (factor === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a factor above 1 like 5x or 2.5, or off' });
        return z.NEVER;
      }
      return factor;
    }),
  ).default(DEFAULT_HISTORY_SETTINGS.jump),
  GATE_HISTORY_ACTION: optional(
    text.toLowerCase().pipe(z.enum(['alert', 'hold'], { message: 'must be alert or hold' })),
  ).default(DEFAULT_HISTORY_SETTINGS.action),
  GATE_METER_ERRORS_ACTION: optional(
    text
      .toLowerCase()
      .pipe(z.enum(METER_ERRORS_ACTIONS, { message: `must be one of ${METER_ERRORS_ACTIONS.join(', ')}` })),
  ).default(DEFAULT_METER_ERRORS_ACTION),
  LOG_LEVEL: optional(
    text.toLowerCase().pipe(z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })),
  ).default('info'),
  GATE_METRICS_TOKEN: optional(
    text.regex(/^\S{16,}$/, 'must be at least 16 characters without spaces (e.g. openssl rand -hex 32)'),
  ),
  GATE_ALLOW_EMBEDDED: optional(z.enum(['0', '1'], { message: 'must be 1 (allow) or 0' })).default('0'),
});

/** Validates an environment (no .env reading). Throws ConfigError naming every bad variable. */
export function parseConfig(env: Env): AppConfig {
  const result = envSchema.safeParse(env);
  const issues: ConfigIssue[] = result.success
    ? []
    : result.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message }));
  const has = (name: string) => (env[name] ?? '').trim() !== '';
  if (has('TEMPORAL_TLS_CERT') !== has('TEMPORAL_TLS_KEY')) {
    const missing = has('TEMPORAL_TLS_CERT') ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT';
    issues.push({ variable: missing, message: 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mTLS)' });
  }
  if (!result.success || issues.length > 0) throw new ConfigError(issues);
  const e = result.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    ledgerDatabaseUrl: e.LEDGER_DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tlsCert: e.TEMPORAL_TLS_CERT,
      tlsKey: e.TEMPORAL_TLS_KEY,
      uiUrl: e.TEMPORAL_UI_URL,
      maxCachedWorkflows: e.TEMPORAL_MAX_CACHED_WORKFLOWS,
    },
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      thinWebhookSecret: e.STRIPE_THIN_WEBHOOK_SECRET,
      apiUrl: e.STRIPE_API_URL,
      maxRequestsPerSecond: e.STRIPE_MAX_REQUESTS_PER_SECOND,
    },
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      channelId: e.SLACK_CHANNEL_ID,
      apiUrl: e.SLACK_API_URL,
      reviewerIds: e.SLACK_REVIEWER_IDS,
      appToken: e.SLACK_APP_TOKEN,
    },
    tolerance: {
      pct: e.GATE_TOLERANCE_PCT,
      abs: e.GATE_TOLERANCE_ABS,
      ...(e.GATE_TOLERANCE_MONEY === undefined ? {} : { money: e.GATE_TOLERANCE_MONEY }),
    },
    review: {
      reviewers: e.SLACK_REVIEWER_IDS,
      approvers: e.SLACK_APPROVER_IDS ?? null,
      secondApprovalAbove: e.GATE_SECOND_APPROVAL_ABOVE ?? null,
    },
    gateConfigPath: e.INVOICE_GATE_CONFIG,
    mode: e.GATE_MODE,
    digestAtMinuteUtc: e.GATE_DIGEST_AT,
    reminder: { afterMs: e.GATE_REMINDER_AFTER, everyMs: e.GATE_REMINDER_EVERY },
    lifecycle: {
      decideMarginMs: e.GATE_DECIDE_MARGIN,
      sweepEveryMs: e.GATE_SWEEP_EVERY,
      followFinalizedForMs: e.GATE_FOLLOW_FINALIZED_FOR,
    },
    runPage: { linkSecret: e.GATE_LINK_SECRET, publicUrl: e.GATE_PUBLIC_URL, linkExpiryMs: e.GATE_LINK_EXPIRY },
    history: { jump: e.GATE_HISTORY_JUMP, action: e.GATE_HISTORY_ACTION },
    meterErrorsAction: e.GATE_METER_ERRORS_ACTION,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.GATE_METRICS_TOKEN,
    allowEmbedded: e.GATE_ALLOW_EMBEDDED === '1',
  };
}

export interface LoadConfigOptions {
  /** The .env file to read; false to read none. Default: `.env` in the working directory. */
  dotenvPath?: string | false;
}

/**
 * Reads `.env` when present (real environment variables win; process.env is not modified) and
 * parses the result. Call once at start and pass the AppConfig on.
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): AppConfig {
  const path = options.dotenvPath === false ? undefined : resolve(options.dotenvPath ?? '.env');
  const fromFile = path && existsSync(path) ? parseDotenv(readFileSync(path)) : {};
  const merged: Env = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  return parseConfig(merged);
}

/** A database URL with its password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return '[unparseable URL]';
  }
}

function secret(value: string | undefined, keepPrefix?: RegExp): string {
  if (value === undefined) return 'unset';
  const prefix = keepPrefix ? (value.match(keepPrefix)?.[0] ?? '') : '';
  return `${prefix}***`;
}

function pemOrPath(value: string | undefined, isKey: boolean): string {
  if (value === undefined) return 'unset';
  if (value.startsWith('-----BEGIN')) return isKey ? 'PEM (***)' : 'PEM';
  return value;
}

/** The configuration with every secret redacted: safe to log. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  return {
    http: `${config.host}:${config.port}`,
    database: config.databaseUrl ? redactUrl(config.databaseUrl) : 'embedded PGlite',
    ledgerDatabase: config.ledgerDatabaseUrl ? redactUrl(config.ledgerDatabaseUrl) : 'same as database',
    temporal: {
      address: config.temporal.address ?? 'embedded',
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      apiKey: secret(config.temporal.apiKey),
      tlsCert: pemOrPath(config.temporal.tlsCert, false),
      tlsKey: pemOrPath(config.temporal.tlsKey, true),
      uiUrl: config.temporal.uiUrl ?? 'default (http://localhost:8233; none on the embedded engine)',
      maxCachedWorkflows: config.temporal.maxCachedWorkflows ?? 'SDK default (from the heap limit)',
    },
    stripe: {
      secretKey: secret(config.stripe.secretKey, /^(sk|rk)_(test|live)_/),
      webhookSecret: secret(config.stripe.webhookSecret, /^whsec_/),
      thinWebhookSecret: secret(config.stripe.thinWebhookSecret, /^whsec_/),
      apiUrl: config.stripe.apiUrl ?? 'default',
      maxRequestsPerSecond: config.stripe.maxRequestsPerSecond ?? 'by key mode',
    },
    slack: {
      botToken: secret(config.slack.botToken, /^xox[a-z]-/),
      signingSecret: secret(config.slack.signingSecret),
      channelId: config.slack.channelId ?? 'unset',
      apiUrl: config.slack.apiUrl ?? 'default',
      reviewerIds: config.slack.reviewerIds,
      appToken: secret(config.slack.appToken, /^xapp-/),
      interactivity: config.slack.appToken ? 'socket mode' : 'POST /slack/interactions',
    },
    tolerance: config.tolerance,
    review: {
      approvers: config.review.approvers ?? 'any reviewer other than the first',
      secondApprovalAbove: config.review.secondApprovalAbove ?? 'unset: one reviewer releases',
    },
    gateConfig: config.gateConfigPath ?? 'built-in defaults',
    mode: config.mode,
    digestAt: config.digestAtMinuteUtc === null ? 'off' : `${formatMinuteUtc(config.digestAtMinuteUtc)} UTC`,
    reminder: { after: formatDuration(config.reminder.afterMs), every: formatDuration(config.reminder.everyMs) },
    lifecycle: {
      decideMargin: formatDuration(config.lifecycle.decideMarginMs),
      sweepEvery: config.lifecycle.sweepEveryMs === null ? 'off' : formatDuration(config.lifecycle.sweepEveryMs),
      followFinalizedFor: formatDuration(config.lifecycle.followFinalizedForMs),
    },
    runPage: {
      linkSecret: config.runPage.linkSecret
        ? '***'
        : 'derived from the Stripe secret key (random per process on the Stripe emulator)',
      publicUrl: config.runPage.publicUrl ?? "the server's own address",
      linkExpiry: formatDuration(config.runPage.linkExpiryMs),
    },
    history: { jump: config.history.jump === null ? 'off' : `${config.history.jump}x`, action: config.history.action },
    meterErrorsAction: config.meterErrorsAction,
    logLevel: config.logLevel,
    metricsToken: config.metricsToken ? '***' : 'unset (GET /metrics is open)',
    allowEmbedded: config.allowEmbedded,
  };
}

/** 540 -> "09:00". */
export function formatMinuteUtc(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
