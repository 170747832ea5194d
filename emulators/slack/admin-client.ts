// Typed client for the Slack emulator's admin API (/_emulator/...), for tests and the demo.
import type { DisconnectReason, EnvelopeRecord, SocketConnectionInfo } from './socket-mode';
import type {
  EmulatedChannel,
  EmulatedUser,
  FaultRule,
  FaultSpec,
  MessageEdit,
  RateLimitSpec,
  RequestLogEntry,
  ResponseUrlPost,
  StoredEphemeral,
} from './state';

export interface AdminMessage {
  channel: string;
  ts: string;
  /** Set on thread replies (the parent's ts), and on a parent that has replies (its own ts). */
  threadTs?: string;
  user: string;
  text: string;
  blocks?: Array<Record<string, unknown>>;
  replyCount: number;
  /** Earlier versions, oldest first (chat.update / response_url replace_original). */
  edits: MessageEdit[];
  extra: Record<string, unknown>;
}

export interface ClickOptions {
  channel: string;
  ts: string;
  actionId: string;
  /** Default U0ALICE. */
  userId?: string;
  /** 'forged' signs with a wrong secret, 'stale' with a timestamp 6 minutes old. Default 'valid'. */
  signature?: 'valid' | 'forged' | 'stale';
  timeoutMs?: number;
}

export interface SocketClickOptions extends Omit<ClickOptions, 'signature' | 'timeoutMs'> {
  /** Resend when no ack came within this long (default 3000 ms, Slack's deadline). */
  ackTimeoutMs?: number;
  /** Redeliveries after the first attempt (default 3). */
  maxRetries?: number;
}

export interface ClickReport {
  via: 'http';
  status: number;
  body: string;
  ms: number;
  acknowledgedInTime: boolean;
  payload: Record<string, unknown>;
  responseUrl: string;
}

/** A click delivered as an `interactive` Socket Mode envelope. */
export interface SocketClickReport {
  via: 'socket';
  envelopeId: string;
  /** The app acknowledged the envelope (`{ envelope_id }`). */
  acked: boolean;
  /** Deliveries: 1, plus one per redelivery (`retry_attempt`, `retry_reason: 'timeout'`). */
  attempts: number;
  ms: number;
  acknowledgedInTime: boolean;
  /** What the app sent in its ack's `payload`, if anything. */
  ackPayload?: unknown;
  payload: Record<string, unknown>;
  responseUrl: string;
}

export interface SubmitViewOptions {
  /** The view to submit; or the topmost open view of `userId` (with `callbackId`, if given). */
  viewId?: string;
  userId?: string;
  callbackId?: string;
  /** What the user entered, by block_id: an option value for selects, the text for text inputs; null clears. */
  values?: Record<string, string | string[] | null>;
  /** Raw `state.values` sent verbatim (`{ block_id: { action_id: { type, ... } } }`); skips the required-field check. */
  stateValues?: Record<string, Record<string, unknown>>;
  /** 'forged' signs with a wrong secret, 'stale' with a timestamp 6 minutes old (HTTP only). Default 'valid'. */
  signature?: 'valid' | 'forged' | 'stale';
  /** Default: the app's Socket Mode setting. */
  via?: 'http' | 'socket';
  timeoutMs?: number;
  ackTimeoutMs?: number;
  maxRetries?: number;
}

/** A view as views.open returns it and payloads carry it. */
export type OpenView = Record<string, any> & { id: string; hash: string; callback_id: string; user_id: string };

/** What happened to a view_submission: the delivery, and what Slack made of the app's answer. */
export interface ViewSubmissionReport {
  via: 'http' | 'socket';
  /** HTTP: the app's status and body. */
  status?: number;
  body?: string;
  /** Socket Mode: the envelope, whether it was acked, deliveries, and the ack's payload. */
  envelopeId?: string;
  acked?: boolean;
  attempts?: number;
  ackPayload?: unknown;
  ms: number;
  acknowledgedInTime: boolean;
  /** The view_submission payload as sent. */
  payload: Record<string, any>;
  /** 'close' (empty answer), the app's response_action, 'none' (no answer in time) or 'invalid'. */
  responseAction: 'close' | 'errors' | 'update' | 'push' | 'clear' | 'none' | 'invalid';
  /** By block_id, when the app answered `response_action: 'errors'`. */
  errors?: Record<string, string>;
  /** Error keys that are not input blocks of the view. */
  unknownErrorBlocks?: string[];
  /** The submitted view is gone (an empty answer, or `clear`); `update` keeps it open with new content. */
  viewClosed: boolean;
  responseError?: string;
  /** The user's modal stack after the answer, bottom first. */
  openViews: Array<Record<string, any>>;
}

export interface CloseViewOptions {
  viewId?: string;
  userId?: string;
  callbackId?: string;
  /** Close the whole stack (the X), not only this view and those above it. */
  all?: boolean;
  signature?: 'valid' | 'forged' | 'stale';
  via?: 'http' | 'socket';
}

export interface CloseViewReport {
  /** Ids of the views closed, top first. */
  closed: string[];
  /** A view_closed payload was sent (a closed view had notify_on_close). */
  notified: boolean;
  via?: 'http' | 'socket';
  status?: number;
  acked?: boolean;
  acknowledgedInTime?: boolean;
  payload?: Record<string, any>;
}

export interface SocketModeStatus {
  /** The app's "Enable Socket Mode" setting: clicks default to the socket. */
  enabled: boolean;
  connections: SocketConnectionInfo[];
  envelopes: EnvelopeRecord[];
}

export interface EmulatorInfo {
  url: string;
  apiUrl: string;
  team: { id: string; name: string; domain: string };
  botUserId: string;
  botToken: string;
  signingSecret: string;
  appToken: string;
  socketMode: boolean;
  interactivityUrl: string | null;
}

