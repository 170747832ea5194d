// The gate's decision: does each metered line agree with the ledger within tolerance?
// Pure and deterministic, so the workflow can call it directly and tests need no I/O.
import Decimal from 'decimal.js';
import { lineMoneyImpact } from './money-impact';
import type { Comparison, LedgerCounts, LineComparison, MeteredLine, Tolerance } from './types';

const HUNDRED = new Decimal(100);
/** Variances are reported with this many decimal places; the pass/fail test itself is exact. */
const VARIANCE_DECIMALS = 4;

/**
 * The money rule, when a money tolerance is configured: |impact| <= money. An impact the gate cannot
 * compute fails it (fail closed: the gate holds what it cannot verify, and the alert says why).
 */
function withinMoney(impactMinor: string | null, money: string | undefined): boolean {
  if (money === undefined) return true;
  return impactMinor !== null && new Decimal(impactMinor).abs().lessThanOrEqualTo(money);
}

export function compareLine(line: MeteredLine, ledgerQuantity: string, tolerance: Tolerance): LineComparison {
  const stripe = new Decimal(line.stripeQuantity);
  const ledger = new Decimal(ledgerQuantity);
  const difference = stripe.minus(ledger);
  const allowed = Decimal.max(new Decimal(tolerance.abs), new Decimal(tolerance.pct).div(HUNDRED).times(ledger.abs()));
  // Billing usage the ledger never saw is always a divergence, whatever the absolute tolerance says.
  const billsWithoutLedger = ledger.isZero() && stripe.greaterThan(0);
  const impact = lineMoneyImpact(line, stripe, ledger);
  // A line passes when every configured limit passes: the quantity rule, and the money rule if set.
  const passed =
    !billsWithoutLedger &&
    difference.abs().lessThanOrEqualTo(allowed) &&
    withinMoney(impact.impactMinor, tolerance.money);
  const variancePct = ledger.isZero()
    ? null
    : difference.div(ledger).times(HUNDRED).toDecimalPlaces(VARIANCE_DECIMALS).toString();
  return {
    lineId: line.lineId,
    description: line.description,
    eventName: line.eventName,
    formula: line.formula,
    periodStart: line.periodStart,
    periodEnd: line.periodEnd,
    stripeQuantity: stripe.toString(),
    ledgerQuantity: ledger.toString(),
    difference: difference.toString(),
    variancePct,
    estimatedImpactMinor: impact.impactMinor,
    impactUnavailableReason: impact.unavailable,
    passed,
  };
}

/** Absolute variance of a line for ranking: 100 % when Stripe bills usage the ledger does not have. */
function absoluteVariancePct(line: LineComparison): Decimal {
  if (line.variancePct !== null) return new Decimal(line.variancePct).abs();
  return new Decimal(line.stripeQuantity).isZero() ? new Decimal(0) : HUNDRED;
}

export function compareInvoice(lines: MeteredLine[], ledger: LedgerCounts, tolerance: Tolerance): Comparison {
  const compared = lines.map((line) => compareLine(line, ledger[line.lineId] ?? '0', tolerance));
  const maxVariance = compared.reduce((max, line) => Decimal.max(max, absoluteVariancePct(line)), new Decimal(0));
  const totalImpact = compared.reduce(
    (sum, line) => (line.estimatedImpactMinor === null ? sum : sum.plus(line.estimatedImpactMinor)),
    new Decimal(0),
  );
  return {
    lines: compared,
    passed: compared.every((line) => line.passed),
    maxVariancePct: maxVariance.toString(),
    totalEstimatedImpactMinor: totalImpact.toString(),
    tolerance,
  };
}
