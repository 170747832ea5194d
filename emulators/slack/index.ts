// Slack API emulator: the Web API methods the gate uses, button clicks and modal submissions signed
// like Slack's (or sent over Socket Mode), the response_url, and an admin API under /_emulator/.
// See README.md for what it covers.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { APP_ID, SlackWorkspace, type StoredMessage, type FaultSpec, type RateLimitSpec } from './state';
import { callMethod, isAppLevelMethod, isKnownMethod, needsAuth, SlackApiError, type Args } from './web-api';
import { Interactions, type ClickRequest, type SignatureMode, type ViewSubmitRequest } from './interactions';
import { SocketModeError, SocketModeHub, type DisconnectReason, type SocketModeOptions } from './socket-mode';
import { SlackEmulatorAdmin } from './admin-client';
import { SLACK_EMULATOR_DEFAULTS } from './defaults';

export { SlackEmulatorAdmin } from './admin-client';
export { SLACK_EMULATOR_DEFAULTS } from './defaults';
export type {
  AdminMessage,
  ClickOptions,
  ClickReport,
  CloseViewOptions,
  CloseViewReport,
  OpenView,
  SocketClickReport,
  SocketModeStatus,
  SubmitViewOptions,
  ViewSubmissionReport,
} from './admin-client';
export type { SubmissionOutcome, ViewJson } from './modals';
export { signSlackRequest } from './interactions';
export type { DeliveryReport, DisconnectReason, EnvelopeRecord, SocketConnectionInfo } from './socket-mode';
export type { FaultSpec, RateLimitSpec, StoredEphemeral, ResponseUrlPost, RequestLogEntry } from './state';

export interface SlackEmulatorOptions {
  /** Default SLACK_EMULATOR_DEFAULTS.port; 0 picks a random free port (tests). */
  port?: number;
  host?: string;
  /** Default SLACK_EMULATOR_DEFAULTS.botToken. */
  botToken?: string;
  /** Default: generated. */
  signingSecret?: string;
  /** The app-level token (`xapp-...`) apps.connections.open accepts. Default SLACK_EMULATOR_DEFAULTS.appToken. */
  appToken?: string;
  /** The app's "Enable Socket Mode" setting: clicks go over the socket instead of to the interactivity URL. */
  socketMode?: boolean;
  /** Socket Mode timings (ack timeout, retries, ping interval). */
  socketModeOptions?: Omit<SocketModeOptions, 'log'>;
  interactivityUrl?: string;
  /** How long a click's trigger_id can open a modal. Default 3000 ms, as on Slack. */
  triggerTtlMs?: number;
  log?: (msg: string) => void;
}

