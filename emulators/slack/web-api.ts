// The Web API methods the gate uses, answering as Slack does: HTTP 200 with `{ ok: true, ... }` or
// `{ ok: false, error }`.
import {
  APP_ID,
  BOT_ID,
  BOT_USER_ID,
  type EmulatedChannel,
  type EmulatedUser,
  type SlackWorkspace,
  type StoredMessage,
} from './state';
import { SlackApiError } from './errors';

export { SlackApiError } from './errors';

export type Args = Record<string, unknown>;
type Handler = (ws: SlackWorkspace, args: Args) => Record<string, unknown>;

const MAX_TEXT = 40_000;
const MAX_BLOCKS = 50;

function str(args: Args, key: string): string | undefined {
  const v = args[key];
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

/** `blocks` arrive as a JSON string in form bodies and as an array in JSON bodies. */
function parseBlocks(args: Args): unknown[] | undefined {
  const raw = args.blocks;
  if (raw === undefined || raw === null || raw === '') return undefined;
  let blocks: unknown = raw;
  if (typeof raw === 'string') {
    try {
      blocks = JSON.parse(raw);
    } catch {
      throw new SlackApiError('invalid_blocks_format');
    }
  }
  if (!Array.isArray(blocks)) throw new SlackApiError('invalid_blocks_format');
  if (blocks.length > MAX_BLOCKS)
    throw new SlackApiError('invalid_blocks', {
      errors: [`must provide an array of no more than ${MAX_BLOCKS} items`],
    });
  blocks.forEach((b, i) => {
    if (typeof b !== 'object' || b === null || typeof (b as { type?: unknown }).type !== 'string') {
      throw new SlackApiError('invalid_blocks', {
        errors: [`missing required field: type [json-pointer:/blocks/${i}]`],
      });
    }
    const block = b as { type: string; elements?: unknown; block_id?: unknown };
    if (block.type === 'actions') {
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) {
        throw new SlackApiError('invalid_blocks', {
          errors: [`actions block needs 1 to 25 elements [json-pointer:/blocks/${i}/elements]`],
        });
      }
      for (const [j, e] of (block.elements as unknown[]).entries()) {
        const el = e as { type?: unknown; action_id?: unknown; text?: unknown };
        if (typeof el?.type !== 'string')
          throw new SlackApiError('invalid_blocks', {
            errors: [`missing required field: type [json-pointer:/blocks/${i}/elements/${j}]`],
          });
        if (el.type === 'button' && typeof el.text !== 'object')
          throw new SlackApiError('invalid_blocks', {
            errors: [`missing required field: text [json-pointer:/blocks/${i}/elements/${j}]`],
          });
      }
    }
  });
  // Slack assigns a block_id to every block that has none.
  return blocks.map((b) => {
    const block = { ...(b as Record<string, unknown>) };
    if (typeof block.block_id !== 'string') block.block_id = randomBlockId();
    return block;
  });
}

function randomBlockId(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

function requireChannel(ws: SlackWorkspace, args: Args): EmulatedChannel {
  const channel = ws.findChannel(str(args, 'channel'));
  if (!channel) throw new SlackApiError('channel_not_found');
  return channel;
}

function requireWritable(channel: EmulatedChannel): void {
  if (channel.isArchived) throw new SlackApiError('is_archived');
  if (!channel.members.includes(BOT_USER_ID)) throw new SlackApiError('not_in_channel');
}

export function messageJson(ws: SlackWorkspace, m: StoredMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: 'message',
    user: m.user,
    text: m.text,
    ts: m.ts,
    team: ws.team.id,
  };
  if (m.botId) {
    out.bot_id = m.botId;
    out.app_id = m.appId;
    out.bot_profile = { id: m.botId, app_id: m.appId, name: 'Invoice Gate', deleted: false, team_id: ws.team.id };
  }
  if (m.blocks) out.blocks = m.blocks;
  if (m.threadTs) out.thread_ts = m.threadTs;
  if (m.replyCount > 0) out.reply_count = m.replyCount;
  if (m.edits.length > 0) out.edited = { user: m.user, ts: m.edits[m.edits.length - 1].editedTs };
  for (const [k, v] of Object.entries(m.extra)) if (!(k in out)) out[k] = v;
  return out;
}

export function userJson(ws: SlackWorkspace, u: EmulatedUser): Record<string, unknown> {
  return {
    id: u.id,
    team_id: ws.team.id,
    name: u.name,
    deleted: u.deleted,
    real_name: u.realName,
    tz: u.tz,
    is_admin: false,
    is_owner: false,
    is_bot: u.isBot,
    is_app_user: false,
    updated: 1700000000,
    profile: {
      real_name: u.realName,
      display_name: u.name,
      real_name_normalized: u.realName,
      display_name_normalized: u.name,
      ...(u.email ? { email: u.email } : {}),
      team: ws.team.id,
    },
  };
}

export function channelJson(c: EmulatedChannel): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    name_normalized: c.name,
    is_channel: !c.isPrivate,
    is_group: c.isPrivate,
    is_im: false,
    is_mpim: false,
    is_private: c.isPrivate,
    is_archived: c.isArchived,
    is_general: false,
    is_shared: false,
    is_member: c.members.includes(BOT_USER_ID),
    created: c.created,
    creator: 'U0ALICE',
    topic: { value: c.topic, creator: '', last_set: 0 },
    purpose: { value: c.purpose, creator: '', last_set: 0 },
  };
}

