// Modals as Slack runs them: a click hands out a trigger_id (single use, 3 s); views.open turns it into
// a view on the clicking user's modal stack; views.update / views.push change the stack; a
// view_submission's acknowledgement closes, updates, pushes, clears or (with `errors`) keeps the view.
import { randomBytes } from 'node:crypto';
import { SlackApiError } from './errors';

/** Slack accepts a trigger_id for 3 seconds, once. */
export const TRIGGER_TTL_MS = 3000;
/** Slack keeps at most 3 views on a user's modal stack. */
const MAX_STACK = 3;
const MAX_PRIVATE_METADATA = 3000;
const MAX_TITLE = 24;
const MAX_MODAL_BLOCKS = 100;
/** The emulator's limit for a whole view (Slack answers `view_too_large` beyond its own). */
const MAX_VIEW_JSON = 250_000;

export interface StoredView {
  id: string;
  userId: string;
  teamId: string;
  appId: string;
  botId: string;
  type: 'modal';
  title: Record<string, unknown>;
  submit: Record<string, unknown> | null;
  close: Record<string, unknown> | null;
  blocks: Array<Record<string, unknown>>;
  privateMetadata: string;
  callbackId: string;
  externalId: string;
  clearOnClose: boolean;
  notifyOnClose: boolean;
  hash: string;
  /** What the user has entered so far: `{ [block_id]: { [action_id]: element state } }`. */
  stateValues: Record<string, Record<string, unknown>>;
  rootViewId: string;
  previousViewId: string | null;
  openedAt: number;
}

/** What an app defines of a view (what views.open / update / push take); the rest is Slack's. */
export type ModalDefinition = Pick<
  StoredView,
  | 'type'
  | 'title'
  | 'submit'
  | 'close'
  | 'blocks'
  | 'privateMetadata'
  | 'callbackId'
  | 'externalId'
  | 'clearOnClose'
  | 'notifyOnClose'
>;

interface Trigger {
  userId: string;
  issuedAt: number;
  used: boolean;
}

/** The user's values for a submission, by block_id: a select's option value, an input's text, a list for multi-selects. */
export type SimpleValues = Record<string, string | string[] | null>;

/** How Slack treated the app's answer to a view_submission. */
export interface SubmissionOutcome {
  /** 'close' for an empty 200; otherwise the app's `response_action`. 'none' when the app did not answer in time. */
  responseAction: 'close' | 'errors' | 'update' | 'push' | 'clear' | 'none' | 'invalid';
  /** `errors` by block_id when the app answered `response_action: 'errors'`. */
  errors?: Record<string, string>;
  /** Error keys that name no input block of the view (Slack shows these as a generic failure). */
  unknownErrorBlocks?: string[];
  /** The submitted view is gone (an empty answer, or `clear`); an update keeps it open with new content. */
  viewClosed: boolean;
  /** Why an answer was not accepted (bad JSON, an invalid view in update/push). */
  responseError?: string;
  /** The user's stack of open views after the answer, bottom first. */
  openViews: ViewJson[];
}

export type ViewJson = Record<string, unknown>;

function invalidArguments(...messages: string[]): SlackApiError {
  return new SlackApiError('invalid_arguments', { response_metadata: { messages } });
}

function randomAlnum(n: number, chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += chars[bytes[i] % chars.length];
  return s;
}

function newHash(): string {
  return `${Math.floor(Date.now() / 1000)}.${randomAlnum(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`;
}

function plainText(value: unknown, pointer: string, maxLength: number, errors: string[]): void {
  const t = value as { type?: unknown; text?: unknown } | undefined;
  if (!t || typeof t !== 'object' || t.type !== 'plain_text' || typeof t.text !== 'string') {
    errors.push(`[ERROR] must be a plain_text text object [json-pointer:${pointer}]`);
  } else if (t.text.length > maxLength) {
    errors.push(`[ERROR] must be less than ${maxLength + 1} characters [json-pointer:${pointer}/text]`);
  }
}

