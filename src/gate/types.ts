// Domain types shared by the workflow, activities and the HTTP edges.
// Quantities and money are decimal strings (never JS numbers) so they cross Temporal payloads exactly.
import type { DivergenceExplanation } from './divergence-buckets';
import type { HistoryCheck, HistorySettings } from './history-jump';
import type { SecondApprovalThreshold } from './second-approval';
import type { AggregationFormula, DecimalString, UnixSeconds } from './units';

export type { AggregationFormula, DecimalString, UnixSeconds };

/** One metered line of a draft invoice, resolved down to the meter it bills. */
export interface MeteredLine {
  lineId: string;
  description: string | null;
  priceId: string;
  meterId: string;
  /** The meter's event_name (before any ledger mapping). */
  eventName: string;
  formula: AggregationFormula;
  /** Service period of the line: [periodStart, periodEnd). */
  periodStart: UnixSeconds;
  periodEnd: UnixSeconds;
  /** quantity_decimal when Stripe sends it, else quantity. */
  stripeQuantity: DecimalString;
  /** Unit price in the currency's minor unit (cents), when the price has one. */
  unitAmountDecimal: DecimalString | null;
  /**
   * How the line's price turns a quantity into money, as Stripe has it. Absent on invoices read
   * before the gate read price shapes (recorded histories): their impact is per unit, as it was then.
   */
  pricing?: LinePricing;
}

/** One tier of a tiered price (Stripe's `price.tiers[]`); amounts in minor units. */
export interface PriceTier {
  /** Upper bound, inclusive; null for the last tier (`inf`). */
  upTo: DecimalString | null;
  unitAmountDecimal: DecimalString | null;
  flatAmountDecimal: DecimalString | null;
}

/**
 * A line's price shape: Stripe's `billing_scheme`, `unit_amount_decimal`, `transform_quantity`,
 * `tiers_mode` and `tiers`, kept as Stripe sends them so that an unknown shape can be named.
 */
export interface LinePricing {
  /** `per_unit` or `tiered` (anything else is reported as unavailable). */
  billingScheme: string;
  /** The price's currency (its `currency_options` are not read). */
  currency: string;
  /** The line's (the invoice's) currency: a price billed in another currency is not priced here. */
  billedCurrency: string;
  unitAmountDecimal: DecimalString | null;
  /** Package pricing: the quantity is divided by `divideBy`, then rounded `up` or `down`. */
  transformQuantity: { divideBy: number; round: string } | null;
  /** `graduated` or `volume`, for tiered prices. */
  tiersMode: string | null;
  /** null when Stripe did not send them (not expanded). */
  tiers: PriceTier[] | null;
  /** The price lets the customer choose the amount (`custom_unit_amount`). */
  customUnitAmount: boolean;
}

export interface InvoiceSnapshot {
  invoiceId: string;
  customerId: string;
  customerName: string | null;
  customerEmail: string | null;
  customerMetadata: Record<string, string>;
  /** draft | open | paid | uncollectible | void */
  status: string;
  autoAdvance: boolean;
  currency: string;
  livemode: boolean;
  /** Invoice-level period (for display only; lines carry their own periods). */
  periodStart: UnixSeconds;
  periodEnd: UnixSeconds;
  automaticallyFinalizesAt: UnixSeconds | null;
  meteredLines: MeteredLine[];
  /** Lines that are not metered (licensed seats, one-off items): not compared. */
  otherLineCount: number;
}

/** What the ledger is asked for one invoice. */
export interface LedgerCountRequest {
  customerId: string;
  customerMetadata: Record<string, string>;
  lines: Array<Pick<MeteredLine, 'lineId' | 'eventName' | 'meterId' | 'formula' | 'periodStart' | 'periodEnd'>>;
}

/** Ledger quantity per line id. */
export type LedgerCounts = Record<string, DecimalString>;

export interface Tolerance {
  /** Percent of the ledger quantity, e.g. "1" for 1 %. */
  pct: DecimalString;
  /** Absolute quantity. */
  abs: DecimalString;
  /**
   * Money limit per line in the invoice currency's minor units (GATE_TOLERANCE_MONEY): a line also
   * needs |estimated impact| <= money. Absent: no money limit (tolerances recorded before it existed).
   */
  money?: DecimalString;
}