const KEPT_POST_ARGS = [
  'username',
  'icon_emoji',
  'icon_url',
  'metadata',
  'attachments',
  'unfurl_links',
  'unfurl_media',
  'mrkdwn',
];

const handlers: Record<string, Handler> = {
  'api.test': (_ws, args) => ({ ok: true, args }),

  'auth.test': (ws) => ({
    ok: true,
    url: `https://${ws.team.domain}.slack.com/`,
    team: ws.team.name,
    user: 'invoice-gate',
    team_id: ws.team.id,
    user_id: BOT_USER_ID,
    bot_id: BOT_ID,
    is_enterprise_install: false,
  }),

  'chat.postMessage': (ws, args) => {
    const channel = requireChannel(ws, args);
    requireWritable(channel);
    const text = str(args, 'text') ?? '';
    const blocks = parseBlocks(args);
    if (!text && !blocks && !args.attachments) throw new SlackApiError('no_text');
    if (text.length > MAX_TEXT) throw new SlackApiError('msg_too_long');
    const threadTs = str(args, 'thread_ts');
    let parent: StoredMessage | undefined;
    if (threadTs) {
      parent = ws.message(channel.id, threadTs);
      if (!parent) throw new SlackApiError('thread_not_found');
      // Replying to a reply threads under the same parent, as Slack does.
      if (parent.threadTs && parent.threadTs !== parent.ts) parent = ws.message(channel.id, parent.threadTs) ?? parent;
    }
    const extra: Record<string, unknown> = {};
    for (const k of KEPT_POST_ARGS) if (args[k] !== undefined) extra[k] = args[k];
    const m: StoredMessage = {
      channel: channel.id,
      ts: ws.nextTs(),
      threadTs: parent?.ts,
      user: BOT_USER_ID,
      botId: BOT_ID,
      appId: APP_ID,
      text,
      blocks,
      extra,
      edits: [],
      replyCount: 0,
      deleted: false,
    };
    if (parent) {
      parent.replyCount += 1;
      parent.threadTs = parent.ts;
    }
    ws.putMessage(m);
    return { ok: true, channel: channel.id, ts: m.ts, message: messageJson(ws, m) };
  },

  'chat.update': (ws, args) => {
    const channel = requireChannel(ws, args);
    const ts = str(args, 'ts');
    const m = ts ? ws.message(channel.id, ts) : undefined;
    if (!m) throw new SlackApiError('message_not_found');
    if (m.user !== BOT_USER_ID) throw new SlackApiError('cant_update_message');
    const text = str(args, 'text');
    const blocks = parseBlocks(args);
    if (text === undefined && blocks === undefined && !args.attachments) throw new SlackApiError('no_text');
    if (text !== undefined && text.length > MAX_TEXT) throw new SlackApiError('msg_too_long');
    m.edits.push({ editedTs: ws.nextTs(), previousText: m.text, previousBlocks: m.blocks, via: 'chat.update' });
    if (text !== undefined) m.text = text;
    if (blocks !== undefined) m.blocks = blocks;
    return { ok: true, channel: channel.id, ts: m.ts, text: m.text, message: messageJson(ws, m) };
  },

  'chat.postEphemeral': (ws, args) => {
    const channel = requireChannel(ws, args);
    requireWritable(channel);
    const userId = str(args, 'user');
    const user = userId ? ws.users.get(userId) : undefined;
    if (!user) throw new SlackApiError('user_not_found');
    if (!channel.members.includes(user.id)) throw new SlackApiError('user_not_in_channel');
    const text = str(args, 'text') ?? '';
    const blocks = parseBlocks(args);
    if (!text && !blocks && !args.attachments) throw new SlackApiError('no_text');
    const messageTs = ws.nextTs();
    ws.ephemerals.push({
      channel: channel.id,
      user: user.id,
      messageTs,
      threadTs: str(args, 'thread_ts'),
      text,
      blocks,
      via: 'chat.postEphemeral',
    });
    return { ok: true, message_ts: messageTs };
  },

  'users.info': (ws, args) => {
    const id = str(args, 'user');
    const user = id ? ws.users.get(id) : undefined;
    if (!user) throw new SlackApiError('user_not_found');
    return { ok: true, user: userJson(ws, user) };
  },

  // Modals: a trigger_id from a click (single use, 3 s) opens a view on that user's modal stack.
  'views.open': (ws, args) => ({ ok: true, view: ws.modals.open(args) }),
  'views.push': (ws, args) => ({ ok: true, view: ws.modals.push(args) }),
  'views.update': (ws, args) => ({ ok: true, view: ws.modals.update(args) }),

  'conversations.info': (ws, args) => {
    const id = str(args, 'channel');
    const channel = id ? ws.channels.get(id) : undefined;
    if (!channel) throw new SlackApiError('channel_not_found');
    return { ok: true, channel: channelJson(channel) };
  },
};

/** Methods called with the app-level token (`xapp-...`); the server answers them itself (Socket Mode). */
const APP_LEVEL_METHODS = new Set(['apps.connections.open']);

export function isAppLevelMethod(method: string): boolean {
  return APP_LEVEL_METHODS.has(method);
}

export function isKnownMethod(method: string): boolean {
  return Object.prototype.hasOwnProperty.call(handlers, method) || APP_LEVEL_METHODS.has(method);
}

/** Methods that answer without a token, as on Slack. */
export function needsAuth(method: string): boolean {
  return method !== 'api.test';
}

export function callMethod(ws: SlackWorkspace, method: string, args: Args): Record<string, unknown> {
  const handler = handlers[method];
  if (!handler) throw new SlackApiError('unknown_method');
  return handler(ws, args);
}
