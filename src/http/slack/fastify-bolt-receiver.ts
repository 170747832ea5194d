// A Bolt Receiver that lives inside our Fastify server. Bolt has no Fastify receiver, and community
// adapters replace Fastify's body parsers for the whole instance; this one registers, in its own
// encapsulated plugin context, only POST /slack/interactions and a raw-string body parser for it.
// Slack's rules: verify the signature over the raw body (5-minute window), answer within 3 s, do the
// work after the answer.
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { verifySlackRequest, ReceiverMultipleAckError } from '@slack/bolt';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { GateLogger } from './bolt-logger';
import type { SlackReceiver } from './slack-receiver';
import { ListenerWork } from './listener-work';

export interface FastifyBoltReceiverOptions {
  signingSecret: string;
  /** Default '/slack/interactions'. */
  path?: string;
  /** Answer Slack by then even when no listener has called ack() yet. Default 2500 ms (Slack's limit is 3 s). */
  ackTimeoutMs?: number;
  /** Default 1 MiB. */
  bodyLimit?: number;
  logger: GateLogger;
  /** For tests: the clock used for the 5-minute window. */
  now?: () => number;
}

type AckResponse = string | Record<string, unknown> | undefined;

const FIVE_MINUTES_SEC = 5 * 60;

/** Parses a Slack request body the way Bolt's receivers do: form `payload=<json>`, other forms, or JSON. */
export function parseSlackBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
    return Object.fromEntries(form);
  }
  const parsed = JSON.parse(raw) as unknown;
  if (!parsed || typeof parsed !== 'object') throw new Error('body is not an object');
  return parsed as Record<string, unknown>;
}

export class FastifyBoltReceiver implements Receiver, SlackReceiver {
  readonly transport = 'http' as const;
  private app: App | undefined;
  private readonly inFlight = new ListenerWork();
  private readonly path: string;
  private readonly ackTimeoutMs: number;
  private readonly bodyLimit: number;
  private readonly log: GateLogger;
  private readonly now: () => number;

  constructor(private readonly opts: FastifyBoltReceiverOptions) {
    if (!opts.signingSecret) throw new Error('FastifyBoltReceiver needs a signing secret');
    this.path = opts.path ?? '/slack/interactions';
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 2500;
    this.bodyLimit = opts.bodyLimit ?? 1024 * 1024;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  init(app: App): void {
    this.app = app;
  }

  /** Fastify owns the listener; nothing to start. */
  async start(): Promise<void> {}

  /** Slack posts to the route once the server listens; nothing to start. */
  startReceiving(): void {}

  /** Waits (up to `timeoutMs`) for listeners still working after their ack. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.drain(timeoutMs);
  }

  /** Resolves once no listener work is running (or after `timeoutMs`). */
  async drain(timeoutMs = 10_000): Promise<void> {
    await this.inFlight.drain(timeoutMs);
  }

  /** Listener work still running after the HTTP answer (for tests and shutdown). */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Register with `await fastify.register(receiver.plugin)`; encapsulated, so other routes keep their parsers. */
  readonly plugin: FastifyPluginAsync = async (fastify: FastifyInstance) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: this.bodyLimit }, (_req, body, done) =>
      done(null, body),
    );
    fastify.post(this.path, (req, reply) => this.handle(req, reply));
  };

  private verify(raw: string, req: FastifyRequest): string | undefined {
    const signature = req.headers['x-slack-signature'];
    const tsHeader = req.headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof tsHeader !== 'string') return 'missing signature headers';
    const ts = Number(tsHeader);
    if (!Number.isInteger(ts)) return 'bad timestamp';
    const nowMs = this.now();
    // Bolt checks only for stale requests; a timestamp far in the future is as suspicious.
    if (ts > Math.floor(nowMs / 1000) + FIVE_MINUTES_SEC) return 'timestamp in the future';
    try {
      verifySlackRequest({
        signingSecret: this.opts.signingSecret,
        body: raw,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
        nowMilliseconds: nowMs,
      });
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = typeof req.body === 'string' ? req.body : '';
    const contentType = req.headers['content-type'];

    // Slack's ssl_check (slash command URL checks) is unsigned and only needs a 200.
    if (
      contentType?.startsWith('application/x-www-form-urlencoded') &&
      new URLSearchParams(raw).get('ssl_check') === '1'
    ) {
      return reply.code(200).send('');
    }

    const invalid = this.verify(raw, req);
    if (invalid) {
      this.log.warn({ reason: invalid, ip: req.ip }, 'slack request rejected: invalid signature');
      return reply.code(401).send({ error: 'invalid_signature' });
    }

    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(raw, contentType);
    } catch {
      return reply.code(400).send({ error: 'invalid_body' });
    }

    if (body.type === 'url_verification') {
      return reply.code(200).send({ challenge: body.challenge });
    }
    if (!this.app) {
      this.log.error({}, 'slack request before the Bolt app was initialized');
      return reply.code(503).send({ error: 'not_ready' });
    }

    // The first of ack() or the safety timer answers Slack; listeners keep running afterwards.
    let answered = false;
    let resolveAnswer!: (r: { status: number; body: AckResponse }) => void;
    const answer = new Promise<{ status: number; body: AckResponse }>((resolve) => {
      resolveAnswer = (r) => {
        if (answered) return;
        answered = true;
        resolve(r);
      };
    });
    let acked = false;
    const timer = setTimeout(() => {
      if (!acked)
        this.log.warn(
          { ackTimeoutMs: this.ackTimeoutMs },
          'slack request not acknowledged in time; answered 200 for the listener',
        );
      resolveAnswer({ status: 200, body: undefined });
    }, this.ackTimeoutMs);

    const event: ReceiverEvent = {
      body,
      ack: async (response?: AckResponse) => {
        if (acked) throw new ReceiverMultipleAckError();
        acked = true;
        clearTimeout(timer);
        resolveAnswer({ status: 200, body: response });
      },
      retryNum: numberHeader(req.headers['x-slack-retry-num']),
      retryReason:
        typeof req.headers['x-slack-retry-reason'] === 'string' ? req.headers['x-slack-retry-reason'] : undefined,
    };

    const work = this.app
      .processEvent(event)
      .then(() => {
        if (!acked) {
          clearTimeout(timer);
          this.log.warn({ type: body.type }, 'no Bolt listener acknowledged the slack request');
          resolveAnswer({ status: 404, body: { error: 'unhandled' } });
        }
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        this.log.error({ err: error, type: body.type }, 'slack listener failed');
        resolveAnswer({ status: 500, body: { error: 'internal_error' } });
      });
    void this.inFlight.track(work);

    const out = await answer;
    reply.code(out.status);
    if (out.body === undefined || out.body === '') return reply.send('');
    if (typeof out.body === 'string') return reply.type('text/plain; charset=utf-8').send(out.body);
    return reply.send(out.body);
  }
}

function numberHeader(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
