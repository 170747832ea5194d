// One compared line as the backfill report shows it (a row of `backfill_lines`, the CSV's columns).

export interface BackfillReportLine {
  invoiceId: string;
  customerId: string;
  invoiceStatus: string;
  created: Date;
  lineId: string;
  eventName: string;
  periodStart: Date;
  periodEnd: Date;
  /** Decimal strings, exact. */
  stripeQuantity: string;
  ledgerQuantity: string;
  difference: string;
  variancePct: string | null;
  /** Minor units of `currency`; null when the line has no unit price to price the difference with. */
  estimatedImpactMinor: string | null;
  currency: string;
  passed: boolean;
}