/** The options of a select element (flat or in option_groups). */
function optionsOf(element: Record<string, unknown>): Array<Record<string, unknown>> {
  if (Array.isArray(element.options)) return element.options as Array<Record<string, unknown>>;
  if (Array.isArray(element.option_groups))
    return (element.option_groups as Array<{ options?: unknown }>).flatMap((g) =>
      Array.isArray(g.options) ? (g.options as Array<Record<string, unknown>>) : [],
    );
  return [];
}

const SELECTS_WITH_OPTIONS = new Set(['static_select', 'multi_static_select', 'radio_buttons', 'checkboxes']);

/**
 * Checks a modal view as Slack does (structure, lengths, submit with inputs) and returns it with a
 * block_id on every block and an action_id on every input element, as Slack fills them in.
 */
export function parseModalView(raw: unknown): ModalDefinition {
  if (raw === undefined || raw === null || raw === '') throw invalidArguments('[ERROR] missing required field: view');
  let view: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_VIEW_JSON) throw new SlackApiError('view_too_large');
    try {
      view = JSON.parse(raw);
    } catch {
      throw invalidArguments('[ERROR] view must be a JSON object [json-pointer:/view]');
    }
  } else if (JSON.stringify(raw).length > MAX_VIEW_JSON) {
    throw new SlackApiError('view_too_large');
  }
  if (!view || typeof view !== 'object' || Array.isArray(view))
    throw invalidArguments('[ERROR] view must be a JSON object [json-pointer:/view]');
  const v = view as Record<string, unknown>;
  const errors: string[] = [];
  if (v.type !== 'modal') errors.push('[ERROR] must be one of the allowed values: modal [json-pointer:/view/type]');
  plainText(v.title, '/view/title', MAX_TITLE, errors);
  if (v.submit !== undefined) plainText(v.submit, '/view/submit', MAX_TITLE, errors);
  if (v.close !== undefined) plainText(v.close, '/view/close', MAX_TITLE, errors);
  for (const key of ['callback_id', 'external_id'] as const) {
    if (v[key] !== undefined && (typeof v[key] !== 'string' || v[key].length > 255))
      errors.push(`[ERROR] must be a string of at most 255 characters [json-pointer:/view/${key}]`);
  }
  if (v.private_metadata !== undefined) {
    if (typeof v.private_metadata !== 'string')
      errors.push('[ERROR] must be a string [json-pointer:/view/private_metadata]');
    else if (v.private_metadata.length > MAX_PRIVATE_METADATA)
      errors.push(
        `[ERROR] must be less than ${MAX_PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]`,
      );
  }
  const blocks: Array<Record<string, unknown>> = [];
  if (!Array.isArray(v.blocks)) {
    errors.push('[ERROR] missing required field: blocks [json-pointer:/view/blocks]');
  } else if (v.blocks.length > MAX_MODAL_BLOCKS) {
    errors.push(`[ERROR] no more than ${MAX_MODAL_BLOCKS} items allowed [json-pointer:/view/blocks]`);
  } else {
    const blockIds = new Set<string>();
    v.blocks.forEach((b, i) => {
      const pointer = `/view/blocks/${i}`;
      if (!b || typeof b !== 'object' || typeof (b as { type?: unknown }).type !== 'string') {
        errors.push(`[ERROR] missing required field: type [json-pointer:${pointer}]`);
        return;
      }
      const block = { ...(b as Record<string, unknown>) };
      if (typeof block.block_id !== 'string')
        block.block_id = randomAlnum(5, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
      if (blockIds.has(block.block_id as string))
        errors.push(`[ERROR] duplicate block_id ${String(block.block_id)} [json-pointer:${pointer}/block_id]`);
      blockIds.add(block.block_id as string);
      if (block.type === 'input') {
        plainText(block.label, `${pointer}/label`, 2000, errors);
        const el = block.element as Record<string, unknown> | undefined;
        if (!el || typeof el !== 'object' || typeof el.type !== 'string') {
          errors.push(`[ERROR] missing required field: element [json-pointer:${pointer}/element]`);
        } else {
          const element = { ...el };
          if (typeof element.action_id !== 'string') element.action_id = randomAlnum(6);
          if (SELECTS_WITH_OPTIONS.has(element.type as string)) {
            const options = optionsOf(element);
            if (options.length === 0 || options.length > 100)
              errors.push(`[ERROR] needs 1 to 100 options [json-pointer:${pointer}/element/options]`);
            options.forEach((o, j) => {
              if (typeof o?.value !== 'string' || o.value.length > 150)
                errors.push(
                  `[ERROR] option value must be a string of at most 150 characters [json-pointer:${pointer}/element/options/${j}/value]`,
                );
              if (!o?.text || typeof o.text !== 'object')
                errors.push(`[ERROR] missing required field: text [json-pointer:${pointer}/element/options/${j}]`);
            });
          }
          block.element = element;
        }
      } else if (block.type === 'actions') {
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25)
          errors.push(`[ERROR] actions block needs 1 to 25 elements [json-pointer:${pointer}/elements]`);
      }
      blocks.push(block);
    });
    if (blocks.some((b) => b.type === 'input') && v.submit === undefined)
      errors.push('[ERROR] submit is required when an input block is present [json-pointer:/view/submit]');
  }
  if (errors.length > 0) throw invalidArguments(...errors);
  return {
    type: 'modal',
    title: v.title as Record<string, unknown>,
    submit: (v.submit as Record<string, unknown> | undefined) ?? null,
    close: (v.close as Record<string, unknown> | undefined) ?? null,
    blocks,
    privateMetadata: (v.private_metadata as string | undefined) ?? '',
    callbackId: (v.callback_id as string | undefined) ?? '',
    externalId: (v.external_id as string | undefined) ?? '',
    clearOnClose: v.clear_on_close === true,
    notifyOnClose: v.notify_on_close === true,
  };
}

