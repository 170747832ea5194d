// A Fastify server with the Slack app mounted, the Slack emulator clicking, and an in-memory gate.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator, type SlackEmulator } from '../../../emulators/slack/index';
import { buildHeldAlert, buildStatusMessage, type AlertStatus } from '../../../src/slack/alert-message';
import { createSlackApp, type SlackApp } from '../../../src/http/slack/slack-app';
import type { DecisionOutcome, GateReviewPort } from '../../../src/client/gate-client';
import { checkDecision, type DecisionStage } from '../../../src/gate/decision-rules';
import type { RefusedDecision, ReviewAttempt } from '../../../src/http/slack/review-interactions';
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

/**
 * In-memory gate: state per invoice, decisions validated with the gate's own rules (as the `decide`
 * Update's validator does) and recorded when accepted; behaviour can be swapped per test.
 */
export class FakeGate implements GateReviewPort {
  states = new Map<string, GateState>();
  decisions: Array<{ invoiceId: string; decision: Decision }> = [];
  stateImpl: ((invoiceId: string) => Promise<GateState | null>) | undefined;
  /** Runs before the rules: throw to fail the call, or resolve later to delay it. */
  decideImpl: ((invoiceId: string, decision: Decision) => Promise<void>) | undefined;

  constructor(private readonly reviewers: readonly string[] = ['U0ALICE']) {}

  async state(invoiceId: string): Promise<GateState | null> {
    if (this.stateImpl) return this.stateImpl(invoiceId);
    return this.states.get(invoiceId) ?? null;
  }

  async decide(invoiceId: string, decision: Decision): Promise<DecisionOutcome> {
    if (this.decideImpl) await this.decideImpl(invoiceId, decision);
    const state = this.states.get(invoiceId);
    const updateId = `decide-${invoiceId}-${state?.decisionRound ?? 0}-${decision.action}-${decision.reviewer}`;
    const stage: DecisionStage =
      state?.status === 'held'
        ? { waitingFor: 'review' }
        : state?.status === 'awaiting_second_approval'
          ? { waitingFor: 'second_approval', firstApprover: state.approvals?.[0]?.reviewer ?? '' }
          : { waitingFor: 'nothing', status: state?.status ?? 'reading' };
    const check = checkDecision(decision, stage, { reviewers: this.reviewers, approvers: null });
    if (!check.accepted) return { accepted: false, updateId, refusal: { ...check.refusal, stage: 'validator' } };
    this.decisions.push({ invoiceId, decision });
    const status = decision.action === 'recount' ? 'recounting' : 'releasing';
    return { accepted: true, updateId, answer: Promise.resolve({ status, decisionRound: 1 }) };
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
  /** Refusals by the (fake) gate's validator, as they would go to the decision log. */
  refused: RefusedDecision[];
  logger: MemoryLogger;
  baseUrl: string;
  /** Posts the held alert (or the alert as it reads in `status`) for in_1Test as the bot; returns its ts. */
  postAlert(invoiceId?: string, status?: AlertStatus): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(opts: { reviewerIds?: string[]; ackTimeoutMs?: number } = {}): Promise<Harness> {
  const emu = await startSlackEmulator({ port: 0 });
  const gate = new FakeGate(opts.reviewerIds ?? ['U0ALICE']);
  const audit: ReviewAttempt[] = [];
  const refused: RefusedDecision[] = [];
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
    recordRefusedDecision: (r) => {
      refused.push(r);
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
    refused,
    logger,
    baseUrl,
    async postAlert(invoiceId = 'in_1Test', status?: AlertStatus) {
      const input = alertInput({ invoice: { ...alertInput().invoice, invoiceId } });
      const content = status ? buildStatusMessage(input, status) : buildHeldAlert(input);
      const r = await web.chat.postMessage({ channel: CHANNEL, ...content });
      return r.ts!;
    },
    async close() {
      await slack.receiver.stop();
      await server.close();
      await emu.stop();
    },
  };
}
