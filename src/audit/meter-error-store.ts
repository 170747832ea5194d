// Stripe's meter error reports as the gate keeps them (meter_error_reports): written by the thin-event
// route, read by the check for the reports that concern an invoice's lines.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { DEFAULT_GATE_SCHEMA } from '../db/schema';
import type { MeterErrorReport, MeterErrorType } from '../gate/meter-errors';
import type { UnixSeconds } from '../gate/types';

export interface MeterErrorReportInput extends MeterErrorReport {
  eventType: string;
  developerMessageSummary: string;
  /** Stripe's `created` of the event. */
  created: UnixSeconds;
}

interface Row {
  event_id: string;
  meter_id: string | null;
  event_name: string | null;
  error_count: number;
  error_types: MeterErrorType[];
  customer_ids: string[];
  validation_start: string;
  validation_end: string;
}

export class MeterErrorStore {
  readonly schema: string;

  constructor(
    private readonly db: Kysely<any>,
    options: { schema?: string } = {},
  ) {
    this.schema = options.schema ?? DEFAULT_GATE_SCHEMA;
  }

  private t(name: string) {
    return sql.id(this.schema, name);
  }

  /** Stores a report once; a redelivery of the same event changes nothing. Returns whether it was new. */
  async record(report: MeterErrorReportInput): Promise<boolean> {
    const { rows } = await sql<{ event_id: string }>`
      insert into ${this.t('meter_error_reports')}
        (event_id, event_type, meter_id, event_name, error_count, error_types, customer_ids,
         validation_start, validation_end, developer_message_summary, event_created)
      values (${report.eventId}, ${report.eventType}, ${report.meterId}, ${report.eventName}, ${report.errorCount},
        ${JSON.stringify(report.errorTypes)}::jsonb, ${report.customerIds}::text[],
        to_timestamp(${report.validationStart}), to_timestamp(${report.validationEnd}),
        ${report.developerMessageSummary}, to_timestamp(${report.created}))
      on conflict (event_id) do nothing
      returning event_id`.execute(this.db);
    return rows.length === 1;
  }

  /** The reports about these meters whose window overlaps [from, to), oldest window first. */
  async reportsFor(meterIds: readonly string[], from: UnixSeconds, to: UnixSeconds): Promise<MeterErrorReport[]> {
    if (meterIds.length === 0) return [];
    return this.select(sql`meter_id = any(${meterIds as string[]}::text[])`, from, to);
  }

  /** The same by the meters' event names (the audit's lines carry those, not meter ids). */
  async reportsForEventNames(
    eventNames: readonly string[],
    from: UnixSeconds,
    to: UnixSeconds,
  ): Promise<MeterErrorReport[]> {
    if (eventNames.length === 0) return [];
    return this.select(sql`event_name = any(${eventNames as string[]}::text[])`, from, to);
  }

  private async select(about: RawBuilder<unknown>, from: UnixSeconds, to: UnixSeconds): Promise<MeterErrorReport[]> {
    const { rows } = await sql<Row>`
      select event_id, meter_id, event_name, error_count, error_types, customer_ids,
        extract(epoch from validation_start)::text as validation_start,
        extract(epoch from validation_end)::text as validation_end
      from ${this.t('meter_error_reports')}
      where ${about}
        and validation_start < to_timestamp(${to}) and validation_end > to_timestamp(${from})
      order by validation_start, event_id`.execute(this.db);
    return rows.map((r) => ({
      eventId: r.event_id,
      meterId: r.meter_id,
      eventName: r.event_name,
      errorCount: r.error_count,
      errorTypes: r.error_types,
      customerIds: r.customer_ids,
      validationStart: Math.floor(Number(r.validation_start)),
      validationEnd: Math.ceil(Number(r.validation_end)),
    }));
  }
}
