// What a backfill report run is asked for and what it records: plain data shared by the CLI, the
// activities and the backfill workflow (part of the workflow bundle: no imports with side effects).

/** The finalized statuses a backfill can read (drafts are what the gate itself checks). */
export const FINALIZED_STATUSES = ['open', 'paid', 'uncollectible', 'void'] as const;
export type FinalizedStatus = (typeof FINALIZED_STATUSES)[number];

/** The normalised arguments of a run; the workflow id is derived from them. */
export interface BackfillRequest {
  /** First day (UTC) of the window, YYYY-MM-DD: invoices created on or after its midnight. */
  since: string;
  /** Last day (UTC) of the window, inclusive, YYYY-MM-DD; null: up to now. */
  until: string | null;
  /** Only this customer's invoices; null: every customer. */
  customer: string | null;
  /** Only invoices with one of these statuses (at the time they are read). */
  statuses: FinalizedStatus[];
}

/** The window as Stripe's `created` filter: gte inclusive, lt exclusive (unix seconds). */
export interface CreatedWindow {
  gte: number;
  lt: number | null;
}

/** An invoice as Stripe's list gave it: what the comparison needs besides the invoice itself. */
export interface ListedInvoice {
  invoiceId: string;
  /** Stripe's `created` (unix seconds). */
  created: number;
}

/** One page of the account's invoices in the window, as the backfill workflow pages through them. */
export interface BackfillInvoicePage {
  /** Invoices of the page this run has not recorded yet (already recorded ones are skipped). */
  pending: ListedInvoice[];
  /** Invoices of the page that match the window and statuses (recorded or not). */
  listed: number;
  /** `starting_after` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** What one batch activity recorded. */
export interface BackfillBatchResult {
  invoices: number;
  failedInvoices: number;
  lines: number;
  divergingLines: number;
}

/** The run's totals as recorded in `backfill_runs`. */
export interface BackfillRunTotals {
  invoicesTotal: number | null;
  invoicesDone: number;
  invoicesFailed: number;
  linesDone: number;
  linesDiverging: number;
}
