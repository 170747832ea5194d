// Request URLs as logged, without link signatures. A run page link (`?sig=<expiry>.<HMAC>`) opens the
// page until it expires: a credential. It can reach any route (a trailing slash, a typo, `?%73ig=`,
// which the query parser decodes to `sig` and which still opens the page), so it is removed from every
// request the server logs: by the `req` serializer, by the `url` of a route's own lines (logger.ts) and
// by Fastify's "Route ... not found" line (SignatureRedactingLogController).
import { LogController, type FastifyRequest } from 'fastify';
import { RUN_PAGE_SIGNATURE_PARAM } from '../run-page/link-signature';

export const REDACTED_QUERY_VALUE = '[redacted]';

/** An HMAC-SHA256 in hex, as link signatures carry it: whatever the parameter is called, it is not logged. */
const HEX_MAC = /[0-9a-f]{64}/i;

/** `decodeURIComponent`, as the query parser reads a parameter (`+` is a space), or the text as is when malformed. */
function decodeQueryPart(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/** The URL with the value of every link signature parameter replaced (its name decoded as the parser decodes it). */
export function redactLinkSignatures(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const pairs = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const signature = decodeQueryPart(name) === RUN_PAGE_SIGNATURE_PARAM || HEX_MAC.test(decodeQueryPart(pair));
      if (!signature) return pair;
      return HEX_MAC.test(decodeQueryPart(name)) ? REDACTED_QUERY_VALUE : `${name}=${REDACTED_QUERY_VALUE}`;
    });
  return `${url.slice(0, start)}?${pairs.join('&')}`;
}

/** The fields Fastify logs for a request, the URL without link signatures (replaces Fastify's `req` serializer). */
export function serializeRequest(req: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactLinkSignatures(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Fastify's log lines, with the one that writes the raw URL into its message ("Route GET:/x not found") redacted. */
export class SignatureRedactingLogController extends LogController {
  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(`Route ${request.raw.method}:${redactLinkSignatures(request.raw.url ?? '')} not found`);
  }
}