/** A view as the Web API and interaction payloads show it. */
export function viewJson(v: StoredView): ViewJson {
  return {
    id: v.id,
    team_id: v.teamId,
    type: v.type,
    blocks: v.blocks,
    private_metadata: v.privateMetadata,
    callback_id: v.callbackId,
    state: { values: v.stateValues },
    hash: v.hash,
    title: v.title,
    clear_on_close: v.clearOnClose,
    notify_on_close: v.notifyOnClose,
    close: v.close,
    submit: v.submit,
    previous_view_id: v.previousViewId,
    root_view_id: v.rootViewId,
    app_id: v.appId,
    external_id: v.externalId,
    app_installed_team_id: v.teamId,
    bot_id: v.botId,
  };
}

/** The empty state Slack reports for an element nobody has touched. */
function emptyState(type: string): Record<string, unknown> {
  switch (type) {
    case 'static_select':
    case 'radio_buttons':
    case 'external_select':
      return { type, selected_option: null };
    case 'multi_static_select':
    case 'checkboxes':
      return { type, selected_options: [] };
    case 'users_select':
      return { type, selected_user: null };
    case 'conversations_select':
      return { type, selected_conversation: null };
    case 'channels_select':
      return { type, selected_channel: null };
    case 'datepicker':
      return { type, selected_date: null };
    default:
      return { type, value: null };
  }
}

/** What Slack puts in state.values for a user's entry in an element of this type. */
function enteredState(element: Record<string, unknown>, entry: string | string[], blockId: string) {
  const type = String(element.type);
  const option = (value: string) => {
    const found = optionsOf(element).find((o) => o.value === value);
    if (!found) throw new SlackApiError('unknown_option', { block_id: blockId, value });
    return { text: found.text, value: found.value };
  };
  const list = Array.isArray(entry) ? entry : [entry];
  switch (type) {
    case 'static_select':
    case 'radio_buttons':
      return { type, selected_option: option(list[0]) };
    case 'multi_static_select':
    case 'checkboxes':
      return { type, selected_options: list.map(option) };
    case 'users_select':
      return { type, selected_user: list[0] };
    case 'conversations_select':
      return { type, selected_conversation: list[0] };
    case 'channels_select':
      return { type, selected_channel: list[0] };
    case 'datepicker':
      return { type, selected_date: list[0] };
    default:
      return { type, value: list[0] };
  }
}

