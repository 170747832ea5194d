// The run page's sentences about Stripe's meter error reports: the latest run's lines (by their
// meter's event_name and period, as the audit has them) against the stored reports.
import type { InvoiceRecord } from '../../audit/invoice-record';
import type { MeterErrorStore } from '../../audit/meter-error-store';
import { linesSpan, meterErrorMentionsByEventName } from '../../gate/meter-errors';

export async function runPageMeterErrors(
  store: Pick<MeterErrorStore, 'reportsForEventNames'>,
  record: InvoiceRecord,
): Promise<string[]> {
  const lines = (record.runs[0]?.lines ?? []).map((l) => ({
    eventName: l.eventName,
    periodStart: Math.floor(l.periodStart.getTime() / 1000),
    periodEnd: Math.floor(l.periodEnd.getTime() / 1000),
  }));
  const span = linesSpan(lines);
  if (!span) return [];
  const names = [...new Set(lines.map((l) => l.eventName))];
  return meterErrorMentionsByEventName(lines, await store.reportsForEventNames(names, span.start, span.end));
}
