// The one list of failure types an activity can end with that the workflow acts on, and the domain
// error the adapters (Stripe, ledger) throw for them. Adapters know nothing of Temporal: activities
// turn a GateError into Temporal's ApplicationFailure in one place (src/activities/activity-failure.ts),
// and the workflow reads the types back (src/workflows/failures.ts).

export const FailureType = {
  /** Stripe has no such invoice (a draft deleted before the gate read it). Final. */
  invoiceNotFound: 'StripeInvoiceNotFound',
  /** Stripe refused the request (4xx other than 409/429): `StripeRequestRejected:<code>`. Final. */
  stripeRejected: 'StripeRequestRejected',
  /** 429, 5xx, 409 or no answer: `StripeRetryable:<code>`. Retried, honouring Retry-After. */
  stripeRetryable: 'StripeRetryable',
  /** The ledger mapping cannot answer this request (unknown metadata key, unsafe name, bad formula). Final. */
  ledgerMapping: 'LedgerMappingError',
  /** The ledger database refused the query (unknown table or column, bad data). Final. */
  ledgerQuery: 'LedgerQueryError',
} as const;

export interface GateErrorOptions {
  /** The failure type the workflow sees, e.g. FailureType.ledgerMapping or `StripeRetryable:rate_limit`. */
  type: string;
  retryable: boolean;
  /** Overrides the retry policy's next backoff (e.g. Stripe's Retry-After). */
  retryAfterMs?: number;
  /** Structured facts for the failure's details (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** An error whose retry semantics the adapter that raised it knows. */
export class GateError extends Error {
  readonly type: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: GateErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.type = options.type;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}