export interface LineComparison {
  lineId: string;
  description: string | null;
  eventName: string;
  formula: AggregationFormula;
  periodStart: UnixSeconds;
  periodEnd: UnixSeconds;
  stripeQuantity: DecimalString;
  ledgerQuantity: DecimalString;
  /** stripe - ledger */
  difference: DecimalString;
  /** difference / ledger * 100; null when the ledger is 0. */
  variancePct: DecimalString | null;
  /**
   * What Stripe bills for its quantity minus what it would bill for the ledger's, at the line's price
   * (per unit, package, graduated or volume tiers), exact, in minor units; null when unavailable.
   */
  estimatedImpactMinor: DecimalString | null;
  /** Why the impact is unavailable (null when it is known; absent on comparisons made before). */
  impactUnavailableReason?: string | null;
  passed: boolean;
}

export interface Comparison {
  lines: LineComparison[];
  passed: boolean;
  /** Largest absolute variance % over the lines (100 when the ledger is 0 and Stripe is not). */
  maxVariancePct: DecimalString;
  totalEstimatedImpactMinor: DecimalString;
  tolerance: Tolerance;
}

/** Why a comparison round ran: the first check, a reviewer's recount, late usage, or what Stripe finalized. */
export type ComparisonKind = 'check' | 'recount' | 'late_usage' | 'finalized';

export type GateOutcome =
  | 'passed'
  | 'held'
  | 'released'
  | 'auto_released'
  | 'resolved_in_stripe'
  | 'too_late'
  | 'skipped'
  /** Observe mode: enforce would have held the invoice; nothing was written to Stripe. */
  | 'would_hold'
  /** Finalized, or resumed, in Stripe by someone other than the gate while it held the invoice. */
  | 'bypassed';

/**
 * `enforce` pauses diverging invoices; `observe` does everything but write to Stripe (it never pauses,
 * resumes or finalizes) and records `would_hold` where enforce would hold.
 */
export type GateMode = 'observe' | 'enforce';

export type GateStatus =
  | 'reading'
  | 'counting'
  | 'recounting'
  | 'releasing'
  /** Released once above GATE_SECOND_APPROVAL_ABOVE: still paused, waiting for a different reviewer. */
  | 'awaiting_second_approval'
  | GateOutcome;

/** What a reviewer can ask of a held gate; which apply in which status is in ./status.ts. */
/** What a reviewer can ask of a held gate; `approve` is the second approval of a release above the limit. */
export type ReviewAction = 'release' | 'recount' | 'approve';

/** A reviewer's decision, as the `decide` Update (and the legacy `decision` signal) carries it. */
export interface Decision {
  action: ReviewAction;
  reviewer: string;
  /** Why a release is let go (src/gate/decision-rules.ts RELEASE_REASONS); required for release. */
  reason?: string;
  note?: string;
  /** How it came in (slack, slack_socket, cli, run_page), for the decision log. */
  channel?: string;
}

/** A release recorded while the gate waits for a second reviewer (or the one that completed it). */
export interface Approval {
  reviewer: string;
  action: 'release' | 'approve';
  reason?: string;
  note?: string;
  /** Epoch ms. */
  at: number;
}

/** A Stripe invoice event that reached a running gate (invoice.finalized, invoice.voided, ...). */
export interface StripeInvoiceEvent {
  eventId: string;
  type: string;
  invoiceStatus: string | null;
  /** The event's `created` (unix seconds). */
  created?: UnixSeconds;
  /** invoice.updated: the keys of `data.previous_attributes` (what changed). */
  changedFields?: string[];
  /** invoice.payment_failed: the invoice's `attempt_count`. */
  attemptCount?: number;
  /** The invoice's `auto_advance` in the event. */
  autoAdvance?: boolean;
  /** The API request that caused the event (id null: Stripe on its own); absent from older webhooks. */
  request?: { id: string | null; idempotencyKey: string | null };
}

/** What the gate knows about the invoice when it starts (from the webhook or the sweep). */
/** The invoice a gate starts for, with what Stripe told of it (the gate decides before Stripe's deadline). */
export interface InvoiceToGate {
  id: string;
  customerId: string | null;
  createdAt?: number | null;
  automaticallyFinalizesAt?: number | null;
  currency?: string | null;
  livemode?: boolean | null;
  /** Who noticed the invoice: its invoice.created webhook (the default), or the sweep for missed webhooks. */
  startedBy?: 'webhook' | 'sweep';
}

/** Starting a gate either starts its workflow or finds the invoice already gated (running or closed). */
export type StartResult = 'started' | 'already_gated';

export interface GateStart {
  customerId?: string | null;
  currency?: string | null;
  livemode?: boolean;
  createdAt?: UnixSeconds | null;
  automaticallyFinalizesAt?: UnixSeconds | null;
  startedBy?: 'webhook' | 'sweep';
  /** Set by continue-as-new: the run goes on where the previous one stopped. */
  carried?: CarriedGate;
}

