// The Bolt App for the gate's Slack interactivity, on one of two transports: the Fastify receiver
// (POST /slack/interactions, signed requests) or, with an app-level token, Socket Mode. The listeners
// are the same either way. The server mounts `receiver.plugin` and calls `receiver.startReceiving()`;
// the Web API client inside uses `slackApiUrl` (the emulator or slack.com).
import { App } from '@slack/bolt';
import type { RetryOptions } from '@slack/web-api';
import { FastifyBoltReceiver } from './fastify-bolt-receiver';
import { GateSocketModeReceiver } from './socket-mode-receiver';
import type { SlackReceiver } from './slack-receiver';
import { toBoltLogger, type GateLogger } from './bolt-logger';
import type { GateReviewPort } from '../../client/gate-client';
import { registerReviewInteractions, type RefusedDecision, type ReviewAttempt } from './review-interactions';

export interface CreateSlackAppOptions {
  signingSecret: string;
  botToken: string;
  /** e.g. 'https://slack.com/api/' or the emulator's apiUrl. */
  slackApiUrl: string;
  reviewerIds: readonly string[];
  /** The gate the buttons query and decide on. */
  gate: GateReviewPort;
  recordReviewAttempt: (attempt: ReviewAttempt) => Promise<void> | void;
  /** A decision the gate's validator refused: it goes to the decision log (it never reached the gate's history). */
  recordRefusedDecision: (refused: RefusedDecision) => Promise<void> | void;
  logger: GateLogger;
  /** Route of the interactivity endpoint; default '/slack/interactions'. */
  path?: string;
  /** SLACK_APP_TOKEN (`xapp-...`): receive clicks over Socket Mode instead of the route. */
  appToken?: string;
  /** Socket Mode: first-connection retry backoff and the client's ping timeout (tests shorten them). */
  socketMode?: { retryMinMs?: number; retryMaxMs?: number; clientPingTimeoutMs?: number };
  ackTimeoutMs?: number;
  /**
   * Retries of the ephemeral answers. They only help while the user looks at the message, so the
   * default is short (3 tries within ~3 s) instead of web-api's 30 minutes.
   */
  retryConfig?: RetryOptions;
}

export interface SlackApp {
  app: App;
  receiver: SlackReceiver;
}

export function createSlackApp(opts: CreateSlackAppOptions): SlackApp {
  const boltLogger = toBoltLogger(opts.logger);
  const receiver: SlackReceiver = opts.appToken
    ? new GateSocketModeReceiver({
        appToken: opts.appToken,
        slackApiUrl: opts.slackApiUrl,
        logger: opts.logger,
        boltLogger: toBoltLogger(opts.logger, 'slack-socket-mode'),
        path: opts.path,
        ...opts.socketMode,
      })
    : new FastifyBoltReceiver({
        signingSecret: opts.signingSecret,
        path: opts.path,
        ackTimeoutMs: opts.ackTimeoutMs,
        logger: opts.logger,
      });
  const app = new App({
    receiver,
    // Bolt's Socket Mode: the receiver above is its SocketModeReceiver, connecting with the app token.
    ...(opts.appToken ? { socketMode: true, appToken: opts.appToken } : {}),
    // A fixed single-workspace authorization: no auth.test round trip before each ack, and no
    // cached failure if Slack is down when the server starts.
    authorize: async () => ({ botToken: opts.botToken }),
    logger: boltLogger,
    clientOptions: {
      slackApiUrl: opts.slackApiUrl,
      logger: boltLogger,
      retryConfig: opts.retryConfig ?? { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 },
    },
  });
  app.error(async (error) => {
    opts.logger.error({ err: error, code: (error as { code?: string }).code }, 'slack app error');
  });
  if (opts.reviewerIds.length === 0) {
    opts.logger.warn({}, 'SLACK_REVIEWER_IDS is empty: nobody can release or recount held invoices from Slack');
  }
  registerReviewInteractions(app, {
    reviewerIds: opts.reviewerIds,
    gate: opts.gate,
    recordReviewAttempt: opts.recordReviewAttempt,
    recordRefusedDecision: opts.recordRefusedDecision,
    channel: opts.appToken ? 'slack_socket' : 'slack',
    logger: opts.logger,
  });
  return { app, receiver };
}
