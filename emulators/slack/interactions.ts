// A person clicking a button or submitting/closing a modal: the block_actions, view_submission and
// view_closed payloads Slack builds, signed and posted to the app's interactivity URL; and the
// response_url the app may answer through afterwards.
import { createHmac, randomBytes } from 'node:crypto';
import { channelJson, messageJson, SlackApiError } from './web-api';
import { APP_ID, type SlackWorkspace, type StoredMessage } from './state';
import { viewJson, type SimpleValues, type StoredView } from './modals';

export type SignatureMode = 'valid' | 'forged' | 'stale';

export interface ClickRequest {
  channel: string;
  ts: string;
  actionId: string;
  /** Who clicks; default U0ALICE. */
  userId?: string;
  signature?: SignatureMode;
  /** Give up waiting for the app after this long (default 10 s; Slack itself shows an error after 3 s). */
  timeoutMs?: number;
}

export interface ViewSubmitRequest {
  /** The view to submit; or the topmost open view of `userId` (with `callbackId`, if given). */
  viewId?: string;
  userId?: string;
  callbackId?: string;
  /** What the user entered, by block_id: an option value for selects, the text for inputs. */
  values?: SimpleValues;
  /** Raw `state.values` (`{ block_id: { action_id: { type, ... } } }`), sent verbatim (no required-field check). */
  stateValues?: Record<string, Record<string, unknown>>;
  signature?: SignatureMode;
  timeoutMs?: number;
}

export interface ClickResult {
  status: number;
  body: string;
  ms: number;
  /** Slack shows the user an error when the app does not answer 200 within 3 s. */
  acknowledgedInTime: boolean;
  payload: Record<string, unknown>;
  responseUrl: string;
}

interface ResponseUrlGrant {
  id: string;
  channel: string;
  messageTs: string;
  userId: string;
  createdAt: number;
  uses: number;
}

/** Slack allows 5 uses within 30 minutes. */
const RESPONSE_URL_MAX_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
const ACK_DEADLINE_MS = 3000;

export function signSlackRequest(secret: string, timestampSec: number, body: string): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex');
}

interface FoundAction {
  blockId: string;
  element: Record<string, unknown>;
}

function findAction(m: StoredMessage, actionId: string): FoundAction | undefined {
  for (const raw of m.blocks ?? []) {
    const block = raw as { type?: string; block_id?: string; elements?: unknown[]; accessory?: unknown };
    const candidates = [
      ...(Array.isArray(block.elements) ? block.elements : []),
      ...(block.accessory ? [block.accessory] : []),
    ];
    for (const e of candidates) {
      const el = e as Record<string, unknown>;
      if (el && el.action_id === actionId) return { blockId: String(block.block_id ?? ''), element: el };
    }
  }
  return undefined;
}

export class Interactions {
  private grants = new Map<string, ResponseUrlGrant>();

  constructor(
    private readonly ws: SlackWorkspace,
    private readonly baseUrl: () => string,
    private readonly signingSecret: string,
    private readonly verificationToken: string,
  ) {}

  reset(): void {
    this.grants.clear();
  }

