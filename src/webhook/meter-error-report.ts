// The full event behind a meter error report's thin notification (GET /v2/core/events/:id), checked
// here at the edge and turned into what the gate stores.
import { z } from 'zod';
import { customersNamed } from '../gate/meter-errors';
import type { MeterErrorReportInput } from '../audit/meter-error-store';

export const METER_ERROR_EVENT_TYPES = [
  'v1.billing.meter.error_report_triggered',
  'v1.billing.meter.no_meter_found',
] as const;

const isoTime = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v) / 1000);

const meterErrorEventSchema = z.object({
  id: z.string().min(1),
  object: z.literal('v2.core.event'),
  type: z.enum(METER_ERROR_EVENT_TYPES),
  created: isoTime,
  related_object: z.object({ id: z.string().min(1), type: z.literal('billing.meter') }).nullish(),
  data: z.object({
    developer_message_summary: z.string(),
    reason: z.object({
      error_count: z.number().int().nonnegative(),
      error_types: z.array(
        z.object({
          code: z.string().min(1),
          error_count: z.number().int().nonnegative(),
          sample_errors: z.array(z.object({ error_message: z.string() })),
        }),
      ),
    }),
    validation_start: isoTime,
    validation_end: isoTime,
  }),
});

/** The stored report, or why the event is not a meter error report. */
export function meterErrorReportFromEvent(
  event: unknown,
  eventName: string | null,
): MeterErrorReportInput | { error: string } {
  const parsed = meterErrorEventSchema.safeParse(event);
  if (!parsed.success) return { error: z.prettifyError(parsed.error) };
  const e = parsed.data;
  if (e.type === 'v1.billing.meter.error_report_triggered' && !e.related_object) {
    return { error: 'an error report names no meter (related_object)' };
  }
  const errorTypes = e.data.reason.error_types.map((t) => ({
    code: t.code,
    count: t.error_count,
    sampleMessages: t.sample_errors.map((s) => s.error_message),
  }));
  return {
    eventId: e.id,
    eventType: e.type,
    meterId: e.related_object?.id ?? null,
    eventName,
    errorCount: e.data.reason.error_count,
    errorTypes,
    customerIds: customersNamed(errorTypes.flatMap((t) => t.sampleMessages)),
    validationStart: Math.floor(e.data.validation_start),
    validationEnd: Math.ceil(e.data.validation_end),
    developerMessageSummary: e.data.developer_message_summary,
    created: Math.floor(e.created),
  };
}
