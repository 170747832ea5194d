// Stripe's meter error reports (meter events it accepted, then rejected) and what they mean for an
// invoice: the report's customers, whether it concerns a line, and the sentence reviewers read.
// Pure: no I/O, part of the workflow bundle.
import type { MeteredLine, UnixSeconds } from './types';

/** GATE_METER_ERRORS_ACTION: what a report naming a draft's customer in a line's period does. */
export const METER_ERRORS_ACTIONS = ['hold', 'alert', 'off'] as const;
export type MeterErrorsAction = (typeof METER_ERRORS_ACTIONS)[number];
export const DEFAULT_METER_ERRORS_ACTION: MeterErrorsAction = 'hold';

export interface MeterErrorType {
  code: string;
  count: number;
  sampleMessages: string[];
}

/** One stored report (one thin event) about one meter. */
export interface MeterErrorReport {
  eventId: string;
  /** null for `v1.billing.meter.no_meter_found` (events naming no meter). */
  meterId: string | null;
  /** The meter's event_name when the report was received; null for `no_meter_found`. */
  eventName: string | null;
  errorCount: number;
  errorTypes: MeterErrorType[];
  /** Customers the sample errors name; empty when the report does not say whose events they were. */
  customerIds: string[];
  validationStart: UnixSeconds;
  validationEnd: UnixSeconds;
}

const CUSTOMER_ID = /\bcus_[A-Za-z0-9]+\b/g;

/** The customer ids a report's sample error messages name, each once, in order of appearance. */
export function customersNamed(messages: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const message of messages) for (const match of message.matchAll(CUSTOMER_ID)) seen.add(match[0]);
  return [...seen];
}

/** A report concerns a line when it is about the line's meter and its window overlaps the line's period. */
export function reportOverlapsPeriod(
  report: Pick<MeterErrorReport, 'validationStart' | 'validationEnd'>,
  period: { start: UnixSeconds; end: UnixSeconds },
): boolean {
  return report.validationStart < period.end && report.validationEnd > period.start;
}

const isoMinute = (t: UnixSeconds) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');

/**
 * What reviewers read: "Stripe rejected 412 `api_call` events between 2026-11-02 10:00 and
 * 2026-11-02 11:00 UTC: meter_event_no_customer_defined (400), meter_event_value_too_many_digits (12)".
 */
export function describeMeterErrors(report: MeterErrorReport, eventName: string): string {
  const codes = report.errorTypes.map((t) => `${t.code} (${t.count})`).join(', ');
  return `Stripe rejected ${report.errorCount} \`${eventName}\` events between ${isoMinute(report.validationStart)} and ${isoMinute(report.validationEnd)} UTC: ${codes}`;
}

/**
 * What an invoice's reviewers read about Stripe's rejections: one sentence per report that concerns a
 * line (same meter, window overlapping the line's period), in the order the reports came.
 */
export function meterErrorMentions(
  lines: ReadonlyArray<Pick<MeteredLine, 'meterId' | 'eventName' | 'periodStart' | 'periodEnd'>>,
  reports: readonly MeterErrorReport[],
): string[] {
  return reports.flatMap((report) => {
    const line = lines.find(
      (l) => l.meterId === report.meterId && reportOverlapsPeriod(report, { start: l.periodStart, end: l.periodEnd }),
    );
    return line ? [describeMeterErrors(report, line.eventName)] : [];
  });
}

/**
 * The same for lines known only by their meter's event_name (the audit's lines, on the run page): a
 * report stored with that event_name whose window overlaps the line's period.
 */
export function meterErrorMentionsByEventName(
  lines: ReadonlyArray<{ eventName: string; periodStart: UnixSeconds; periodEnd: UnixSeconds }>,
  reports: readonly MeterErrorReport[],
): string[] {
  return reports.flatMap((report) => {
    const line = lines.find(
      (l) =>
        l.eventName === report.eventName && reportOverlapsPeriod(report, { start: l.periodStart, end: l.periodEnd }),
    );
    return line ? [describeMeterErrors(report, line.eventName)] : [];
  });
}

/** The span of an invoice's metered line periods: where to look for reports. */
export function linesSpan(
  lines: ReadonlyArray<Pick<MeteredLine, 'periodStart' | 'periodEnd'>>,
): { start: UnixSeconds; end: UnixSeconds } | null {
  if (lines.length === 0) return null;
  return {
    start: Math.min(...lines.map((l) => l.periodStart)),
    end: Math.max(...lines.map((l) => l.periodEnd)),
  };
}