export class SlackEmulatorAdmin {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}/_emulator${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`slack emulator ${method} ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  info(): Promise<EmulatorInfo> {
    return this.call('GET', '/info');
  }

  /** Messages in ts order, thread replies included; all channels when none is given. */
  messages(channel?: string): Promise<AdminMessage[]> {
    return this.call('GET', `/messages${channel ? `?channel=${encodeURIComponent(channel)}` : ''}`);
  }

  message(channel: string, ts: string): Promise<AdminMessage> {
    return this.call('GET', `/messages/${encodeURIComponent(channel)}/${encodeURIComponent(ts)}`);
  }

  /** Replies in the thread of `ts`, in order. */
  async replies(channel: string, ts: string): Promise<AdminMessage[]> {
    return (await this.messages(channel)).filter((m) => m.threadTs === ts && m.ts !== ts);
  }

  ephemerals(filter: { channel?: string; user?: string } = {}): Promise<StoredEphemeral[]> {
    const q = new URLSearchParams();
    if (filter.channel) q.set('channel', filter.channel);
    if (filter.user) q.set('user', filter.user);
    const qs = q.toString();
    return this.call('GET', `/ephemerals${qs ? `?${qs}` : ''}`);
  }

  /** What apps posted to response_urls. */
  responses(): Promise<ResponseUrlPost[]> {
    return this.call('GET', '/responses');
  }

  users(): Promise<EmulatedUser[]> {
    return this.call('GET', '/users');
  }

  /** Adds a user; they join C0BILLING unless `channels` says otherwise. */
  addUser(user: {
    id: string;
    name: string;
    realName?: string;
    email?: string;
    isBot?: boolean;
    deleted?: boolean;
    channels?: string[];
  }): Promise<EmulatedUser> {
    return this.call('POST', '/users', user);
  }

  channels(): Promise<EmulatedChannel[]> {
    return this.call('GET', '/channels');
  }

  addChannel(channel: {
    id: string;
    name: string;
    isPrivate?: boolean;
    isArchived?: boolean;
    members?: string[];
  }): Promise<EmulatedChannel> {
    return this.call('POST', '/channels', channel);
  }

  async setInteractivityUrl(url: string | null): Promise<void> {
    await this.call('POST', '/interactivity', { url });
  }

  /**
   * Make Web API calls fail: the next `count` matching calls (default 1) or all of them for
   * `durationMs`. `error` answers `{ ok: false, error }` ('ratelimited' answers HTTP 429),
   * `status` answers that HTTP status (429 with Retry-After `retryAfter` seconds), `delayMs` adds latency.
   */
  setFaults(spec: FaultSpec): Promise<FaultRule> {
    return this.call('POST', '/faults', spec);
  }

  faults(): Promise<FaultRule[]> {
    return this.call('GET', '/faults');
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  /** At most `perWindow` calls per method per `windowMs`, then 429 with Retry-After. */
  setRateLimit(spec: RateLimitSpec): Promise<RateLimitSpec> {
    return this.call('POST', '/rate-limit', spec);
  }

  async clearRateLimit(): Promise<void> {
    await this.call('DELETE', '/rate-limit');
  }

  requests(): Promise<RequestLogEntry[]> {
    return this.call('GET', '/requests');
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', '/requests');
  }

  /** Back to the seeded workspace (the interactivity URL is kept unless told otherwise). */
  async reset(opts: { keepInteractivityUrl?: boolean } = {}): Promise<void> {
    await this.call('POST', '/reset', opts);
  }

  /** A person clicks a button of a stored message; the signed block_actions request goes to the interactivity URL. */
  click(opts: ClickOptions): Promise<ClickReport> {
    return this.call('POST', '/click', { ...opts, via: 'http' });
  }

  /**
   * The same click delivered over Socket Mode: an `interactive` envelope with the block_actions payload
   * on an open connection, redelivered until the app acks it or the retries run out. 409 without a connection.
   */
  clickOverSocket(opts: SocketClickOptions): Promise<SocketClickReport> {
    return this.call('POST', '/click', { ...opts, via: 'socket' });
  }

  /** Modals open now (every user's stack, bottom first), or one user's. */
  openViews(userId?: string): Promise<OpenView[]> {
    return this.call('GET', `/views${userId ? `?user=${encodeURIComponent(userId)}` : ''}`);
  }

  /**
   * The user submits an open modal: the view_submission payload (state.values from `values`) goes to
   * the app, signed like a click (or over Socket Mode), and the app's answer is applied as Slack does:
   * empty closes, `errors` keeps the view open, `update` / `push` / `clear` change the stack.
   * 400 `required_input_missing` when a required input is left empty (Slack's client would not submit).
   */
  submitView(opts: SubmitViewOptions): Promise<ViewSubmissionReport> {
    return this.call('POST', '/views/submit', opts);
  }

  /** The user cancels a modal; the app gets view_closed if the view has notify_on_close. */
  closeView(opts: CloseViewOptions): Promise<CloseViewReport> {
    return this.call('POST', '/views/close', opts);
  }

  socketMode(): Promise<SocketModeStatus> {
    return this.call('GET', '/socket-mode');
  }

  /** Turns the app's Socket Mode setting on or off (what clicks without `via` use). */
  async setSocketMode(enabled: boolean): Promise<void> {
    await this.call('POST', '/socket-mode', { enabled });
  }

  /** Sends `disconnect` (default `refresh_requested`) to every open connection, or to one. */
  disconnectSockets(
    opts: { reason?: DisconnectReason; connectionId?: string; closeAfterMs?: number } = {},
  ): Promise<{ disconnected: string[] }> {
    return this.call('POST', '/socket-mode/disconnect', opts);
  }
}
