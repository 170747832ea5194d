// Slack interactivity over Socket Mode (SLACK_APP_TOKEN): Bolt's SocketModeReceiver (and with it
// @slack/socket-mode) connects out to Slack, so no inbound route is needed. What it adds: the first
// connection is made in the background and retried with a capped backoff, every failure logged
// (start-up never waits for Slack, and Slack being down never stops Stripe webhooks); connection
// changes are logged; listener work is tracked so that stop() can wait for it; and the HTTP route
// answers a clear 404. Reconnects after a connection was up are the library's.
import type { App } from '@slack/bolt';
import { SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { FastifyPluginAsync } from 'fastify';
import type { GateLogger } from './bolt-logger';
import type { SlackReceiver } from './slack-receiver';
import { ListenerWork } from './listener-work';

export type SocketModeState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface GateSocketModeReceiverOptions {
  /** `xapp-...` with connections:write. */
  appToken: string;
  /** Where apps.connections.open is called: 'https://slack.com/api/' or the emulator. */
  slackApiUrl: string;
  logger: GateLogger;
  boltLogger: BoltLogger;
  /** The interactivity route the HTTP transport would serve; answered with 404 here. */
  path?: string;
  /** First retry of a failed first connection after this long, doubling up to `retryMaxMs`. Default 1 s. */
  retryMinMs?: number;
  /** Default 60 s. */
  retryMaxMs?: number;
  /** @slack/socket-mode's pong timeout; a reconnect waits this long times the failures in a row. Default 5 s. */
  clientPingTimeoutMs?: number;
}

/** Slack's answers that no retry will change: the token itself is wrong. */
const TOKEN_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'not_allowed_token_type',
  'account_inactive',
  'token_revoked',
  'missing_scope',
]);

export class GateSocketModeReceiver extends SocketModeReceiver implements SlackReceiver {
  readonly transport = 'socket' as const;
  private connectionState: SocketModeState = 'idle';
  private readonly inFlight = new ListenerWork();
  private readonly log: GateLogger;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly routePath: string;
  private readonly startClient: () => Promise<unknown>;

  constructor(opts: GateSocketModeReceiverOptions) {
    super({
      appToken: opts.appToken,
      logger: opts.boltLogger,
      clientPingTimeout: opts.clientPingTimeoutMs,
      // Only the socket client's WebClient (apps.connections.open) reads these; no OAuth installer is built.
      // Its own retries are off: the first connection is retried here, where each failure is logged.
      installerOptions: { clientOptions: { slackApiUrl: opts.slackApiUrl, retryConfig: { retries: 0 } } },
    });
    this.log = opts.logger;
    this.retryMinMs = opts.retryMinMs ?? 1000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.routePath = opts.path ?? '/slack/interactions';
    this.client.on('connected', () => {
      const reconnected = this.connectionState === 'reconnecting';
      this.connectionState = 'connected';
      this.log.info(
        { component: 'slack' },
        reconnected ? 'slack socket mode reconnected' : 'slack socket mode connected',
      );
    });
    // @slack/socket-mode reconnects by calling `this.start` again without handling its promise: a
    // reconnect that fails for good (Slack unreachable, token revoked) or is cut short by stop() would
    // reject unhandled and end the process. Those failures go to the same logged, retried path as the
    // first connection.
    const start = this.client.start.bind(this.client);
    this.startClient = start;
    this.client.start = () =>
      start().catch((error: unknown) => {
        this.connectFailed(error, this.retryMinMs);
        return undefined as never;
      });
    this.client.on('reconnecting', () => {
      this.connectionState = 'reconnecting';
      this.log.warn({ component: 'slack' }, 'slack socket mode connection lost; reconnecting');
    });
  }

  /** Connected, connecting, reconnecting ... (for logs and tests). */
  get state(): SocketModeState {
    return this.connectionState;
  }

  override init(app: App): void {
    super.init(app);
    // Every event's middleware and listeners, so that stop() can wait for clicks being handled.
    app.use(async ({ next }) => {
      await this.inFlight.track(next());
    });
  }

  /** Connects in the background; a failed first attempt is logged and retried until stop(). */
  startReceiving(): void {
    if (this.connectionState !== 'idle') return;
    this.connect(this.retryMinMs);
  }

  private connect(delayMs: number): void {
    this.connectionState = 'connecting';
    this.startClient().catch((error: unknown) => this.connectFailed(error, delayMs));
  }

  /** Logs why Slack could not be reached and tries again after `delayMs` (doubling, capped). */
  private connectFailed(error: unknown, delayMs: number): void {
    if (this.connectionState === 'stopped' || this.retryTimer) return;
    this.connectionState = 'connecting';
    const slackError = (error as { data?: { error?: string } } | undefined)?.data?.error;
    const tokenProblem = slackError !== undefined && TOKEN_ERRORS.has(slackError);
    this.log.error(
      {
        component: 'slack',
        error: slackError ?? (error instanceof Error ? error.message : String(error)),
        retryInMs: delayMs,
      },
      tokenProblem
        ? 'slack socket mode: Slack refused SLACK_APP_TOKEN (an app-level token with connections:write is needed); review clicks cannot arrive until it is fixed. Retrying'
        : 'slack socket mode: could not connect to Slack; review clicks cannot arrive until it connects. Retrying',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.connectionState !== 'stopped') this.connect(Math.min(delayMs * 2, this.retryMaxMs));
    }, delayMs);
  }

  /** Disconnects (no reconnect), then waits up to `timeoutMs` for clicks still being handled. */
  override async stop(timeoutMs = 10_000): Promise<void> {
    const wasConnected = this.connectionState === 'connected' || this.connectionState === 'reconnecting';
    this.connectionState = 'stopped';
    clearTimeout(this.retryTimer);
    await this.client.disconnect();
    if (wasConnected) this.log.info({ component: 'slack' }, 'slack socket mode disconnected');
    await this.drain(timeoutMs);
  }

  async drain(timeoutMs = 10_000): Promise<void> {
    await this.inFlight.drain(timeoutMs);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Slack does not post here in Socket Mode: say so instead of verifying signatures nobody sends. */
  readonly plugin: FastifyPluginAsync = async (fastify) => {
    // Encapsulated: whatever is posted here (Slack posts forms) is read as text, not refused with 415.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    fastify.all(this.routePath, async (_req, reply) =>
      reply.code(404).send({
        error: 'socket_mode',
        message:
          'Slack interactivity arrives over Socket Mode (SLACK_APP_TOKEN is set); this route is not used. Unset SLACK_APP_TOKEN to receive clicks here.',
      }),
    );
  };
}
