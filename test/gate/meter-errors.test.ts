import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  customersNamed,
  describeMeterErrors,
  linesSpan,
  meterErrorMentions,
  meterErrorMentionsByEventName,
  reportOverlapsPeriod,
  type MeterErrorReport,
} from '../../src/gate/meter-errors';

const T = Date.UTC(2026, 10, 2, 10, 0) / 1000;

const report = (overrides: Partial<MeterErrorReport> = {}): MeterErrorReport => ({
  eventId: 'evt_1',
  meterId: 'mtr_calls',
  eventName: 'api_call',
  errorCount: 412,
  errorTypes: [
    { code: 'meter_event_no_customer_defined', count: 400, sampleMessages: [] },
    { code: 'meter_event_value_too_many_digits', count: 12, sampleMessages: [] },
  ],
  customerIds: [],
  validationStart: T,
  validationEnd: T + 3600,
  ...overrides,
});

describe('meter error reports', () => {
  test('customersNamed: each customer id once, in order, none when nobody is named', () => {
    assert.deepEqual(
      customersNamed([
        'Value 1234567890123456 of payload key value for customer cus_B2 has more than 15 significant digits.',
        'customer cus_A1 and again cus_B2',
      ]),
      ['cus_B2', 'cus_A1'],
    );
    assert.deepEqual(customersNamed(['Customer mapping key stripe_customer_id not found in payload.']), []);
  });

  test('reportOverlapsPeriod: half-open windows, touching is not overlapping', () => {
    const r = report();
    assert.equal(reportOverlapsPeriod(r, { start: T - 10, end: T + 10 }), true);
    assert.equal(reportOverlapsPeriod(r, { start: T + 3600, end: T + 7200 }), false);
    assert.equal(reportOverlapsPeriod(r, { start: T - 3600, end: T }), false);
    assert.equal(reportOverlapsPeriod(r, { start: T + 100, end: T + 200 }), true);
  });

  test('describeMeterErrors: count, event name, window and codes', () => {
    assert.equal(
      describeMeterErrors(report(), 'api_call'),
      'Stripe rejected 412 `api_call` events between 2026-11-02 10:00 and 2026-11-02 11:00 UTC: ' +
        'meter_event_no_customer_defined (400), meter_event_value_too_many_digits (12)',
    );
  });

  test('meterErrorMentions: only reports on a line meter whose window overlaps that line period', () => {
    const lines = [
      { meterId: 'mtr_calls', eventName: 'api_call', periodStart: T - 86400, periodEnd: T + 86400 },
      { meterId: 'mtr_gb', eventName: 'storage_gb', periodStart: T - 86400, periodEnd: T + 86400 },
    ];
    const mentions = meterErrorMentions(lines, [
      report(),
      report({ eventId: 'evt_other_meter', meterId: 'mtr_other' }),
      report({ eventId: 'evt_no_meter', meterId: null }),
      report({ eventId: 'evt_later', validationStart: T + 2 * 86400, validationEnd: T + 2 * 86400 + 60 }),
    ]);
    assert.equal(mentions.length, 1);
    assert.match(mentions[0], /^Stripe rejected 412 `api_call` events/);
    assert.deepEqual(
      meterErrorMentionsByEventName(lines, [report(), report({ eventId: 'evt_other', eventName: 'other' })]),
      mentions,
    );
    assert.deepEqual(linesSpan(lines), { start: T - 86400, end: T + 86400 });
    assert.equal(linesSpan([]), null);
  });
});
