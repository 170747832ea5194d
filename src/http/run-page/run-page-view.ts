// The reviewers' run page for one invoice, as HTML: what the gate recorded (runs, every compared line
// in every round, the decision and the clicks, Stripe's events) and links to Stripe and Temporal.
// Pure: the route reads the data and passes it in. Every value goes through `html`, which escapes it.
import { describeReleaseReason } from '../../gate/decision-rules';
import { createHash } from 'node:crypto';
import type { GateLineRecord, GateRunWithLines } from '../../audit/audit-store';
import type { InvoiceRecord } from '../../audit/invoice-record';
import { GATE_STATUSES, type StatusInfo } from '../../gate/status';
import { formatMoneyMinor, formatPct, formatQuantity, formatSignedQuantity } from '../../slack/format';
import { stripeInvoiceUrl } from '../../slack/alert-message';
import { Html, html, link } from './html';

export interface RunPageInput {
  record: InvoiceRecord;
  /** The Stripe account's mode the gate runs in (its key): the dashboard's live or test path. */
  livemode: boolean;
  /** Default https://dashboard.stripe.com. */
  stripeDashboardUrl?: string;
  /** The run in the Temporal Web UI; undefined when none is configured (the embedded engine). */
  temporalRunUrl?: (workflowId: string, runId: string) => string;
  /** Stripe's meter error reports about the invoice's lines, one sentence each (src/gate/meter-errors.ts). */
  meterErrors?: string[];
  now: Date;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0}.diverges{background:#fde8e8}.passes{background:#eaf7ea}code{font-size:.95em}
footer{margin-top:2rem;color:#666;font-size:.85rem}
`;

/** For the Content-Security-Policy: the page's one stylesheet is allowed by its hash, nothing else runs. */
export const RUN_PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

const statusLabel = (status: string): string =>
  (GATE_STATUSES as Readonly<Record<string, StatusInfo | undefined>>)[status]?.label ?? status;

const time = (d: Date | null): Html | string =>
  d ? html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>` : '–';

function page(title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex" />
        <title>${title}</title>
        <style>
          ${new Html(STYLE) /* our own constant, not data */}
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html> `;
}

/** The 404 for every link that does not open a page: it says nothing about why. */
export function renderNotFoundPage(): string {
  return page(
    'Not found: invoice-gate',
    html`<h1>Not found</h1>
      <p>
        This link does not open a page. Links to a run page come from the gate's Slack messages and expire; ask for a
        fresh one in the alert's thread.
      </p>`,
  ).text;
}

export function renderRunPage(input: RunPageInput): string {
  const { record } = input;
  const latest = record.runs[0];
  const currency = latest.currency;
  const stripeUrl = stripeInvoiceUrl(
    { invoiceId: record.invoiceId, livemode: input.livemode },
    input.stripeDashboardUrl,
  );
  const body = html`<header>
      <h1>Invoice <code>${record.invoiceId}</code></h1>
      <p>
        ${link(stripeUrl, 'Invoice in Stripe')}${
          input.temporalRunUrl
            ? html` · ${link(input.temporalRunUrl(latest.workflowId, latest.runId), 'Gate run in Temporal')}`
            : ''
        }
      </p>
    </header>
    <section id="invoice">
      <h2>Invoice</h2>
      <dl>
        <dt>Invoice</dt>
        <dd><code>${record.invoiceId}</code>${input.livemode ? '' : ' (test mode)'}</dd>
        <dt>Customer</dt>
        <dd><code>${latest.customerId ?? 'not read yet'}</code></dd>
        <dt>Currency</dt>
        <dd>${currency ? currency.toUpperCase() : 'not read yet'}</dd>
        <dt>Period</dt>
        <dd>${time(latest.periodStart)} – ${time(latest.periodEnd)}</dd>
        <dt>Stripe status</dt>
        <dd data-field="invoice-status">
          ${latest.invoiceStatus ?? 'not known'}${
            latest.invoiceStatusAt ? html` (since ${time(latest.invoiceStatusAt)})` : ''
          }${latest.paymentFailures > 0 ? ` · ${latest.paymentFailures} failed payment attempt(s)` : ''}
        </dd>
        <dt>Gate status</dt>
        <dd data-field="gate-status">${statusLabel(latest.status)}</dd>
        <dt>Outcome</dt>
        <dd data-field="outcome">${latest.outcome ? statusLabel(latest.outcome) : 'none yet'}</dd>
        <dt>Reason</dt>
        <dd data-field="reason">${latest.reason ?? '–'}</dd>
      </dl>
    </section>
    ${
      input.meterErrors && input.meterErrors.length > 0
        ? html`<section id="meter-errors">
            <h2>Usage Stripe rejected</h2>
            <p>
              Meter events Stripe received for this invoice's meters in a line's period and dropped: the likely cause of
              an under-billing.
            </p>
            <ul>
              ${input.meterErrors.map((m) => html`<li>${m}</li>`)}
            </ul>
          </section>`
        : ''
    }
    ${record.runs.map((run) => runSection(run, input, record.runs.length > 1))}
    <section id="clicks">
      <h2>Clicks on the alert</h2>
      ${
        record.clicks.length === 0
          ? html`<p>No clicks yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Slack user</th>
                  <th>Action</th>
                  <th>Allowed reviewer</th>
                  <th>What came of it</th>
                </tr>
              </thead>
              <tbody>
                ${record.clicks.map(
                  (c) =>
                    html`<tr>
                      <td>${time(c.at)}</td>
                      <td><code>${c.slackUserId}</code></td>
                      <td>${c.action}</td>
                      <td>${c.allowed ? 'yes' : 'no'}</td>
                      <td>${c.outcome}</td>
                    </tr> `,
                )}
              </tbody>
            </table>`
      }
    </section>
    <section id="decisions">
      <h2>Decisions</h2>
      ${
        record.decisions.length === 0
          ? html`<p>No decision yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Reviewer</th>
                  <th>Action</th>
                  <th>Reason</th>
                  <th>Taken</th>
                  <th>Channel</th>
                </tr>
              </thead>
              <tbody>
                ${record.decisions.map(
                  (d) =>
                    html`<tr data-decision="${d.seq}">
                      <td>${time(d.at)}</td>
                      <td><code>${d.reviewer}</code></td>
                      <td>${d.action}</td>
                      <td>${d.reason ? describeReleaseReason(d.reason, d.note) : (d.note ?? '–')}</td>
                      <td>${d.accepted ? 'yes' : `no: ${d.refusal ?? ''}`}</td>
                      <td>${d.channel}</td>
                    </tr> `,
                )}
              </tbody>
            </table>`
      }
    </section>
    <section id="stripe-events">
      <h2>Stripe's events</h2>
      ${
        record.stripeEvents.length === 0
          ? html`<p>No Stripe event recorded for this invoice.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>Created (Stripe)</th>
                  <th>Received</th>
                  <th>Type</th>
                  <th>Event</th>
                  <th>Repeated deliveries</th>
                </tr>
              </thead>
              <tbody>
                ${record.stripeEvents.map(
                  (e) =>
                    html`<tr>
                      <td>${time(e.createdAt)}</td>
                      <td>${time(e.receivedAt)}</td>
                      <td>${e.type}</td>
                      <td><code>${e.eventId}</code></td>
                      <td class="num">${e.duplicateCount}</td>
                    </tr> `,
                )}
              </tbody>
            </table>`
      }
    </section>
    <footer>invoice-gate · page generated ${time(input.now)} from the gate's audit tables.</footer>`;
  return page(`${record.invoiceId}: invoice-gate`, body).text;
}

function runSection(run: GateRunWithLines, input: RunPageInput, several: boolean): Html {
  const rounds = [...new Set(run.lines.map((l) => l.recount))];
  return html`<section class="run" data-run-id="${run.runId}">
    <h2>Gate run${several ? html` <code>${run.runId}</code>` : ''}</h2>
    <dl>
      <dt>Workflow</dt>
      <dd>
        <code>${run.workflowId}</code>${
          input.temporalRunUrl ? html` (${link(input.temporalRunUrl(run.workflowId, run.runId), 'in Temporal')})` : ''
        }
      </dd>
      <dt>Started</dt>
      <dd>
        ${time(run.startedAt)} by ${run.startedBy === 'sweep' ? 'the sweep for missed webhooks' : "Stripe's webhook"}
      </dd>
      <dt>Outcome</dt>
      <dd>${run.outcome ? statusLabel(run.outcome) : 'none yet'}${run.reason ? html` (${run.reason})` : ''}</dd>
      <dt>Tolerance</dt>
      <dd>
        ${
          run.tolerance
            ? `max(${formatQuantity(run.tolerance.abs)}, ${formatQuantity(run.tolerance.pct)} % of ledger)`
            : 'not compared yet'
        }
      </dd>
      <dt>Decision</dt>
      <dd data-field="decision">
        ${
          run.reviewer
            ? html`<code>${run.reviewer}</code> (${run.outcome ? statusLabel(run.outcome) : 'decided'}) at
                ${time(run.decidedAt)}${run.decisionNote ? html`: <q>${run.decisionNote}</q>` : ''}`
            : 'no reviewer decision'
        }
      </dd>
      <dt>Finished</dt>
      <dd>${time(run.finishedAt)}</dd>
    </dl>
    <h3>Lines compared</h3>
    ${
      rounds.length === 0
        ? html`<p>No line compared yet.</p>`
        : html`<table class="lines">
            <thead>
              <tr>
                <th>Round</th>
                <th>Line</th>
                <th>Meter</th>
                <th>Period</th>
                <th>Stripe</th>
                <th>Ledger</th>
                <th>Difference</th>
                <th>Variance</th>
                <th>Money difference</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              ${run.lines.map((line) => lineRow(line, run.currency))}
            </tbody>
          </table>`
    }
  </section>`;
}

function roundName(line: GateLineRecord): string {
  const kinds: Record<string, string> = {
    check: 'first count',
    recount: 'recount',
    late_usage: 'late usage',
    finalized: 'as finalized',
  };
  return `${line.recount} · ${kinds[line.kind] ?? line.kind}`;
}

function lineRow(line: GateLineRecord, currency: string | null): Html {
  const money =
    line.estimatedImpactMinor === null
      ? line.impactUnavailableReason
        ? `unavailable: ${line.impactUnavailableReason}`
        : '–'
      : currency
        ? formatMoneyMinor(line.estimatedImpactMinor, currency, { signed: true })
        : `${formatSignedQuantity(line.estimatedImpactMinor)} minor units`;
  return html`<tr
    class="${line.passed ? 'passes' : 'diverges'}"
    data-line-id="${line.lineId}"
    data-round="${line.recount}"
  >
    <td>${roundName(line)}</td>
    <td>${line.description ?? line.lineId}</td>
    <td><code>${line.eventName}</code> (${line.formula})</td>
    <td>${time(line.periodStart)} – ${time(line.periodEnd)}</td>
    <td class="num" data-field="stripe-quantity">${formatQuantity(line.stripeQuantity)}</td>
    <td class="num" data-field="ledger-quantity">${formatQuantity(line.ledgerQuantity)}</td>
    <td class="num">${formatSignedQuantity(line.difference)}</td>
    <td class="num">${line.variancePct === null ? 'ledger is 0' : formatPct(line.variancePct)}</td>
    <td class="num">${money}</td>
    <td>${line.passed ? 'within tolerance' : 'diverges'}</td>
  </tr> `;
}
