// `npm run backfill -- --since YYYY-MM-DD [--until YYYY-MM-DD] [--customer cus_…] [--status paid,open] [--out F.csv]`:
// the command line, parsed once with zod into a BackfillRequest (what the run compares) and the output path.
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { FINALIZED_STATUSES, type BackfillRequest, type CreatedWindow, type FinalizedStatus } from './types';

export const BACKFILL_USAGE = `usage: npm run backfill -- --since YYYY-MM-DD [--until YYYY-MM-DD] [--customer cus_…] [--status ${FINALIZED_STATUSES.join(',')}] [--out report.csv]
  --since     first day (UTC) of the window: invoices created on or after its midnight (required)
  --until     last day (UTC) of the window, inclusive (default: up to now)
  --customer  only this Stripe customer's invoices
  --status    finalized statuses to read, comma-separated (default: open,paid,uncollectible)
  --out       CSV file to write (default: backfill-<since>-<until>.csv in the current directory)`;

export const DEFAULT_STATUSES: FinalizedStatus[] = ['open', 'paid', 'uncollectible'];

export class BackfillArgumentsError extends Error {
  override readonly name = 'BackfillArgumentsError';
}

export interface BackfillArguments {
  request: BackfillRequest;
  /** Where the CSV goes. */
  out: string;
}

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((text) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return true; // the format's own message says it
    const date = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
  }, 'is not a calendar date');

const statuses = z
  .string()
  .transform((text) => text.split(',').map((s) => s.trim().toLowerCase()))
  .pipe(
    z
      .array(
        z.string().refine((s): s is FinalizedStatus => (FINALIZED_STATUSES as readonly string[]).includes(s), {
          error: (issue) =>
            issue.input === 'draft'
              ? 'draft is not a finalized status (drafts are what the gate itself checks)'
              : `unknown status ${JSON.stringify(issue.input)}: use ${FINALIZED_STATUSES.join(', ')}`,
        }),
      )
      .min(1),
  )
  .transform((list) => FINALIZED_STATUSES.filter((s) => list.includes(s)));

const schema = z
  .object({
    since: day,
    until: day.optional(),
    customer: z
      .string()
      .regex(/^cus_[A-Za-z0-9]+$/, 'must be a Stripe customer id (cus_…)')
      .optional(),
    status: statuses.optional(),
    out: z.string().min(1, 'must name a file').optional(),
  })
  .refine((a) => a.until === undefined || a.until >= a.since, {
    path: ['until'],
    message: 'must not be before --since',
  });

/** Parses the arguments after `--`; a BackfillArgumentsError names every bad flag. */
export function parseBackfillArguments(argv: string[]): BackfillArguments {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        customer: { type: 'string' },
        status: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new BackfillArgumentsError(error instanceof Error ? error.message : String(error));
  }
  if (values.since === undefined) throw new BackfillArgumentsError('--since is required');
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    throw new BackfillArgumentsError(
      parsed.error.issues.map((issue) => `--${String(issue.path[0])} ${issue.message}`).join('\n'),
    );
  }
  const a = parsed.data;
  const request: BackfillRequest = {
    since: a.since,
    until: a.until ?? null,
    customer: a.customer ?? null,
    statuses: a.status ?? DEFAULT_STATUSES,
  };
  return { request, out: a.out ?? `backfill-${a.since}-${a.until ?? 'now'}.csv` };
}

const DAY_SECONDS = 86_400;

/** The window as Stripe's `created` filter: [since 00:00 UTC, the day after until 00:00 UTC). */
export function createdWindow(request: BackfillRequest): CreatedWindow {
  const midnight = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;
  return { gte: midnight(request.since), lt: request.until === null ? null : midnight(request.until) + DAY_SECONDS };
}

/**
 * The run's workflow id (and `backfill_runs.id`): readable, and the same for the same arguments, so a
 * second run with them continues the first. The hash covers every argument in a fixed order.
 */
export function backfillWorkflowId(request: BackfillRequest): string {
  const canonical = JSON.stringify([request.since, request.until, request.customer, request.statuses]);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  return `invoice-gate-backfill-${request.since}_${request.until ?? 'now'}-${hash}`;
}
