// The INVOICE_GATE_CONFIG JSON file: ledger mapping and tolerances. Every field is optional; the
// defaults are the contract's (table billable_events, 1 % / 0 tolerance from the environment).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { GateMode, Tolerance } from '../gate/types';
import { ConfigError } from './config-error';
import { GATE_MODES } from './env';
import { sqlFilterProblem } from './sql-filter';

/** Table, schema and column names: quoted with sql.id, and still restricted to plain identifiers. */
export const SAFE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** `id` (the Stripe customer id) or `metadata.<key>` (that Stripe customer metadata value). */
export type CustomerKey = 'id' | `metadata.${string}`;

export interface LedgerMapping {
  schema: string;
  table: string;
  columns: { customer: string; eventName: string; value: string; occurredAt: string };
  customerKey: CustomerKey;
  /** Extra SQL boolean expression over the ledger table's columns, ANDed into the WHERE (one expression: sql-filter.ts). */
  filter: string | null;
  /** Meter id or meter event_name -> ledger event_name (a meter id entry wins). */
  eventNames: Record<string, string>;
  /** A daily rollup of the ledger (src/ledger/ledger-rollup.ts) for count and sum over whole UTC days. */
  rollup: { schema: string; table: string } | null;
}

export interface GateConfig {
  ledger: LedgerMapping;
  /** Global tolerance: the file's values over the environment's. */
  tolerance: Tolerance;
  /** Per Stripe customer id: fields given here override the global tolerance (and GATE_MODE). */
  customers: Record<string, { tolerance: Partial<Tolerance>; mode?: GateMode }>;
}

export const DEFAULT_LEDGER_MAPPING: LedgerMapping = {
  schema: 'public',
  table: 'billable_events',
  columns: { customer: 'stripe_customer_id', eventName: 'event_name', value: 'value', occurredAt: 'occurred_at' },
  customerKey: 'id',
  filter: null,
  eventNames: {},
  rollup: null,
};

const identifier = z
  .string()
  .regex(
    SAFE_IDENTIFIER,
    'must be a plain SQL identifier (letters, digits, _ or $, not starting with a digit, at most 63 characters)',
  );

/** JSON numbers are accepted too, but strings keep decimals exact. */
const nonNegativeDecimal = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal, e.g. "1" or "0.5"'));

const toleranceSchema = z.strictObject({
  pct: nonNegativeDecimal.optional(),
  abs: nonNegativeDecimal.optional(),
  /** Minor units of the invoice currency. */
  money: nonNegativeDecimal.optional(),
});

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  ledger: z
    .strictObject({
      schema: identifier.optional(),
      table: identifier.optional(),
      columns: z
        .strictObject({
          customer: identifier.optional(),
          eventName: identifier.optional(),
          value: identifier.optional(),
          occurredAt: identifier.optional(),
        })
        .optional(),
      customerKey: z
        .string()
        .regex(/^(id|metadata\..+)$/, 'must be "id" or "metadata.<key>"')
        .optional(),
      filter: z
        .string()
        .trim()
        .min(1, 'must be a SQL boolean expression, or null')
        .superRefine((f, ctx) => {
          const problem = sqlFilterProblem(f);
          if (problem) ctx.addIssue({ code: 'custom', message: `${problem}: ${JSON.stringify(f)}` });
        })
        .nullable()
        .optional(),
      eventNames: z.record(z.string().min(1), z.string().min(1, 'must be a ledger event name')).optional(),
      rollup: z.strictObject({ schema: identifier.optional(), table: identifier }).nullable().optional(),
    })
    .optional(),
  tolerance: toleranceSchema.optional(),
  customers: z
    .record(
      z.string().min(1),
      z.strictObject({
        tolerance: toleranceSchema.optional(),
        mode: z.enum(GATE_MODES, { message: `must be one of ${GATE_MODES.join(', ')}` }).optional(),
      }),
    )
    .optional(),
});

/** Validates a parsed config file. `source` names it in errors. */
export function parseGateConfig(input: unknown, envTolerance: Tolerance, source = 'INVOICE_GATE_CONFIG'): GateConfig {
  const result = fileSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => ({ variable: i.path.length ? i.path.join('.') : '(root)', message: i.message })),
      `Invalid ${source}`,
    );
  }
  const file = result.data;
  const d = DEFAULT_LEDGER_MAPPING;
  const customers: GateConfig['customers'] = {};
  for (const [id, c] of Object.entries(file.customers ?? {}))
    customers[id] = { tolerance: definedOnly(c.tolerance ?? {}), ...(c.mode ? { mode: c.mode } : {}) };
  return {
    ledger: {
      schema: file.ledger?.schema ?? d.schema,
      table: file.ledger?.table ?? d.table,
      columns: { ...d.columns, ...definedOnly(file.ledger?.columns ?? {}) },
      customerKey: (file.ledger?.customerKey ?? d.customerKey) as CustomerKey,
      filter: file.ledger?.filter ?? null,
      eventNames: { ...(file.ledger?.eventNames ?? {}) },
      rollup: file.ledger?.rollup
        ? { schema: file.ledger.rollup.schema ?? file.ledger.schema ?? d.schema, table: file.ledger.rollup.table }
        : null,
    },
    tolerance: { ...envTolerance, ...definedOnly(file.tolerance ?? {}) },
    customers,
  };
}

/** Reads and validates the file at `path`; no path -> the built-in defaults. Throws ConfigError. */
export function loadGateConfig(path: string | undefined, envTolerance: Tolerance): GateConfig {
  if (path === undefined) return parseGateConfig({}, envTolerance);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { variable: 'INVOICE_GATE_CONFIG', message: `cannot read ${path}: ${(err as Error).message}` },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError([
      { variable: 'INVOICE_GATE_CONFIG', message: `${path} is not valid JSON: ${(err as Error).message}` },
    ]);
  }
  return parseGateConfig(json, envTolerance, `INVOICE_GATE_CONFIG (${path})`);
}

/** The tolerance that applies to one customer: per-customer fields over the global ones. */
export function toleranceFor(config: GateConfig, customerId: string): Tolerance {
  return { ...config.tolerance, ...(config.customers[customerId]?.tolerance ?? {}) };
}

/** The mode for one customer: the customer's own `mode` in the file, else GATE_MODE. */
export function modeFor(config: GateConfig, customerId: string, globalMode: GateMode): GateMode {
  return (Object.hasOwn(config.customers, customerId) ? config.customers[customerId].mode : undefined) ?? globalMode;
}

/** The ledger event_name for a meter: by meter id, then by meter event_name, else unchanged. */
export function ledgerEventName(mapping: LedgerMapping, line: { meterId: string; eventName: string }): string {
  const names = mapping.eventNames;
  if (Object.hasOwn(names, line.meterId)) return names[line.meterId];
  if (Object.hasOwn(names, line.eventName)) return names[line.eventName];
  return line.eventName;
}

function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