function isEmpty(state: Record<string, unknown>): boolean {
  return (
    state.value === null ||
    state.selected_option === null ||
    state.selected_user === null ||
    state.selected_conversation === null ||
    state.selected_channel === null ||
    state.selected_date === null ||
    (Array.isArray(state.selected_options) && state.selected_options.length === 0) ||
    (typeof state.value === 'string' && state.value === '')
  );
}

export class ModalStore {
  private triggers = new Map<string, Trigger>();
  private views = new Map<string, StoredView>();
  /** Open views per user, bottom of the stack first. */
  private stacks = new Map<string, string[]>();

  constructor(
    private readonly ids: { teamId: string; appId: string; botId: string },
    private readonly triggerTtlMs: () => number = () => TRIGGER_TTL_MS,
  ) {}

  reset(): void {
    this.triggers.clear();
    this.views.clear();
    this.stacks.clear();
  }

  /** A trigger_id for an interaction of this user (a click, a submission), as Slack puts in payloads. */
  issueTrigger(userId: string): string {
    const id = `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { userId, issuedAt: Date.now(), used: false });
    // Triggers older than a minute can never be exchanged; forget them.
    for (const [key, t] of this.triggers) if (Date.now() - t.issuedAt > 60_000) this.triggers.delete(key);
    return id;
  }

  /** Exchanges a trigger_id (once, within its lifetime) for the user it was issued to. */
  private takeTrigger(triggerId: unknown): string {
    if (typeof triggerId !== 'string' || triggerId === '')
      throw invalidArguments('[ERROR] missing required field: trigger_id');
    const t = this.triggers.get(triggerId);
    if (!t) throw new SlackApiError('invalid_trigger_id');
    if (t.used) throw new SlackApiError('exchanged_trigger_id');
    if (Date.now() - t.issuedAt > this.triggerTtlMs()) throw new SlackApiError('expired_trigger_id');
    t.used = true;
    return t.userId;
  }

  private store(
    parsed: ModalDefinition,
    userId: string,
    below: StoredView | undefined,
    existing?: StoredView,
  ): StoredView {
    if (parsed.externalId) {
      for (const other of this.views.values())
        if (other.externalId === parsed.externalId && other.id !== existing?.id)
          throw new SlackApiError('duplicate_external_id');
    }
    const id = existing?.id ?? `V${randomAlnum(10)}`;
    const view: StoredView = {
      ...parsed,
      id,
      userId,
      teamId: this.ids.teamId,
      appId: this.ids.appId,
      botId: this.ids.botId,
      hash: newHash(),
      stateValues: existing ? keptState(existing.stateValues, parsed.blocks) : {},
      rootViewId: existing?.rootViewId ?? below?.rootViewId ?? id,
      previousViewId: existing ? existing.previousViewId : (below?.id ?? null),
      openedAt: existing?.openedAt ?? Date.now(),
    };
    this.views.set(id, view);
    return view;
  }

  /** views.open: a new modal stack for the user whose interaction issued the trigger. */
  open(args: Record<string, unknown>): ViewJson {
    const parsed = parseModalView(args.view);
    const userId = this.takeTrigger(args.trigger_id);
    // A new modal replaces whatever the user had open.
    for (const id of this.stacks.get(userId) ?? []) this.views.delete(id);
    const view = this.store(parsed, userId, undefined);
    this.stacks.set(userId, [view.id]);
    return viewJson(view);
  }

  /** views.push: one more view on top of the user's open stack. */
  push(args: Record<string, unknown>): ViewJson {
    const parsed = parseModalView(args.view);
    const userId = this.takeTrigger(args.trigger_id);
    return viewJson(this.pushFor(userId, parsed));
  }

  private pushFor(userId: string, parsed: ModalDefinition): StoredView {
    const stack = this.stacks.get(userId) ?? [];
    if (stack.length === 0) throw new SlackApiError('not_found');
    if (stack.length >= MAX_STACK) throw new SlackApiError('push_limit_reached');
    const view = this.store(parsed, userId, this.views.get(stack[stack.length - 1]));
    stack.push(view.id);
    return view;
  }

  /** views.update: replaces an open view (by view_id or external_id), refused when `hash` is stale. */
  update(args: Record<string, unknown>): ViewJson {
    const existing = this.find(args);
    const parsed = parseModalView(args.view);
    if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== existing.hash)
      throw new SlackApiError('hash_conflict');
    return viewJson(this.store(parsed, existing.userId, undefined, existing));
  }

  private find(args: Record<string, unknown>): StoredView {
    const viewId = typeof args.view_id === 'string' ? args.view_id : undefined;
    const externalId = typeof args.external_id === 'string' ? args.external_id : undefined;
    if (!viewId && !externalId) throw invalidArguments('[ERROR] view_id or external_id is required');
    const found = viewId ? this.views.get(viewId) : [...this.views.values()].find((v) => v.externalId === externalId);
    if (!found) throw new SlackApiError('not_found');
    return found;
  }

  /** The open view a person acts on: by id, or the topmost open view of `userId` with that callback_id. */
  target(req: { viewId?: string; userId?: string; callbackId?: string }): StoredView {
    if (req.viewId) {
      const view = this.views.get(req.viewId);
      if (!view) throw new SlackApiError('view_not_found');
      return view;
    }
    if (!req.userId) throw new SlackApiError('view_not_found');
    const stack = this.stacks.get(req.userId) ?? [];
    for (let i = stack.length - 1; i >= 0; i--) {
      const view = this.views.get(stack[i]);
      if (view && (!req.callbackId || view.callbackId === req.callbackId)) return view;
    }
    throw new SlackApiError('view_not_found');
  }

  /**
   * The user fills in the view: simple values by block_id (a select's option value, an input's text),
   * or raw `state.values` taken verbatim (then `values` is ignored). Earlier entries stay (as in Slack,
   * after an `errors` answer). A required input left empty is refused, as Slack's client refuses to submit it.
   */
  fillIn(view: StoredView, values: SimpleValues = {}, rawState?: Record<string, Record<string, unknown>>): void {
    if (rawState) {
      view.stateValues = rawState;
      return;
    }
    const state: Record<string, Record<string, unknown>> = {};
    for (const block of view.blocks) {
      if (block.type !== 'input') continue;
      const el = block.element as Record<string, unknown>;
      const blockId = block.block_id as string;
      const actionId = el.action_id as string;
      const entry = values[blockId];
      const previous = view.stateValues[blockId]?.[actionId] as Record<string, unknown> | undefined;
      const elState =
        entry === undefined
          ? (previous ?? emptyState(String(el.type)))
          : entry === null || entry === ''
            ? emptyState(String(el.type))
            : enteredState(el, entry, blockId);
      state[blockId] = { [actionId]: elState };
    }
    const unknown = Object.keys(values).filter((k) => !(k in state));
    if (unknown.length > 0) throw new SlackApiError('unknown_input_block', { block_ids: unknown });
    const missing = view.blocks
      .filter((b) => b.type === 'input' && b.optional !== true)
      .map((b) => b.block_id as string)
      .filter((id) => Object.values(state[id] ?? {}).some((s) => isEmpty(s as Record<string, unknown>)));
    if (missing.length > 0) throw new SlackApiError('required_input_missing', { block_ids: missing });
    view.stateValues = state;
  }

  /** The user's open views, bottom first. */
  stackOf(userId: string): ViewJson[] {
    return (this.stacks.get(userId) ?? []).map((id) => viewJson(this.views.get(id)!));
  }

  /** Every open view of every user. */
  openViews(userId?: string): Array<ViewJson & { user_id: string }> {
    const out: Array<ViewJson & { user_id: string }> = [];
    for (const [user, stack] of this.stacks) {
      if (userId && user !== userId) continue;
      for (const id of stack) out.push({ ...viewJson(this.views.get(id)!), user_id: user });
    }
    return out;
  }

  /** Closes the view and every view above it (`all`: the whole stack). Returns the views closed, top first. */
  close(view: StoredView, all = false): StoredView[] {
    const stack = this.stacks.get(view.userId) ?? [];
    const at = all ? 0 : stack.indexOf(view.id);
    if (at < 0) return [];
    const closed = stack.splice(at).reverse();
    if (stack.length === 0) this.stacks.delete(view.userId);
    const out = closed.map((id) => this.views.get(id)!);
    for (const id of closed) this.views.delete(id);
    return out;
  }

  /**
   * Applies the app's answer to a view_submission as Slack does. `answered` is false when the app did
   * not acknowledge in time or answered with an error status: Slack keeps the view and shows an error.
   */
  settleSubmission(view: StoredView, answered: boolean, body: unknown): SubmissionOutcome {
    const outcome = (o: Omit<SubmissionOutcome, 'openViews'>): SubmissionOutcome => ({
      ...o,
      openViews: this.stackOf(view.userId),
    });
    if (!answered) return outcome({ responseAction: 'none', viewClosed: false });
    let response: unknown = body;
    if (typeof body === 'string') {
      if (body.trim() === '') response = undefined;
      else {
        try {
          response = JSON.parse(body);
        } catch {
          return outcome({ responseAction: 'invalid', viewClosed: false, responseError: 'response is not JSON' });
        }
      }
    }
    const r = (response ?? {}) as { response_action?: unknown; errors?: unknown; view?: unknown };
    try {
      switch (r.response_action) {
        case undefined:
          this.close(view);
          return outcome({ responseAction: 'close', viewClosed: true });
        case 'errors': {
          const errors = (r.errors && typeof r.errors === 'object' ? r.errors : {}) as Record<string, string>;
          const inputIds = new Set(view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id as string));
          const unknownErrorBlocks = Object.keys(errors).filter((k) => !inputIds.has(k));
          return outcome({
            responseAction: 'errors',
            errors,
            ...(unknownErrorBlocks.length > 0 ? { unknownErrorBlocks } : {}),
            viewClosed: false,
          });
        }
        case 'update':
          this.store(parseModalView(r.view), view.userId, undefined, view);
          return outcome({ responseAction: 'update', viewClosed: false });
        case 'push':
          this.pushFor(view.userId, parseModalView(r.view));
          return outcome({ responseAction: 'push', viewClosed: false });
        case 'clear':
          this.close(view, true);
          return outcome({ responseAction: 'clear', viewClosed: true });
        default:
          return outcome({
            responseAction: 'invalid',
            viewClosed: false,
            responseError: `unknown response_action ${String(r.response_action)}`,
          });
      }
    } catch (e) {
      const message =
        e instanceof SlackApiError
          ? [e.error, ...(((e.extra.response_metadata as { messages?: string[] })?.messages ?? []) as string[])].join(
              ' ',
            )
          : String(e);
      return outcome({ responseAction: 'invalid', viewClosed: false, responseError: message });
    }
  }
}

/** After an update Slack keeps what the user entered in inputs whose block_id and action_id are unchanged. */
function keptState(
  previous: Record<string, Record<string, unknown>>,
  blocks: Array<Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const kept: Record<string, Record<string, unknown>> = {};
  for (const b of blocks) {
    const actionId = (b.element as { action_id?: string } | undefined)?.action_id;
    const prev = previous[b.block_id as string];
    if (b.type === 'input' && actionId && prev?.[actionId]) kept[b.block_id as string] = { [actionId]: prev[actionId] };
  }
  return kept;
}
