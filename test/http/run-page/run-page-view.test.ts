import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, html, link } from '../../../src/http/run-page/html';
import { renderNotFoundPage, renderRunPage } from '../../../src/http/run-page/run-page-view';
import { invoiceRecord, line, run } from './fixtures';

const NOW = new Date('2026-11-02T00:00:00Z');
const SCRIPT = '<script>alert("x")</script>';

describe('html escaping', () => {
  test('interpolated values are escaped; nested html templates are not escaped twice', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = html`<b>${SCRIPT}</b>`;
    assert.equal(
      html`<p title="${'" onclick="x'}">${inner}${[1, null, undefined, false, 'a&b']}</p>`.text,
      '<p title="&quot; onclick=&quot;x"><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b>1a&amp;b</p>',
    );
  });

  test('only http(s) URLs become links', () => {
    assert.equal(link('javascript:alert(1)', 'x').text, 'x');
    assert.equal(
      link('https://a.test/?q="<>', 'x').text,
      '<a href="https://a.test/?q=&quot;&lt;&gt;" rel="noopener noreferrer">x</a>',
    );
  });
});

describe('renderRunPage', () => {
  test('shows the invoice, both counts of every line in every round, the money difference and the events', () => {
    const page = renderRunPage({
      record: invoiceRecord({
        runs: [
          run({
            lines: [
              line(),
              line({
                recount: 1,
                kind: 'recount',
                ledgerQuantity: '1190',
                difference: '10',
                variancePct: '0.84',
                estimatedImpactMinor: '20',
                passed: true,
              }),
            ],
          }),
        ],
      }),
      livemode: false,
      now: NOW,
    });
    assert.match(page, /<h1>Invoice <code>in_1Page<\/code><\/h1>/);
    assert.match(page, /data-field="stripe-quantity">1,200</);
    assert.match(page, /data-field="ledger-quantity">1,000</);
    assert.match(page, /data-field="ledger-quantity">1,190</);
    assert.match(page, /\+USD 4\.00/);
    assert.match(page, /\+20 %/);
    assert.match(page, /1 · recount/);
    assert.match(page, /invoice\.created/);
    assert.match(page, /href="https:\/\/dashboard\.stripe\.com\/test\/invoices\/in_1Page"/);
    assert.doesNotMatch(page, /Temporal/);
    const live = renderRunPage({
      record: invoiceRecord(),
      livemode: true,
      temporalRunUrl: (w, r) => `http://ui.test/${w}/${r}`,
      now: NOW,
    });
    assert.match(live, /href="https:\/\/dashboard\.stripe\.com\/invoices\/in_1Page"/);
    assert.match(live, /href="http:\/\/ui\.test\/invoice-gate-in_1Page\/run-1"/);
  });

  test('data with markup (note, line description, reviewer, reason, customer, event type) is shown as text', () => {
    const page = renderRunPage({
      record: invoiceRecord({
        runs: [
          run({
            customerId: `cus_${SCRIPT}`,
            reviewer: `U<img src=x onerror=alert(1)>`,
            decisionNote: `looks fine ${SCRIPT}`,
            reason: `reason ${SCRIPT}`,
            outcome: 'released',
            decidedAt: NOW,
            lines: [line({ description: `API ${SCRIPT}`, eventName: `api"${SCRIPT}` })],
          }),
        ],
        clicks: [{ slackUserId: `U${SCRIPT}`, action: `release${SCRIPT}`, allowed: true, outcome: 'decided', at: NOW }],
        stripeEvents: [
          { eventId: `evt_${SCRIPT}`, type: `invoice.${SCRIPT}`, createdAt: null, receivedAt: NOW, duplicateCount: 2 },
        ],
      }),
      livemode: false,
      now: NOW,
    });
    assert.doesNotMatch(page, /<script/i);
    assert.doesNotMatch(page, /<img/i);
    assert.match(page, /looks fine &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.match(page, /API &lt;script&gt;/);
    assert.match(page, /cus_&lt;script&gt;/);
    assert.match(page, /U&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  test('the decisions: who, what, the reason and note, whether the gate took it; markup shown as text', () => {
    const page = renderRunPage({
      record: invoiceRecord({
        decisions: [
          {
            seq: '1',
            at: NOW,
            reviewer: 'U0ALICE',
            action: 'release',
            reason: 'ledger_late',
            note: `batch ran late ${SCRIPT}`,
            accepted: true,
            refusal: null,
            channel: 'slack',
          },
          {
            seq: '2',
            at: NOW,
            reviewer: 'U0ALICE',
            action: 'approve',
            reason: null,
            note: null,
            accepted: false,
            refusal: 'same_approver: you gave the first approval',
            channel: 'slack',
          },
        ],
      }),
      livemode: false,
      now: NOW,
    });
    assert.doesNotMatch(page, /<script/i);
    assert.match(page, /<section id="decisions">/);
    assert.match(page, /The ledger was late: batch ran late &lt;script&gt;/);
    assert.match(page, /no: same_approver: you gave the first approval/);
    assert.doesNotMatch(renderRunPage({ record: invoiceRecord(), livemode: false, now: NOW }), /data-decision/);
  });

  test('several runs each get their section; a run with no comparison says so', () => {
    const page = renderRunPage({
      record: invoiceRecord({ runs: [run({ runId: 'run-2', lines: [] }), run()] }),
      livemode: false,
      now: NOW,
    });
    assert.equal(page.match(/<section class="run"/g)?.length, 2);
    assert.match(page, /No line compared yet\./);
  });

  test('the 404 page says nothing about the invoice', () => {
    const page = renderNotFoundPage();
    assert.match(page, /<h1>Not found<\/h1>/);
    assert.doesNotMatch(page, /in_|expired|forged|signature/i);
  });
});
