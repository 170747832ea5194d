// A Fastify server with the Slack app mounted, the Slack emulator clicking, and an in-memory gate.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';
import { buildHeldAlert } from '../../../src/slack/alert-message';
import { createSlackApp, type SlackApp } from '../../../src/http/slack/slack-app';
import type { GateReviewPort } from '../../../src/client/gate-client';
import type { ReviewAttempt } from '../../../src/http/slack/review-interactions';
import type { GateLogger } from '../../../src/http/slack/bolt-logger';
import type { Decision, GateState } from '../../../src/gate/types';
import { alertInput } from '../../slack/fixtures';

/** The Slack emulator's seeded review channel. */
const CHANNEL = SLACK_EMULATOR_DEFAULTS.channelId;

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: unknown;
  msg?: string;
}

export class MemoryLogger implements GateLogger {
  entries: LogEntry[] = [];
  debug(obj: unknown, msg?: string) {
    this.entries.push({ level: 'debug', obj, msg });
  }
  info(obj: unknown, msg?: string) {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: unknown, msg?: string) {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: unknown, msg?: string) {
    this.entries.push({ level: 'error', obj, msg });
  }
  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }
}

/** In-memory gate: state per invoice, decisions recorded; behaviour can be swapped per test. */
export class FakeGate implements GateReviewPort {
  states = new Map<string, GateState>();
  decisions: Array<{ invoiceId: string; decision: Decision }> = [];
  stateImpl: ((invoiceId: string) => Promise<GateState | null>) | undefined;
  decideImpl: ((invoiceId: string, decision: Decision) => Promise<void>) | undefined;

  async state(invoiceId: string): Promise<GateState | null> {
    if (this.stateImpl) return this.stateImpl(invoiceId);
    return this.states.get(invoiceId) ?? null;
  }

  async decide(invoiceId: string, decision: Decision): Promise<void> {
    if (this.decideImpl) await this.decideImpl(invoiceId, decision);
    this.decisions.push({ invoiceId, decision });
  }

  reset(): void {
    this.states.clear();
    this.decisions = [];
    this.stateImpl = undefined;
    this.decideImpl = undefined;
  }
}

export interface Harness {
  emu: SlackEmulator;
  server: FastifyInstance;
  slack: SlackApp;
  gate: FakeGate;
  audit: ReviewAttempt[];
  logger: MemoryLogger;
  baseUrl: string;
  /** Posts the held alert for in_1Test as the bot; returns its ts. */
  postAlert(invoiceId?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(opts: { reviewerIds?: string[]; ackTimeoutMs?: number } = {}): Promise<Harness> {
  const emu = await startSlackEmulator({ port: 0 });
  const gate = new FakeGate();
  const audit: ReviewAttempt[] = [];
  const logger = new MemoryLogger();
  const slack = createSlackApp({
    signingSecret: emu.signingSecret,
    botToken: emu.botToken,
    slackApiUrl: emu.apiUrl,
    reviewerIds: opts.reviewerIds ?? ['U0ALICE'],
    gate,
    recordReviewAttempt: (a) => {
      audit.push(a);
    },
    logger,
    ackTimeoutMs: opts.ackTimeoutMs,
    retryConfig: { retries: 0 },
  });
  const server = Fastify();
  // Another route of the same server: it must keep Fastify's own JSON parsing.
  server.post('/echo', async (req) => ({ received: req.body }));
  await server.register(slack.receiver.plugin);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  await emu.admin.setInteractivityUrl(`${baseUrl}/slack/interactions`);
  const web = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl });
  return {
    emu,
    server,
    slack,
    gate,
    audit,
    logger,
    baseUrl,
    async postAlert(invoiceId = 'in_1Test') {
      const input = alertInput({ invoice: { ...alertInput().invoice, invoiceId } });
      const r = await web.chat.postMessage({ channel: CHANNEL, ...buildHeldAlert(input) });
      return r.ts!;
    },
    async close() {
      await slack.receiver.stop();
      await server.close();
      await emu.stop();
    },
  };
}
