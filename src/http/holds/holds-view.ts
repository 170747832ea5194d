// The review queue as HTML: every open hold, oldest first, with a link to each run page. Pure: the
// route reads the queue and signs the links. Every value goes through `html`, which escapes it.
import { createHash } from 'node:crypto';
import Decimal from 'decimal.js';
import type { HoldQueueEntry, HoldQueueFilter } from '../../audit/hold-queue';
import { QUEUE_STATUSES } from '../../audit/hold-queue';
import { GATE_STATUSES, type StatusInfo } from '../../gate/status';
import { formatDuration, formatMoneyMinor } from '../../slack/format';
import { Html, html, link } from '../run-page/html';

export interface HoldsPageInput {
  entries: HoldQueueEntry[];
  filter: HoldQueueFilter;
  /** The list was cut at this many holds (the oldest are shown). */
  truncatedAt: number | null;
  /** The link signature, carried by the filter form and the CSV link. */
  signature: string;
  /** A signed link to an invoice's run page. */
  runPageUrl: (invoiceId: string) => string;
  now: Date;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:80rem;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}form{margin:1rem 0}label{margin-right:1rem}
.awaiting{background:#fff6db}footer{margin-top:2rem;color:#666;font-size:.85rem}
`;

/** For the Content-Security-Policy: the page's one stylesheet is allowed by its hash, nothing else runs. */
export const HOLDS_PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

const statusLabel = (status: string): string =>
  (GATE_STATUSES as Readonly<Record<string, StatusInfo | undefined>>)[status]?.label ?? status.replaceAll('_', ' ');

const time = (d: Date | null): Html | string =>
  d ? html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time>` : '–';

function money(entry: HoldQueueEntry): string {
  const amount = entry.currency
    ? formatMoneyMinor(entry.moneyAtStakeMinor, entry.currency)
    : `${entry.moneyAtStakeMinor} minor units`;
  return entry.unpricedLines > 0
    ? `≥ ${amount} (${entry.unpricedLines} line${entry.unpricedLines === 1 ? '' : 's'} not priced)`
    : amount;
}

/** Money at stake summed per currency, for the page's heading. */
export function totalsByCurrency(entries: HoldQueueEntry[]): Array<{ currency: string; minor: string }> {
  const sums = new Map<string, Decimal>();
  for (const e of entries) {
    const currency = e.currency ?? '';
    sums.set(currency, (sums.get(currency) ?? new Decimal(0)).plus(e.moneyAtStakeMinor));
  }
  return [...sums.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, minor]) => ({ currency, minor: minor.toFixed() }));
}

function filterQuery(signature: string, filter: HoldQueueFilter): string {
  const query = new URLSearchParams({ sig: signature });
  if (filter.customerId) query.set('customer', filter.customerId);
  if (filter.status) query.set('status', filter.status);
  return query.toString();
}

function row(entry: HoldQueueEntry, input: HoldsPageInput): Html {
  const age = input.now.getTime() - entry.heldSince.getTime();
  return html`<tr
    data-invoice-id="${entry.invoiceId}"
    data-status="${entry.status}"
    class="${entry.status === 'awaiting_second_approval' ? 'awaiting' : ''}"
  >
    <td data-field="age">${formatDuration(age)}<br />since ${time(entry.heldSince)}</td>
    <td data-field="status">${statusLabel(entry.status)}</td>
    <td data-field="customer"><code>${entry.customerId ?? '–'}</code></td>
    <td data-field="invoice">${link(input.runPageUrl(entry.invoiceId), html`<code>${entry.invoiceId}</code>`)}</td>
    <td class="num" data-field="money">${money(entry)}</td>
    <td data-field="finalizes">${time(entry.finalizesAt)}</td>
    <td data-field="first-approver">
      ${entry.firstApprover ? html`<code>${entry.firstApprover.reviewer}</code> at ${time(entry.firstApprover.at)}` : '–'}
    </td>
  </tr>`;
}

export function renderHoldsPage(input: HoldsPageInput): string {
  const { entries, filter } = input;
  const totals = totalsByCurrency(entries);
  const csvHref = `holds.csv?${filterQuery(input.signature, filter)}`;
  const body = html`<h1>Review queue</h1>
    <p id="summary">
      ${
        entries.length === 0
          ? 'Nothing waits for a reviewer.'
          : html`${entries.length} invoice${entries.length === 1 ? '' : 's'} waiting, oldest first; money at stake:
            ${totals.map((t, i) => html`${i > 0 ? ', ' : ''}${t.currency ? formatMoneyMinor(t.minor, t.currency) : `${t.minor} minor units`}`)}.`
      }
      ${input.truncatedAt !== null ? html`<strong>Only the oldest ${input.truncatedAt} are shown.</strong>` : ''}
    </p>
    <form method="get" action="holds">
      <input type="hidden" name="sig" value="${input.signature}" />
      <label>Customer <input name="customer" value="${filter.customerId ?? ''}" placeholder="cus_…" /></label>
      <label
        >Status
        <select name="status">
          <option value="" ${filter.status ? '' : new Html('selected')}>any</option>
          ${QUEUE_STATUSES.map(
            (s) =>
              html`<option value="${s}" ${filter.status === s ? new Html('selected') : ''}>${statusLabel(s)}</option>`,
          )}
        </select></label
      >
      <button type="submit">Filter</button>
      <a href="${csvHref}" id="csv-link">CSV</a>
    </form>
    ${
      entries.length === 0
        ? ''
        : html`<table id="holds">
            <thead>
              <tr>
                <th>Held for</th>
                <th>Status</th>
                <th>Customer</th>
                <th>Invoice (run page)</th>
                <th>Money at stake</th>
                <th>Stripe finalizes at (original)</th>
                <th>First approver</th>
              </tr>
            </thead>
            <tbody>
              ${entries.map((e) => row(e, input))}
            </tbody>
          </table>`
    }
    <footer>
      Read from the gate's audit tables at ${time(input.now)}. This page is read-only: decide in Slack or with
      <code>npm run decide</code>. The link expires; <code>npm run holds-link</code> prints a fresh one.
    </footer>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex" />
        <title>Review queue: invoice-gate</title>
        <style>
          ${new Html(STYLE) /* our own constant, not data */}
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html>`.text;
}