export interface SlackEmulator {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  /** url + '/api/' (what WebClient's slackApiUrl expects) */
  apiUrl: string;
  port: number;
  botToken: string;
  signingSecret: string;
  appToken: string;
  admin: SlackEmulatorAdmin;
  stop(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseArgs(contentType: string | undefined, raw: string, query: URLSearchParams): Args {
  const args: Args = Object.fromEntries(query.entries());
  if (!raw) return args;
  if (contentType?.includes('application/json')) {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object') Object.assign(args, parsed);
    return args;
  }
  for (const [k, v] of new URLSearchParams(raw)) args[k] = v;
  return args;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function adminMessage(m: StoredMessage) {
  return {
    channel: m.channel,
    ts: m.ts,
    threadTs: m.threadTs,
    user: m.user,
    text: m.text,
    blocks: m.blocks,
    replyCount: m.replyCount,
    edits: m.edits,
    extra: m.extra,
  };
}

export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const botToken = opts.botToken ?? SLACK_EMULATOR_DEFAULTS.botToken;
  const appToken = opts.appToken ?? SLACK_EMULATOR_DEFAULTS.appToken;
  if (!appToken.startsWith('xapp-')) throw new Error("the Slack emulator's app-level token must start with xapp-");
  const signingSecret = opts.signingSecret ?? randomBytes(16).toString('hex');
  const verificationToken = randomBytes(12).toString('hex');
  const log = opts.log ?? (() => {});
  const ws = new SlackWorkspace();
  ws.interactivityUrl = opts.interactivityUrl;
  if (opts.triggerTtlMs !== undefined) ws.triggerTtlMs = opts.triggerTtlMs;
  let baseUrl = '';
  const interactions = new Interactions(ws, () => baseUrl, signingSecret, verificationToken);
  let socketModeEnabled = opts.socketMode ?? false;
  const socketMode = new SocketModeHub(APP_ID, () => new URL(baseUrl).host, { ...opts.socketModeOptions, log });

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> {
    const raw = await readBody(req);
    const at = Date.now();
    const answer = (
      status: number,
      body: Record<string, unknown>,
      extra: { fault?: string; headers?: Record<string, string> } = {},
    ) => {
      ws.log({
        at,
        httpMethod: req.method ?? 'POST',
        path: url.pathname,
        apiMethod: method,
        status,
        ok: body.ok === true,
        error: typeof body.error === 'string' ? body.error : undefined,
        fault: extra.fault,
      });
      log(`slack-emulator ${method} -> ${status} ${body.ok === true ? 'ok' : String(body.error ?? '')}`);
      sendJson(res, status, body, extra.headers);
    };
    let args: Args;
    try {
      args = parseArgs(req.headers['content-type'], raw, url.searchParams);
    } catch {
      return answer(200, { ok: false, error: 'invalid_json' });
    }
    if (!isKnownMethod(method)) return answer(404, { ok: false, error: 'unknown_method', req_method: method });

    const fault = ws.takeFault(method);
    if (fault) {
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      const label = `fault#${fault.id}`;
      if (fault.status === 429 || (!fault.status && fault.error === 'ratelimited')) {
        return answer(
          429,
          { ok: false, error: 'ratelimited' },
          { fault: label, headers: { 'retry-after': String(fault.retryAfter ?? 1) } },
        );
      }
      if (fault.status && fault.status !== 200) {
        ws.log({
          at,
          httpMethod: req.method ?? 'POST',
          path: url.pathname,
          apiMethod: method,
          status: fault.status,
          fault: label,
        });
        res.writeHead(fault.status, { 'content-type': 'text/plain' });
        res.end(fault.status >= 500 ? 'Service Unavailable' : 'Error');
        return;
      }
      if (fault.error) return answer(200, { ok: false, error: fault.error }, { fault: label });
      if (!fault.delayMs) return answer(200, { ok: false, error: 'internal_error' }, { fault: label });
      // a pure latency fault falls through to the normal answer
    }

    const appLevel = isAppLevelMethod(method);
    if (needsAuth(method)) {
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ')
        ? header.slice(7).trim()
        : typeof args.token === 'string'
          ? args.token
          : undefined;
      if (!token) return answer(200, { ok: false, error: 'not_authed' });
      // App-level methods take only the app-level token, every other method only the bot token.
      const expected = appLevel ? appToken : botToken;
      if (token !== expected) {
        const wrongKind = appLevel ? token.startsWith('xox') : token.startsWith('xapp-');
        return answer(200, { ok: false, error: wrongKind ? 'not_allowed_token_type' : 'invalid_auth' });
      }
    }
    const retryAfter = ws.checkRateLimit(method);
    if (retryAfter !== undefined) {
      return answer(
        429,
        { ok: false, error: 'ratelimited' },
        { fault: 'rate_limit', headers: { 'retry-after': String(retryAfter) } },
      );
    }
    delete args.token;
    if (method === 'apps.connections.open')
      return answer(200, { ok: true, url: socketMode.openConnectionUrl(baseUrl) });
    try {
      return answer(200, callMethod(ws, method, args));
    } catch (e) {
      if (e instanceof SlackApiError) return answer(200, { ok: false, error: e.error, ...e.extra });
      throw e;
    }
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { error: 'admin API takes JSON' });
      }
    }
    const m = req.method ?? 'GET';
    const parts = path.split('/').filter(Boolean); // ['_emulator', ...]
    const route = `${m} /${parts.slice(0, 2).join('/')}`;
    switch (route) {
      case 'GET /_emulator/info':
        return sendJson(res, 200, {
          url: baseUrl,
          apiUrl: `${baseUrl}/api/`,
          team: ws.team,
          botUserId: 'U0GATEBOT',
          botToken,
          signingSecret,
          appToken,
          socketMode: socketModeEnabled,
          interactivityUrl: ws.interactivityUrl ?? null,
        });
      case 'GET /_emulator/messages': {
        if (parts.length === 4) {
          const msg = ws.message(decodeURIComponent(parts[2]), decodeURIComponent(parts[3]));
          return msg ? sendJson(res, 200, adminMessage(msg)) : sendJson(res, 404, { error: 'message_not_found' });
        }
        return sendJson(res, 200, ws.listMessages(url.searchParams.get('channel') ?? undefined).map(adminMessage));
      }
      case 'GET /_emulator/ephemerals': {
        const ch = url.searchParams.get('channel');
        const user = url.searchParams.get('user');
        return sendJson(
          res,
          200,
          ws.ephemerals.filter((e) => (!ch || e.channel === ch) && (!user || e.user === user)),
        );
      }
      case 'GET /_emulator/responses':
        return sendJson(res, 200, ws.responses);
      case 'GET /_emulator/users':
        return sendJson(res, 200, [...ws.users.values()]);
      case 'POST /_emulator/users': {
        if (typeof body.id !== 'string' || typeof body.name !== 'string')
          return sendJson(res, 400, { error: 'id and name are required' });
        const user = ws.addUser(body as { id: string; name: string });
        // New users join the seeded review channel unless told otherwise.
        const channels = Array.isArray(body.channels)
          ? (body.channels as string[])
          : [SLACK_EMULATOR_DEFAULTS.channelId];
        for (const c of channels) {
          const ch = ws.channels.get(c);
          if (ch && !ch.members.includes(user.id)) ch.members.push(user.id);
        }
        return sendJson(res, 201, user);
      }
      case 'GET /_emulator/channels':
        return sendJson(res, 200, [...ws.channels.values()]);
      case 'POST /_emulator/channels': {
        if (typeof body.id !== 'string' || typeof body.name !== 'string')
          return sendJson(res, 400, { error: 'id and name are required' });
        return sendJson(res, 201, ws.addChannel(body as { id: string; name: string }));
      }
      case 'GET /_emulator/interactivity':
        return sendJson(res, 200, { url: ws.interactivityUrl ?? null });
      case 'POST /_emulator/interactivity':
        ws.interactivityUrl = typeof body.url === 'string' && body.url ? body.url : undefined;
        return sendJson(res, 200, { url: ws.interactivityUrl ?? null });
      case 'GET /_emulator/faults':
        return sendJson(res, 200, ws.faults);
      case 'POST /_emulator/faults':
        return sendJson(res, 201, ws.addFault(body as FaultSpec));
      case 'DELETE /_emulator/faults':
        ws.faults = [];
        return sendJson(res, 200, { ok: true });
      case 'POST /_emulator/rate-limit':
        ws.rateLimit = {
          perWindow: Number(body.perWindow ?? 1),
          windowMs: Number(body.windowMs ?? 1000),
          retryAfter: Number(body.retryAfter ?? 1),
          methods: Array.isArray(body.methods) ? (body.methods as string[]) : undefined,
        } satisfies RateLimitSpec;
        ws.rateWindows.clear();
        return sendJson(res, 200, ws.rateLimit);
      case 'DELETE /_emulator/rate-limit':
        ws.rateLimit = null;
        return sendJson(res, 200, { ok: true });
      case 'GET /_emulator/requests':
        return sendJson(res, 200, ws.requests);
      case 'DELETE /_emulator/requests':
        ws.requests = [];
        return sendJson(res, 200, { ok: true });
      case 'GET /_emulator/socket-mode':
        return sendJson(res, 200, {
          enabled: socketModeEnabled,
          connections: socketMode.listConnections(),
          envelopes: socketMode.envelopes,
        });
      case 'POST /_emulator/socket-mode': {
        if (parts[2] === 'disconnect') {
          const reason = (body.reason ?? 'refresh_requested') as DisconnectReason;
          if (!['refresh_requested', 'warning', 'link_disabled'].includes(reason))
            return sendJson(res, 400, { error: 'reason must be refresh_requested, warning or link_disabled' });
          return sendJson(
            res,
            200,
            socketMode.disconnect(reason, {
              connectionId: typeof body.connectionId === 'string' ? body.connectionId : undefined,
              closeAfterMs: typeof body.closeAfterMs === 'number' ? body.closeAfterMs : undefined,
            }),
          );
        }
        if (typeof body.enabled !== 'boolean') return sendJson(res, 400, { error: 'enabled (boolean) is required' });
        socketModeEnabled = body.enabled;
        return sendJson(res, 200, { enabled: socketModeEnabled });
      }
      case 'POST /_emulator/reset': {
        const keepUrl = ws.interactivityUrl;
        ws.seed();
        interactions.reset();
        socketMode.reset();
        ws.interactivityUrl = body.keepInteractivityUrl === false ? undefined : keepUrl;
        return sendJson(res, 200, { ok: true });
      }
      case 'GET /_emulator/views':
        return sendJson(res, 200, ws.modals.openViews(url.searchParams.get('user') ?? undefined));
      case 'POST /_emulator/views': {
        const action = parts[2];
        if (action !== 'submit' && action !== 'close')
          return sendJson(res, 404, { error: 'unknown admin route', route });
        const via = body.via === 'socket' || body.via === 'http' ? body.via : socketModeEnabled ? 'socket' : 'http';
        try {
          return sendJson(res, 200, await (action === 'submit' ? submitView(body, via) : closeView(body, via)));
        } catch (e) {
          return sendAdminError(res, e);
        }
      }
      case 'POST /_emulator/click': {
        // As on Slack, the app's Socket Mode setting decides the transport; `via` overrides it.
        const via = body.via === 'socket' || body.via === 'http' ? body.via : socketModeEnabled ? 'socket' : 'http';
        try {
          if (via === 'socket') {
            const { payload, responseUrl } = interactions.buildBlockActions(body as unknown as ClickRequest);
            const delivery = await socketMode.deliver('interactive', payload, {
              ackTimeoutMs: typeof body.ackTimeoutMs === 'number' ? body.ackTimeoutMs : undefined,
              maxRetries: typeof body.maxRetries === 'number' ? body.maxRetries : undefined,
            });
            return sendJson(res, 200, { via, ...delivery, payload, responseUrl });
          }
          const result = await interactions.click(body as unknown as ClickRequest);
          return sendJson(res, 200, { via, ...result });
        } catch (e) {
          if (e instanceof SocketModeError) return sendJson(res, 409, { error: e.error });
          if (e instanceof SlackApiError)
            return sendJson(res, e.error === 'no_interactivity_url' ? 409 : 404, { error: e.error });
          return sendJson(res, 502, {
            error: 'interactivity_request_failed',
            message: e instanceof Error ? e.message : String(e),
          });
        }
      }
      default:
        return sendJson(res, 404, { error: 'unknown admin route', route });
    }
  }

  /** Sends an interaction payload the way the app receives them: the socket when `via` says so, else HTTP. */
  async function deliverInteraction(
    payload: Record<string, unknown>,
    via: 'http' | 'socket',
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { acknowledgedInTime: boolean; response: unknown }> {
    if (via === 'socket') {
      const delivery = await socketMode.deliver('interactive', payload, {
        ackTimeoutMs: typeof body.ackTimeoutMs === 'number' ? body.ackTimeoutMs : undefined,
        maxRetries: typeof body.maxRetries === 'number' ? body.maxRetries : undefined,
      });
      return { via, ...delivery, response: delivery.ackPayload };
    }
    const posted = await interactions.post(
      payload,
      body.signature as SignatureMode | undefined,
      typeof body.timeoutMs === 'number' ? body.timeoutMs : undefined,
    );
    return { via, ...posted, response: posted.body };
  }

  async function submitView(body: Record<string, unknown>, via: 'http' | 'socket') {
    const { payload, view } = interactions.buildViewSubmission(body as ViewSubmitRequest);
    const { response, ...delivery } = await deliverInteraction(payload, via, body);
    // Slack acts on the answer only when it came in time (a 200 over HTTP, an ack over the socket).
    const outcome = ws.modals.settleSubmission(view, delivery.acknowledgedInTime, response);
    return { ...delivery, payload, ...outcome };
  }

  async function closeView(body: Record<string, unknown>, via: 'http' | 'socket') {
    const view = ws.modals.target(body as { viewId?: string; userId?: string; callbackId?: string });
    const all = body.all === true;
    const closed = ws.modals.close(view, all);
    const notified = closed.find((v) => v.notifyOnClose);
    const result: Record<string, unknown> = { closed: closed.map((v) => v.id), notified: false };
    if (!notified) return result;
    const payload = interactions.buildViewClosed(notified, all || closed.length > 1);
    const { response: _response, ...delivery } = await deliverInteraction(payload, via, body);
    return { ...result, notified: true, ...delivery, payload };
  }

  function sendAdminError(res: ServerResponse, e: unknown): void {
    if (e instanceof SocketModeError) return sendJson(res, 409, { error: e.error });
    if (e instanceof SlackApiError) {
      const status = e.error === 'no_interactivity_url' ? 409 : e.error.endsWith('_not_found') ? 404 : 400;
      return sendJson(res, status, { error: e.error, ...e.extra });
    }
    return sendJson(res, 502, {
      error: 'interactivity_request_failed',
      message: e instanceof Error ? e.message : String(e),
    });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const done = (p: Promise<void>) =>
      p.catch((e: unknown) => {
        log(`slack-emulator error on ${path}: ${e instanceof Error ? e.stack : String(e)}`);
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error' });
        else res.end();
      });
    if (path.startsWith('/api/')) return void done(handleApi(req, res, path.slice(5), url));
    if (path.startsWith('/_emulator/')) return void done(handleAdmin(req, res, path, url));
    const action = /^\/actions\/[^/]+\/([^/]+)\/[^/]+$/.exec(path);
    if (action && req.method === 'POST') {
      return void done(
        (async () => {
          const raw = await readBody(req);
          let body: Record<string, unknown>;
          try {
            body = req.headers['content-type']?.includes('application/json')
              ? (JSON.parse(raw) as Record<string, unknown>)
              : Object.fromEntries(new URLSearchParams(raw));
          } catch {
            return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
          }
          const out = interactions.handleResponseUrl(action[1], body);
          ws.log({
            at: Date.now(),
            httpMethod: 'POST',
            path,
            status: out.status,
            ok: out.body.ok === true,
            error: out.body.error as string | undefined,
          });
          sendJson(res, out.status, out.body);
        })(),
      );
    }
    sendJson(res, 404, { ok: false, error: 'not_found' });
  });

  server.on('upgrade', (req, socket, head) => socketMode.handleUpgrade(req, socket, head));

  const host = opts.host ?? SLACK_EMULATOR_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? SLACK_EMULATOR_DEFAULTS.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  baseUrl = `http://${displayHost}:${port}`;
  log(`slack-emulator listening on ${baseUrl}`);

  return {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    port,
    botToken,
    signingSecret,
    appToken,
    admin: new SlackEmulatorAdmin(baseUrl),
    stop: async () => {
      await socketMode.close();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