  buildBlockActions(req: ClickRequest): { payload: Record<string, unknown>; responseUrl: string } {
    const ws = this.ws;
    const channel = ws.channels.get(req.channel);
    if (!channel) throw new SlackApiError('channel_not_found');
    const message = ws.message(channel.id, req.ts);
    if (!message) throw new SlackApiError('message_not_found');
    const userId = req.userId ?? 'U0ALICE';
    const user = ws.users.get(userId);
    if (!user) throw new SlackApiError('user_not_found');
    const found = findAction(message, req.actionId);
    if (!found) throw new SlackApiError('action_not_found');

    const grantId = randomBytes(6).toString('hex');
    const secret = randomBytes(12).toString('hex');
    this.grants.set(grantId, {
      id: grantId,
      channel: channel.id,
      messageTs: message.ts,
      userId,
      createdAt: Date.now(),
      uses: 0,
    });
    const responseUrl = `${this.baseUrl()}/actions/${ws.team.id}/${grantId}/${secret}`;
    const actionTs = ws.nextTs();
    const el = found.element;
    const action: Record<string, unknown> = {
      action_id: req.actionId,
      block_id: found.blockId,
      text: el.text,
      value: el.value,
      type: el.type ?? 'button',
      action_ts: actionTs,
    };
    if (el.style) action.style = el.style;
    const container: Record<string, unknown> = {
      type: 'message',
      message_ts: message.ts,
      channel_id: channel.id,
      is_ephemeral: false,
    };
    if (message.threadTs && message.threadTs !== message.ts) container.thread_ts = message.threadTs;
    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: ws.team.id },
      api_app_id: APP_ID,
      token: this.verificationToken,
      container,
      // The trigger_id views.open accepts (once, within 3 s).
      trigger_id: ws.modals.issueTrigger(user.id),
      team: { id: ws.team.id, domain: ws.team.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channelJson(channel).name },
      message: messageJson(ws, message),
      state: { values: {} },
      response_url: responseUrl,
      actions: [action],
    };
    return { payload, responseUrl };
  }

  async click(req: ClickRequest): Promise<ClickResult> {
    if (!this.ws.interactivityUrl) throw new SlackApiError('no_interactivity_url');
    const { payload, responseUrl } = this.buildBlockActions(req);
    return { ...(await this.post(payload, req.signature, req.timeoutMs)), payload, responseUrl };
  }

  /** The user submits an open modal: the view_submission payload Slack sends, state.values filled in. */
  buildViewSubmission(req: ViewSubmitRequest): { payload: Record<string, unknown>; view: StoredView } {
    const ws = this.ws;
    const view = ws.modals.target(req);
    const user = ws.users.get(view.userId);
    if (!user) throw new SlackApiError('user_not_found');
    ws.modals.fillIn(view, req.values, req.stateValues);
    const payload: Record<string, unknown> = {
      type: 'view_submission',
      team: { id: ws.team.id, domain: ws.team.domain },
      user: { id: user.id, username: user.name, name: user.name, team_id: ws.team.id },
      api_app_id: APP_ID,
      token: this.verificationToken,
      trigger_id: ws.modals.issueTrigger(user.id),
      view: viewJson(view),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    return { payload, view };
  }

  /** The user closes (cancels) a modal: the view_closed payload, sent only when the view has notify_on_close. */
  buildViewClosed(view: StoredView, isCleared: boolean): Record<string, unknown> {
    const ws = this.ws;
    const user = ws.users.get(view.userId);
    return {
      type: 'view_closed',
      team: { id: ws.team.id, domain: ws.team.domain },
      user: { id: view.userId, username: user?.name, name: user?.name, team_id: ws.team.id },
      api_app_id: APP_ID,
      token: this.verificationToken,
      view: viewJson(view),
      is_cleared: isCleared,
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  /** Posts an interaction payload to the interactivity URL, form-encoded and signed as Slack does. */
  async post(
    payload: Record<string, unknown>,
    signature: SignatureMode = 'valid',
    timeoutMs = 10_000,
  ): Promise<{ status: number; body: string; ms: number; acknowledgedInTime: boolean }> {
    const url = this.ws.interactivityUrl;
    if (!url) throw new SlackApiError('no_interactivity_url');
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const mode = signature;
    const nowSec = Math.floor(Date.now() / 1000);
    const timestamp = mode === 'stale' ? nowSec - 6 * 60 : nowSec;
    const secret = mode === 'forged' ? `forged-${randomBytes(8).toString('hex')}` : this.signingSecret;
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-signature': signSlackRequest(secret, timestamp, body),
        'x-slack-request-timestamp': String(timestamp),
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = Math.round(performance.now() - started);
    return { status: res.status, body: text, ms, acknowledgedInTime: res.status === 200 && ms < ACK_DEADLINE_MS };
  }

  /** POST to a response_url. Returns the HTTP status and body to answer with. */
  handleResponseUrl(grantId: string, body: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
    const ws = this.ws;
    const grant = this.grants.get(grantId);
    if (!grant) return { status: 404, body: { ok: false, error: 'no_such_url' } };
    if (Date.now() - grant.createdAt > RESPONSE_URL_TTL_MS)
      return { status: 404, body: { ok: false, error: 'expired_url' } };
    if (grant.uses >= RESPONSE_URL_MAX_USES) return { status: 404, body: { ok: false, error: 'used_url' } };
    grant.uses += 1;
    const record = (effect: 'replaced' | 'deleted' | 'ephemeral' | 'in_channel' | 'rejected') =>
      ws.responses.push({
        responseUrlId: grantId,
        channel: grant.channel,
        messageTs: grant.messageTs,
        userId: grant.userId,
        body,
        effect,
        at: Date.now(),
      });
    const text = typeof body.text === 'string' ? body.text : '';
    const blocks = Array.isArray(body.blocks) ? (body.blocks as unknown[]) : undefined;
    if (body.delete_original === true || body.delete_original === 'true') {
      const m = ws.message(grant.channel, grant.messageTs);
      if (!m) {
        record('rejected');
        return { status: 404, body: { ok: false, error: 'message_not_found' } };
      }
      m.deleted = true;
      record('deleted');
      return { status: 200, body: { ok: true } };
    }
    if (!text && !blocks) {
      record('rejected');
      return { status: 400, body: { ok: false, error: 'no_text' } };
    }
    if (body.replace_original === true || body.replace_original === 'true') {
      const m = ws.message(grant.channel, grant.messageTs);
      if (!m) {
        record('rejected');
        return { status: 404, body: { ok: false, error: 'message_not_found' } };
      }
      m.edits.push({ editedTs: ws.nextTs(), previousText: m.text, previousBlocks: m.blocks, via: 'response_url' });
      m.text = text;
      m.blocks = blocks;
      record('replaced');
      return { status: 200, body: { ok: true } };
    }
    if (body.response_type === 'in_channel') {
      const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
      ws.putMessage({
        channel: grant.channel,
        ts: ws.nextTs(),
        threadTs,
        user: 'U0GATEBOT',
        botId: 'B0GATEBOT',
        appId: 'A0GATEAPP',
        text,
        blocks,
        extra: {},
        edits: [],
        replyCount: 0,
        deleted: false,
      });
      record('in_channel');
      return { status: 200, body: { ok: true } };
    }
    // Default response_type is ephemeral: only the clicking user sees it.
    ws.ephemerals.push({
      channel: grant.channel,
      user: grant.userId,
      messageTs: ws.nextTs(),
      text,
      blocks,
      via: 'response_url',
    });
    record('ephemeral');
    return { status: 200, body: { ok: true } };
  }
}
