// What reaches a running gate from outside: reviewers' decisions and Stripe's invoice events (signals),
// and the `state` query. Signals are only queued here; the phases take them when they wake up.
// Each Stripe event id applies once, also across continue-as-new (the ids are carried).
import { setHandler } from '@temporalio/workflow';
import { isDecision } from '../../gate/decision';
import { stripeResolution, type StripeResolution } from '../../gate/stripe-resolution';
import type { Decision, GateState, StripeInvoiceEvent } from '../../gate/types';
import { decisionSignal, stateQuery, stripeInvoiceEventSignal } from '../definitions';

/** Event ids remembered for deduplication (carried across continue-as-new). */
const SEEN_EVENT_IDS_KEPT = 500;

export class GateInbox {
  private readonly decisions: Decision[] = [];
  private readonly stripeEvents: StripeInvoiceEvent[] = [];
  private readonly seenEventIds: string[];

  constructor(state: () => GateState, seenEventIds: string[] = []) {
    this.seenEventIds = seenEventIds;
    setHandler(stateQuery, state);
    setHandler(decisionSignal, (decision) => {
      // A malformed signal (from a script or the CLI) changes nothing.
      if (isDecision(decision)) this.decisions.push(decision);
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

  /** The next reviewer decision, if any. */
  takeDecision(): Decision | undefined {
    return this.decisions.shift();
  }

  /** Reviewers have no buttons while the gate is not holding the invoice: a stray click changes nothing. */
  dropDecisions(): void {
    this.decisions.splice(0);
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