/**
 * Where a gate stands in the invoice's life: deciding before Stripe's deadline, held for a reviewer,
 * watching a passed draft for late usage, rechecking what Stripe finalized, following payment, ended.
 */
export type GatePhase = 'deciding' | 'held' | 'watching' | 'finalized' | 'following' | 'ended';

/** A gate's memory across continue-as-new. */
export interface CarriedGate {
  state: GateState;
  invoice: InvoiceSnapshot | null;
  /** Stripe event ids already applied (duplicates are ignored). */
  seenEventIds: string[];
  pauses: number;
  remindersSent: number;
  /** Stripe's status as last written to the audit. */
  recordedStatus: string | null;
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** What the `state` query returns. */
export interface GateState {
  invoiceId: string;
  customerId: string | null;
  status: GateStatus;
  /** The invoice's status in Stripe as the gate last saw it (draft, open, void, deleted ...). */
  invoiceStatus: string | null;
  /** When the invoice was first held (epoch ms), for reminders and decision latency. */
  heldSince: number | null;
  comparison: Comparison | null;
  decision: Decision | null;
  reviewer: string | null;
  slackMessage: SlackMessageRef | null;
  recounts: number;
  reason: string | null;
  /** Where the gate is in the invoice's life (gates started before it followed invoices have none). */
  phase?: GatePhase;
  /** Comparison rounds recorded so far (first check, recounts, late-usage rechecks, the finalized recheck). */
  rounds?: number;
  /**
   * Why the invoice is held (or, in observe mode, would be): Stripe and the ledger disagree, the ledger
   * cannot be counted, no decision by the deadline, or a jump against the customer's history.
   */
  heldBecause?: 'divergence' | 'unverifiable' | 'deadline' | 'history' | null;
  /** The comparison before the latest late-usage recheck, to show what changed. */
  previousComparison?: Comparison | null;
  /** The finalized invoice compared with the ledger once more. */
  finalizedComparison?: Comparison | null;
  /** When Stripe finalized the invoice (epoch ms, the gate's clock), for how long it is followed. */
  finalizedAt?: number | null;
  /** invoice.payment_failed events seen. */
  paymentFailures?: number;
  /** The mode the gate decided in (its customer's when it started); kept for the gate's whole life. */
  mode?: GateMode;
  /** Where in time a held invoice's diverging lines differ (or why the gate cannot say). */
  explanation?: DivergenceExplanation | null;
  /** The first check's lines against the customer's previous invoices. */
  history?: HistoryCheck | null;
  /** The invoice's currency, once read (money at stake is in its minor units). */
  currency?: string | null;
  /** Decisions accepted so far: the round a decision's Update id names, so a double click is one decision. */
  decisionRound?: number;
  /** The release awaiting a second approval (one entry), or the two that released it. */
  approvals?: Approval[];
  /** Request ids of the gate's own writes to the invoice: Stripe events of any other request are not the gate's. */
  ownRequestIds?: string[];
}

/** Per-customer settings the worker is configured with, read by the workflow through an activity. */
export interface GateSettings {
  tolerance: Tolerance;
  reminderAfterMs: number;
  reminderEveryMs: number;
  /** GATE_DECIDE_MARGIN: pause an undecided invoice this long before Stripe finalizes it. */
  decideMarginMs?: number;
  /** How long a finalized invoice is followed for payment before the gate ends. */
  followFinalizedForMs?: number;
  /** History length at which a long-lived gate continues as new. */
  continueAsNewAfterEvents?: number;
  /** GATE_MODE or the customer's `mode` in the config file; unset (older workers): enforce. */
  mode?: GateMode;
  /** GATE_HISTORY_JUMP / GATE_HISTORY_ACTION (jump null: the history check is off). */
  history?: HistorySettings;
  /** Who may decide, and when a release needs a second reviewer; unset on workers before the decide Update. */
  review?: ReviewSettings;
}

/** SLACK_REVIEWER_IDS, SLACK_APPROVER_IDS and GATE_SECOND_APPROVAL_ABOVE, as the workflow applies them. */
export interface ReviewSettings {
  reviewers: string[];
  /** null: any reviewer other than the first approver. */
  approvers: string[] | null;
  /** null: one reviewer releases any amount. */
  secondApprovalAbove: SecondApprovalThreshold | null;
}

/** Identifies one gate run in the audit tables. */
export interface GateRunKey {
  invoiceId: string;
  workflowId: string;
  runId: string;
}
