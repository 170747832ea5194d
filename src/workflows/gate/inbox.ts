// What reaches a running gate from outside: reviewers' decisions (the `decide` Update, and the legacy
// `decision` signal) and Stripe's invoice events (signals), and the `state` query. Everything is only
// queued here; the phases take it when they wake up. An Update is validated first (a refusal writes
// nothing to the history) and answered once the gate has taken it, or refused then if the gate moved on.
// Each Stripe event id applies once, also across continue-as-new (the ids are carried).
import { ApplicationFailure, condition, currentUpdateInfo, log, setHandler } from '@temporalio/workflow';
import { isDecision } from '../../gate/decision';
import type { DecisionCheck, Refusal } from '../../gate/decision-rules';
import { stripeResolution, type StripeResolution } from '../../gate/stripe-resolution';
import type { Decision, GateState, StripeInvoiceEvent } from '../../gate/types';
import {
  DECISION_REFUSED,
  decideUpdate,
  decisionSignal,
  stateQuery,
  stripeInvoiceEventSignal,
  type DecisionAnswer,
} from '../definitions';

/** Event ids remembered for deduplication (carried across continue-as-new). */
const SEEN_EVENT_IDS_KEPT = 500;

/** A decision waiting for the gate, and how it is answered. */
export interface PendingDecision {
  decision: Decision;
  /** `update` (answered) or `signal` (the legacy way: nobody waits for an answer). */
  via: 'update' | 'signal';
  /** The Update id; for a signal, null (the gate names it by its round). */
  updateId: string | null;
  answer?: { accepted: true; answer: DecisionAnswer } | { accepted: false; refusal: Refusal };
}

/** `validator`: refused before the history (the caller logs it); `gate`: refused when taken (the gate logged it). */
function refusalFailure(refusal: Refusal, stage: 'validator' | 'gate'): ApplicationFailure {
  return ApplicationFailure.create({
    type: DECISION_REFUSED,
    message: refusal.message,
    details: [refusal.code, stage],
    nonRetryable: true,
  });
}

export class GateInbox {
  private readonly decisions: PendingDecision[] = [];
  private readonly stripeEvents: StripeInvoiceEvent[] = [];
  private readonly seenEventIds: string[];

  constructor(state: () => GateState, validate: (decision: unknown) => DecisionCheck, seenEventIds: string[] = []) {
    this.seenEventIds = seenEventIds;
    setHandler(stateQuery, state);
    setHandler(
      decideUpdate,
      async (decision) => {
        const pending: PendingDecision = { decision, via: 'update', updateId: currentUpdateInfo()?.id ?? null };
        this.decisions.push(pending);
        await condition(() => pending.answer !== undefined);
        const { answer } = pending;
        if (!answer?.accepted) throw refusalFailure(answer!.refusal, 'gate');
        return answer.answer;
      },
      {
        validator: (decision) => {
          const check = validate(decision);
          if (!check.accepted) throw refusalFailure(check.refusal, 'validator');
        },
      },
    );
    setHandler(decisionSignal, (decision) => {
      // A malformed signal (from a script) changes nothing; a well-formed one meets the Update's rules.
      if (isDecision(decision)) this.decisions.push({ decision, via: 'signal', updateId: null });
      else log.warn('ignored a decision signal that is not a decision', { decision });
    });
    setHandler(stripeInvoiceEventSignal, (event) => void this.stripeEvents.push(event));
  }

  /** Whether a decision or a Stripe event is waiting to be handled. */
  hasNews(): boolean {
    return this.decisions.length > 0 || this.stripeEvents.length > 0;
  }

  hasDecision(): boolean {
    return this.decisions.length > 0;
  }

  hasStripeNews(): boolean {
    return this.stripeEvents.length > 0;
  }

  /** The next decision waiting, if any (the caller answers it). */
  nextDecision(): PendingDecision | undefined {
    return this.decisions.shift();
  }

  /** The gates before the decide Update: the next decision, taken as it came (nothing waits for an answer). */
  takeDecision(): Decision | undefined {
    return this.decisions.shift()?.decision;
  }

  /** The gate is not holding the invoice: waiting decisions are refused, saying why. */
  dropDecisions(why = 'the gate no longer holds the invoice'): void {
    for (const pending of this.decisions.splice(0)) {
      pending.answer = { accepted: false, refusal: { code: 'not_waiting', message: why } };
    }
  }

  /** The Stripe events that arrived, each event id once. */
  takeFreshStripeEvents(): StripeInvoiceEvent[] {
    const fresh = this.stripeEvents.splice(0).filter((event) => !this.seenEventIds.includes(event.eventId));
    for (const event of fresh) this.seenEventIds.push(event.eventId);
    return fresh;
  }

  /** The first gate (v1): Stripe settled the invoice another way meanwhile; null if not. */
  settledInStripe(): StripeResolution | null {
    return stripeResolution(this.stripeEvents.splice(0));
  }

  /** The event ids a continued run must still recognise. */
  carriedEventIds(): string[] {
    return this.seenEventIds.slice(-SEEN_EVENT_IDS_KEPT);
  }
}
