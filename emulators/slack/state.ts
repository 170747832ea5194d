// In-memory workspace of the Slack emulator: team, users, channels, messages, ephemerals,
// what was posted to response_urls, open modals, faults and the request log.
import { SLACK_EMULATOR_DEFAULTS } from './defaults';
import { ModalStore, TRIGGER_TTL_MS } from './modals';

export interface EmulatedTeam {
  id: string;
  name: string;
  domain: string;
}

export interface EmulatedUser {
  id: string;
  name: string;
  realName: string;
  email?: string;
  isBot: boolean;
  deleted: boolean;
  tz: string;
}

export interface EmulatedChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  created: number;
  /** Member user ids; the bot is a member of every seeded channel. */
  members: string[];
  topic: string;
  purpose: string;
}

export interface MessageEdit {
  /** When the edit happened (a Slack ts). */
  editedTs: string;
  /** The text and blocks the message had before this edit. */
  previousText: string;
  previousBlocks: unknown[] | undefined;
  /** 'chat.update' or 'response_url' */
  via: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  /** Set on replies (and, once it has replies, on the parent as its own ts). */
  threadTs?: string;
  user: string;
  botId?: string;
  appId?: string;
  text: string;
  blocks?: unknown[];
  /** Extra chat.postMessage arguments we keep verbatim (username, icon_emoji, metadata ...). */
  extra: Record<string, unknown>;
  edits: MessageEdit[];
  replyCount: number;
  deleted: boolean;
}

export interface StoredEphemeral {
  channel: string;
  user: string;
  messageTs: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  /** 'chat.postEphemeral' or 'response_url' */
  via: string;
}

export interface ResponseUrlPost {
  /** id of the response_url (last path segment but one). */
  responseUrlId: string;
  channel: string;
  messageTs: string;
  userId: string;
  body: Record<string, unknown>;
  /** What the emulator did with it. */
  effect: 'replaced' | 'deleted' | 'ephemeral' | 'in_channel' | 'rejected';
  at: number;
}

export interface RequestLogEntry {
  at: number;
  httpMethod: string;
  path: string;
  /** Web API method name, when the request was one. */
  apiMethod?: string;
  status: number;
  ok?: boolean;
  error?: string;
  /** Fault that produced the answer, if any. */
  fault?: string;
}

export interface FaultRule {
  id: number;
  /** Web API methods it applies to; empty/undefined = all. */
  methods?: string[];
  /** Fail this many matching calls, then the rule is spent. */
  remaining?: number;
  /** Fail matching calls until this wall-clock time (ms since epoch). */
  untilMs?: number;
  /** Slack error string for `{ ok: false, error }` (default 'internal_error'). 'ratelimited' answers HTTP 429. */
  error?: string;
  /** HTTP status instead of a Slack error body: 500, 503, 429 ... */
  status?: number;
  /** Retry-After seconds for 429 (default 1). */
  retryAfter?: number;
  /** Added latency before the answer (ms). */
  delayMs?: number;
}

export interface FaultSpec {
  methods?: string[];
  count?: number;
  durationMs?: number;
  error?: string;
  status?: number;
  retryAfter?: number;
  delayMs?: number;
}

export interface RateLimitSpec {
  /** Calls allowed per method per window before 429 (like Slack's per-method tiers). */
  perWindow: number;
  windowMs: number;
  retryAfter: number;
  methods?: string[];
}

export const BOT_USER_ID = 'U0GATEBOT';
export const BOT_ID = 'B0GATEBOT';
export const APP_ID = 'A0GATEAPP';

export class SlackWorkspace {
  team: EmulatedTeam = { id: 'T0GATE', name: 'Invoice Gate', domain: 'invoice-gate' };
  users = new Map<string, EmulatedUser>();
  channels = new Map<string, EmulatedChannel>();
  /** key: channel + ':' + ts */
  messages = new Map<string, StoredMessage>();
  ephemerals: StoredEphemeral[] = [];
  responses: ResponseUrlPost[] = [];
  requests: RequestLogEntry[] = [];
  faults: FaultRule[] = [];
  rateLimit: RateLimitSpec | null = null;
  rateWindows = new Map<string, { start: number; count: number }>();
  interactivityUrl: string | undefined;
  /** How long a click's trigger_id opens a modal (Slack: 3 s). */
  triggerTtlMs = TRIGGER_TTL_MS;
  /** Trigger ids handed out by interactions, and the modal views open per user. */
  readonly modals = new ModalStore({ teamId: this.team.id, appId: APP_ID, botId: BOT_ID }, () => this.triggerTtlMs);
  private lastTsMicros = 0;
  private nextFaultId = 1;

  constructor() {
    this.seed();
  }

