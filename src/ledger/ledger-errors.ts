// Which ledger failures are worth retrying: the others become final GateErrors.
import { FailureType, GateError } from '../gate/failures';

/** The request cannot be answered with this mapping or data (no retry will help). */
export class LedgerMappingError extends GateError {
  override readonly name = 'LedgerMappingError';
  constructor(message: string) {
    super(message, { type: FailureType.ledgerMapping, retryable: false });
  }
}

export interface LedgerErrorClass {
  retryable: boolean;
  /** SQLSTATE or Node error code, when there is one. */
  code: string | null;
  reason: string;
}

const RETRYABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ESOCKETTIMEDOUT',
]);

/** Messages of pg / pg-pool connection failures that carry no code. */
const RETRYABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /server closed the connection unexpectedly/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/**
 * SQLSTATE classes worth retrying: 08 connection exception, 40 transaction rollback (serialization
 * failure, deadlock), 53 insufficient resources (too many connections, disk full), 57 operator
 * intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 57014
 * statement timeout / cancel), 58 system error (I/O). Everything else with a SQLSTATE (42xxx syntax,
 * undefined table or column, 22xxx bad data, 28xxx authentication, 3D000 unknown database) is a
 * configuration or data problem that a retry will not fix.
 */
const RETRYABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57', '58']);

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : null;
}

export function classifyLedgerError(err: unknown): LedgerErrorClass {
  if (err instanceof LedgerMappingError) return { retryable: false, code: null, reason: 'ledger mapping' };
  // AggregateError (e.g. ECONNREFUSED on both ::1 and 127.0.0.1) carries the code on its parts.
  const nested = err instanceof AggregateError ? err.errors : [];
  const code = codeOf(err) ?? nested.map(codeOf).find((c) => c !== null) ?? null;
  if (code !== null && RETRYABLE_NODE_CODES.has(code)) return { retryable: true, code, reason: 'network' };
  if (code !== null && /^[0-9A-Z]{5}$/.test(code)) {
    const retryable = RETRYABLE_SQLSTATE_CLASSES.has(code.slice(0, 2));
    return { retryable, code, reason: retryable ? 'transient database condition' : 'database rejected the query' };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (RETRYABLE_MESSAGES.some((re) => re.test(message))) return { retryable: true, code, reason: 'connection lost' };
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) {
    return { retryable: false, code, reason: 'programming error' };
  }
  // Unknown failures without a database verdict are treated as transient; the activity's retry
  // policy still bounds them.
  return { retryable: true, code, reason: 'unknown' };
}

export function isRetryableLedgerError(err: unknown): boolean {
  return classifyLedgerError(err).retryable;
}

/** A failed ledger query as the activity should end: final when no retry can help, else unchanged. */
export function ledgerFailure(err: unknown): unknown {
  if (err instanceof GateError) return err;
  if (isRetryableLedgerError(err)) return err;
  return new GateError(`ledger query failed: ${(err as Error).message}`, {
    type: FailureType.ledgerQuery,
    retryable: false,
    cause: err,
  });
}
