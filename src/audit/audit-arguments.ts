// `npm run audit -- verify` / `npm run audit -- export --since YYYY-MM-DD [--until YYYY-MM-DD] --out F.csv`:
// the command line, parsed once into what to do.
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const AUDIT_USAGE = `usage: npm run audit -- verify
       npm run audit -- export --since YYYY-MM-DD [--until YYYY-MM-DD] --out decisions.csv
  verify   recomputes the decision log's hash chain; exit 0 when intact, 1 naming the first row that does not match
  export   writes the decision log's rows of the window as CSV
  --since  first day (UTC) of the window (required for export)
  --until  last day (UTC) of the window, inclusive (default: up to now)
  --out    CSV file to write (required for export)`;

export class AuditArgumentsError extends Error {
  override readonly name = 'AuditArgumentsError';
}

export type AuditCommand = { command: 'verify' } | { command: 'export'; since: Date; until: Date | null; out: string };

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((text) => new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text, 'is not a calendar date')
  .transform((text) => new Date(`${text}T00:00:00Z`));

const exportSchema = z
  .object({
    since: day,
    until: day.optional(),
    out: z.string().min(1, 'must name a file'),
  })
  .refine((a) => a.until === undefined || a.until >= a.since, {
    path: ['until'],
    message: 'must not be before --since',
  });

const DAY_MS = 86_400_000;

export function parseAuditArguments(argv: string[]): AuditCommand {
  const [command, ...rest] = argv;
  if (command === 'verify') {
    if (rest.length > 0) throw new AuditArgumentsError(`verify takes no arguments, got: ${rest.join(' ')}`);
    return { command: 'verify' };
  }
  if (command !== 'export') {
    throw new AuditArgumentsError(command ? `unknown command ${JSON.stringify(command)}` : 'a command is required');
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } },
    }));
  } catch (error) {
    throw new AuditArgumentsError(error instanceof Error ? error.message : String(error));
  }
  const missing = ['since', 'out'].filter((flag) => values[flag] === undefined);
  if (missing.length > 0) throw new AuditArgumentsError(missing.map((flag) => `--${flag} is required`).join('\n'));
  const parsed = exportSchema.safeParse(values);
  if (!parsed.success) {
    throw new AuditArgumentsError(
      parsed.error.issues.map((issue) => `--${String(issue.path[0])} ${issue.message}`).join('\n'),
    );
  }
  const { since, until, out } = parsed.data;
  // --until is inclusive: the window ends at the next midnight.
  return { command: 'export', since, until: until ? new Date(until.getTime() + DAY_MS) : null, out };
}
