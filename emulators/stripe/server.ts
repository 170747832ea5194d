// HTTP front of the emulator: auth, faults, idempotency, routing, expansion, the request log.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchRoute } from './api';
import { StripeApiError } from './errors';
import type { Faults } from './faults';
import { parseForm, type Params } from './form';
import { API_VERSION } from './objects';
import { clone, type Obj } from './util';
import type { RequestInfo, World } from './world';

export interface RequestLogEntry {
  request_id: string;
  at: string;
  method: string;
  path: string;
  query: string;
  status: number;
  idempotency_key: string | null;
  idempotent_replayed: boolean;
  error_code: string | null;
  duration_ms: number;
  /** 'dashboard' for changes made through admin.dashboard() (as a person in Stripe's Dashboard). */
  source?: 'dashboard';
}

interface SavedResponse {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
  at: number;
}

/** The request log keeps the newest 100,000 (a 5,000-invoice month end makes about 13,000). */
const MAX_LOG = 100_000;
const MAX_IDEMPOTENT = 50_000;
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export class ApiServer {
  readonly requestLog: RequestLogEntry[] = [];
  private readonly idempotency = new Map<string, SavedResponse>();

  constructor(
    private readonly world: World,
    private readonly faults: Faults,
    private readonly apiKey: string,
    private readonly hasSubscribers: (type: string) => boolean,
  ) {}

  reset(): void {
    this.requestLog.length = 0;
    this.idempotency.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const started = Date.now();
    const requestId = newRequestId();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const idemHeader = req.headers['idempotency-key'];
    const idempotencyKey = typeof idemHeader === 'string' && idemHeader !== '' ? idemHeader : null;
    let replayed = false;
    let status = 200;
    let body: string;
    let errorCode: string | null = null;
    try {
      const latency = this.faults.latency(method, path);
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      this.authenticate(req.headers.authorization);
      this.faults.check(method, path);
      const params: Params = method === 'POST' ? parseForm(rawBody) : parseForm(url.search.slice(1));
      if (method === 'DELETE' && rawBody) Object.assign(params, parseForm(rawBody));
      const mutating = method === 'POST' || method === 'DELETE';
      const idemScope = idempotencyKey && mutating ? `${this.apiKey}:${idempotencyKey}` : null;
      const fingerprint = `${method} ${path} ${canonical(params)}`;
      const saved = idemScope ? this.idempotency.get(idemScope) : undefined;
      if (idempotencyKey && idempotencyKey.length > 255) {
        throw new StripeApiError(
          400,
          'invalid_request_error',
          'Idempotency keys can be at most 255 characters long.',
          undefined,
          undefined,
        );
      }
      if (saved) {
        if (saved.fingerprint !== fingerprint) {
          throw new StripeApiError(
            400,
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          );
        }
        replayed = true;
        status = saved.status;
        body = saved.body;
        res.setHeader('original-request', saved.requestId);
      } else {
        try {
          body = JSON.stringify(this.dispatch(method, path, params, url.pathname, requestId, idempotencyKey), null, 2);
          status = 200;
        } catch (err) {
          if (err instanceof StripeApiError && err.executed && idemScope) {
            this.save(idemScope, {
              fingerprint,
              status: err.status,
              body: JSON.stringify(withRequestLog(err, requestId), null, 2),
              requestId,
            });
          }
          throw err;
        }
        if (idemScope) this.save(idemScope, { fingerprint, status, body, requestId });
      }
    } catch (err) {
      const apiErr =
        err instanceof StripeApiError
          ? err
          : new StripeApiError(500, 'api_error', `An unknown error occurred: ${(err as Error).message}`);
      status = apiErr.status;
      errorCode = apiErr.code ?? apiErr.type;
      body = JSON.stringify(withRequestLog(apiErr, requestId), null, 2);
    }
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('request-id', requestId);
    res.setHeader(
      'stripe-version',
      typeof req.headers['stripe-version'] === 'string' ? req.headers['stripe-version'] : API_VERSION,
    );
    if (idempotencyKey) res.setHeader('idempotency-key', idempotencyKey);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    res.end(body);
    this.requestLog.push({
      request_id: requestId,
      at: new Date(started).toISOString(),
      method,
      path,
      query: url.search,
      status,
      idempotency_key: idempotencyKey,
      idempotent_replayed: replayed,
      error_code: errorCode,
      duration_ms: Date.now() - started,
    });
    if (this.requestLog.length > MAX_LOG) this.requestLog.splice(0, this.requestLog.length - MAX_LOG);
  }

  /** Saved results are kept for 24 h (Stripe: at least 24 h) and at most MAX_IDEMPOTENT of them. */
  private save(scope: string, saved: Omit<SavedResponse, 'at'>): void {
    const now = Date.now();
    this.idempotency.set(scope, { ...saved, at: now });
    for (const [key, value] of this.idempotency) {
      if (this.idempotency.size <= MAX_IDEMPOTENT && value.at > now - IDEMPOTENCY_TTL_MS) break;
      this.idempotency.delete(key);
    }
  }

  private authenticate(header: string | undefined): void {
    let key: string | null = null;
    if (header?.startsWith('Bearer ')) key = header.slice(7).trim();
    else if (header?.startsWith('Basic ')) key = Buffer.from(header.slice(6), 'base64').toString().split(':')[0];
    if (!key) {
      throw new StripeApiError(
        401,
        'invalid_request_error',
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    if (key !== this.apiKey) {
      const shown =
        key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : key;
      throw new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${shown}`);
    }
  }

  /**
   * A change made in Stripe's Dashboard: Stripe performs it as a request of its own (a `req_` id and an
   * idempotency key of its own), so the events it causes carry that request, not one of the app's.
   */
  asDashboard(method: string, path: string, params: Params): { request: RequestInfo; result: Obj } {
    const started = Date.now();
    const request = { id: newRequestId(), idempotency_key: method === 'GET' ? null : randomUUID() };
    let status = 200;
    let errorCode: string | null = null;
    try {
      return { request, result: this.dispatch(method, path, params, path, request.id, request.idempotency_key) };
    } catch (err) {
      status = err instanceof StripeApiError ? err.status : 500;
      errorCode = err instanceof StripeApiError ? (err.code ?? err.type) : 'api_error';
      throw err;
    } finally {
      this.requestLog.push({
        request_id: request.id,
        at: new Date(started).toISOString(),
        method,
        path,
        query: '',
        status,
        idempotency_key: request.idempotency_key,
        idempotent_replayed: false,
        error_code: errorCode,
        duration_ms: Date.now() - started,
        source: 'dashboard',
      });
    }
  }

  private dispatch(
    method: string,
    path: string,
    params: Params,
    urlPath: string,
    requestId: string,
    idempotencyKey: string | null,
  ): Obj {
    const found = matchRoute(method, path);
    if (!found) {
      throw new StripeApiError(
        404,
        'invalid_request_error',
        `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      );
    }
    const request = {
      id: requestId,
      idempotency_key: method === 'GET' ? null : idempotencyKey,
    };
    const result = found.handler({
      world: this.world,
      params,
      path: found.path,
      request,
      url: urlPath,
      hasSubscribers: this.hasSubscribers,
    });
    const rendered =
      result.object === 'list'
        ? { ...result, data: (result.data as Obj[]).map((o) => this.world.render(o)) }
        : result.object === 'invoice' && !result.deleted && this.world.invoices.has(result.id)
          ? this.world.renderInvoice(result)
          : clone(result);
    const expand = params.expand;
    const paths = Array.isArray(expand) ? expand.filter((x): x is string => typeof x === 'string') : [];
    return paths.length > 0 ? this.world.expand(rendered, paths) : rendered;
  }
}

function newRequestId(): string {
  return 'req_' + randomBytes(7).toString('hex');
}

function withRequestLog(err: StripeApiError, requestId: string): Obj {
  const body = err.toJSON();
  body.error.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
  return body;
}

/** Order-independent form of the params, so retries with the same params match. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
