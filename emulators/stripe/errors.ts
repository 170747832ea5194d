// Stripe's error envelope: { error: { type, code, message, param, doc_url } } with its HTTP status.

export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    /** True once the endpoint began executing: such results are saved for idempotent replay. */
    readonly executed = false,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toJSON(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { type: this.type, message: this.message };
    if (this.code) {
      error.code = this.code;
      error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}`;
    }
    if (this.param) error.param = this.param;
    Object.assign(error, this.extra);
    return { error };
  }
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
}

export function parameterMissing(param: string): StripeApiError {
  return new StripeApiError(
    400,
    'invalid_request_error',
    `Missing required param: ${param}.`,
    'parameter_missing',
    param,
  );
}

export function parameterInvalid(param: string, message: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, 'parameter_invalid_string', param);
}

export function parameterUnknown(param: string): StripeApiError {
  return new StripeApiError(
    400,
    'invalid_request_error',
    `Received unknown parameter: ${param}`,
    'parameter_unknown',
    param,
  );
}

/** An error about the state of an object: the endpoint ran, so the result is saved for replay. */
export function stateError(message: string, code?: string, param?: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, code, param, true);
}