  seed(): void {
    this.users.clear();
    this.channels.clear();
    this.messages.clear();
    this.ephemerals = [];
    this.responses = [];
    this.requests = [];
    this.faults = [];
    this.rateLimit = null;
    this.rateWindows.clear();
    this.modals.reset();
    this.addUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Reviewer', email: 'alice@example.com' });
    this.addUser({ id: 'U0BOB', name: 'bob', realName: 'Bob Builder', email: 'bob@example.com' });
    this.addUser({ id: 'U0CAROL', name: 'carol', realName: 'Carol Controller', email: 'carol@example.com' });
    this.addUser({ id: BOT_USER_ID, name: 'invoice-gate', realName: 'Invoice Gate', isBot: true });
    this.addChannel({
      id: SLACK_EMULATOR_DEFAULTS.channelId,
      name: 'billing-review',
      members: ['U0ALICE', 'U0BOB', 'U0CAROL', BOT_USER_ID],
    });
  }

  addUser(u: {
    id: string;
    name: string;
    realName?: string;
    email?: string;
    isBot?: boolean;
    deleted?: boolean;
    tz?: string;
  }): EmulatedUser {
    const user: EmulatedUser = {
      id: u.id,
      name: u.name,
      realName: u.realName ?? u.name,
      email: u.email,
      isBot: u.isBot ?? false,
      deleted: u.deleted ?? false,
      tz: u.tz ?? 'Europe/Berlin',
    };
    this.users.set(user.id, user);
    return user;
  }

  addChannel(c: {
    id: string;
    name: string;
    isPrivate?: boolean;
    isArchived?: boolean;
    members?: string[];
    topic?: string;
    purpose?: string;
  }): EmulatedChannel {
    const channel: EmulatedChannel = {
      id: c.id,
      name: c.name,
      isPrivate: c.isPrivate ?? false,
      isArchived: c.isArchived ?? false,
      created: Math.floor(Date.now() / 1000),
      members: c.members ?? [BOT_USER_ID],
      topic: c.topic ?? '',
      purpose: c.purpose ?? '',
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Channel by id, or by name with or without '#' (chat.postMessage accepts names). */
  findChannel(idOrName: string | undefined): EmulatedChannel | undefined {
    if (!idOrName) return undefined;
    const byId = this.channels.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^#/, '');
    for (const c of this.channels.values()) if (c.name === name) return c;
    return undefined;
  }

  /** A Slack ts ("1700000000.000100"): unique and strictly increasing. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    const sec = Math.floor(micros / 1_000_000);
    const frac = String(micros % 1_000_000).padStart(6, '0');
    return `${sec}.${frac}`;
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    const m = this.messages.get(`${channel}:${ts}`);
    return m && !m.deleted ? m : undefined;
  }

  putMessage(m: StoredMessage): void {
    this.messages.set(`${m.channel}:${m.ts}`, m);
  }

  /** Messages (top level and thread replies) in ts order, optionally of one channel. */
  listMessages(channel?: string): StoredMessage[] {
    return [...this.messages.values()]
      .filter((m) => !m.deleted && (!channel || m.channel === channel))
      .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }

  addFault(spec: FaultSpec): FaultRule {
    const rule: FaultRule = {
      id: this.nextFaultId++,
      methods: spec.methods && spec.methods.length > 0 ? spec.methods : undefined,
      remaining: spec.count,
      untilMs: spec.durationMs !== undefined ? Date.now() + spec.durationMs : undefined,
      error: spec.error,
      status: spec.status,
      retryAfter: spec.retryAfter,
      delayMs: spec.delayMs,
    };
    if (rule.remaining === undefined && rule.untilMs === undefined) rule.remaining = 1;
    this.faults.push(rule);
    return rule;
  }

  /** The fault that applies to this call (consuming one use of a counted rule), if any. */
  takeFault(apiMethod: string): FaultRule | undefined {
    const now = Date.now();
    this.faults = this.faults.filter(
      (f) => (f.remaining === undefined || f.remaining > 0) && (f.untilMs === undefined || f.untilMs > now),
    );
    const rule = this.faults.find((f) => !f.methods || f.methods.includes(apiMethod));
    if (rule && rule.remaining !== undefined) rule.remaining -= 1;
    return rule;
  }

  /** Seconds to wait when this call exceeds the configured rate limit, else undefined. */
  checkRateLimit(apiMethod: string): number | undefined {
    const rl = this.rateLimit;
    if (!rl || (rl.methods && !rl.methods.includes(apiMethod))) return undefined;
    const now = Date.now();
    const w = this.rateWindows.get(apiMethod);
    if (!w || now - w.start >= rl.windowMs) {
      this.rateWindows.set(apiMethod, { start: now, count: 1 });
      return undefined;
    }
    w.count += 1;
    return w.count > rl.perWindow ? rl.retryAfter : undefined;
  }

  log(entry: RequestLogEntry): void {
    this.requests.push(entry);
    if (this.requests.length > 5000) this.requests.splice(0, this.requests.length - 5000);
  }
}
