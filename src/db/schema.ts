// Kysely types of the gate's own tables (schema `invoice_gate` by default; the schema is applied with
// `db.withSchema(schema)`, so table names here are unqualified). numeric -> string, timestamptz -> Date.
import type { ColumnType, Generated } from 'kysely';

/** numeric: exact decimal string both ways. */
export type Numeric = ColumnType<string, string, string>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;

export const DEFAULT_GATE_SCHEMA = 'invoice_gate';

export interface GateRunsTable {
  /** bigint identity, returned by pg as a string. */
  id: ColumnType<string, never, never>;
  workflow_id: string;
  run_id: string;
  invoice_id: string;
  customer_id: string | null;
  period_start: Timestamp | null;
  period_end: Timestamp | null;
  currency: string | null;
  /** GateStatus: reading, counting, recounting, or an outcome. */
  status: string;
  /** GateOutcome once known (held is an outcome that is not final). */
  outcome: string | null;
  /** Sums of the latest round's line quantities (across lines; mostly useful with one line). */
  stripe_total: Numeric | null;
  ledger_total: Numeric | null;
  max_variance_pct: Numeric | null;
  total_estimated_impact_minor: Numeric | null;
  tolerance_pct: Numeric | null;
  tolerance_abs: Numeric | null;
  /** The money limit (minor units) of the latest round; null when none was configured. */
  tolerance_money: Numeric | null;
  /** Latest comparison round recorded: 0 = first count, 1.. = recounts. */
  recounts: Generated<number>;
  reviewer: string | null;
  decision_note: string | null;
  slack_channel: string | null;
  slack_ts: string | null;
  reason: string | null;
  started_at: Timestamp;
  decided_at: Timestamp | null;
  finished_at: Timestamp | null;
  updated_at: Timestamp;
  /** Stripe's status of the invoice: draft, open, paid, uncollectible, void, deleted; never moves back. */
  invoice_status: string | null;
  invoice_status_at: Timestamp | null;
  /** invoice.payment_failed attempts seen. */
  payment_failures: Generated<number>;
  /** webhook, or sweep (the invoice.created webhook never came). */
  started_by: Generated<string>;
  /** enforce or observe, as the gate decided; null before its first outcome (and before migration 0005). */
  mode: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the gate first recorded `would_hold` (observe mode); kept when the outcome changes later. */
  would_hold_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When the run was last held (it can be held again after passing); null when never held (migration 0009). */
  held_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Stripe's `automatically_finalizes_at` as the gate first read it, before any pause moved it. */
  finalizes_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface GateLinesTable {
  run_id: string;
  recount: number;
  /** What the round was for: check, recount, late_usage, finalized. */
  kind: Generated<string>;
  line_id: string;
  /** Index of the line in the comparison (invoice order). */
  position: number;
  description: string | null;
  event_name: string;
  formula: string;
  period_start: Timestamp;
  period_end: Timestamp;
  stripe_quantity: Numeric;
  ledger_quantity: Numeric;
  difference: Numeric;
  variance_pct: Numeric | null;
  estimated_impact_minor: Numeric | null;
  /** Why estimated_impact_minor is null (the price shape the gate could not price, ...). */
  impact_unavailable_reason: string | null;
  passed: boolean;
  recorded_at: Timestamp;
}

export interface StripeEventsTable {
  event_id: string;
  type: string;
  invoice_id: string | null;
  /** Stripe's `created` of the event. */
  payload_created: Timestamp | null;
  received_at: Timestamp;
  last_received_at: Timestamp;
  /** Deliveries after the first. */
  duplicate_count: Generated<number>;
}

export interface ReviewAttemptsTable {
  id: ColumnType<string, never, never>;
  /** Optional dedupe key (e.g. Slack's action_ts): a retried write with the same key is ignored. */
  attempt_key: string | null;
  invoice_id: string;
  slack_user_id: string;
  action: string;
  allowed: boolean;
  outcome: string;
  at: Timestamp;
}

/** A backfill report run (`npm run backfill`); `id` is its workflow id, derived from the arguments. */
export interface BackfillRunsTable {
  id: string;
  /** The normalised arguments (since, until, customer, statuses) as JSON. */
  arguments: ColumnType<unknown, string, string>;
  /** running, completed, failed */
  status: string;
  /** Invoices Stripe listed for the window when the run (last) started. */
  invoices_total: number | null;
  invoices_done: Generated<number>;
  /** Invoices that could not be compared (see backfill_invoices.error). */
  invoices_failed: Generated<number>;
  lines_done: Generated<number>;
  lines_diverging: Generated<number>;
  started_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Timestamp | null;
  error: string | null;
}

/** One row per invoice a backfill run read (compared, or not comparable: `error`). */
export interface BackfillInvoicesTable {
  run_id: string;
  invoice_id: string;
  customer_id: string | null;
  invoice_status: string | null;
  created: Timestamp | null;
  currency: string | null;
  metered_lines: Generated<number>;
  other_lines: Generated<number>;
  error: string | null;
  recorded_at: Generated<Date>;
}

/** One row per compared metered line of a backfill run: the CSV's columns. */
export interface BackfillLinesTable {
  run_id: string;
  invoice_id: string;
  line_id: string;
  position: number;
  customer_id: string;
  invoice_status: string;
  created: Timestamp;
  event_name: string;
  period_start: Timestamp;
  period_end: Timestamp;
  stripe_quantity: Numeric;
  ledger_quantity: Numeric;
  difference: Numeric;
  variance_pct: Numeric | null;
  estimated_impact_minor: Numeric | null;
  currency: string;
  passed: boolean;
}

/** One decision attempt, accepted or refused; each row's hash covers its fields and the previous row's hash. */
export interface DecisionLogTable {
  /** 1, 2, 3 ... without gaps (bigint, returned by pg as a string). */
  seq: ColumnType<string, string, never>;
  /** Who made the attempt, once: a retried append with the same id adds nothing. */
  attempt_id: string | null;
  at: Timestamp;
  invoice_id: string;
  reviewer: string;
  /** release, recount, approve (or what an invalid request named). */
  action: string;
  reason: string | null;
  note: string | null;
  accepted: boolean;
  /** Why it was refused (a refusal code and its words); null when accepted. */
  refusal: string | null;
  /** slack, slack_socket, cli, run_page, signal ... */
  channel: string;
  /** The gate's status when the attempt arrived. */
  gate_status: string | null;
  money_at_stake: Numeric | null;
  currency: string | null;
  prev_hash: string;
  hash: string;
}

export interface GateDatabase {
  backfill_runs: BackfillRunsTable;
  backfill_invoices: BackfillInvoicesTable;
  backfill_lines: BackfillLinesTable;
  gate_runs: GateRunsTable;
  gate_lines: GateLinesTable;
  stripe_events: StripeEventsTable;
  review_attempts: ReviewAttemptsTable;
  decision_log: DecisionLogTable;
}
