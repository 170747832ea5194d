// A reviewer's release as Slack does it: the Release click opens the reason modal, and its submission is
// the decision. Shared by the end-to-end tests and kept to the emulator's public admin API.
import assert from 'node:assert/strict';
import type { SlackEmulator } from '../../emulators/slack';
import type { OpenView, ViewSubmissionReport } from '../../emulators/slack/admin-client';
import { RELEASE_REASON_CALLBACK_ID } from '../../src/slack/release-reason-modal';

export interface ReleaseClick {
  channel: string;
  ts: string;
  userId: string;
  reason: string;
  note?: string;
  /** Default: the app's Socket Mode setting. */
  via?: 'http' | 'socket';
}

/**
 * Waits until the user has a release modal open (views.open comes after the click's ack) that is none of
 * `seen` (the ids open before the click, e.g. one left open by an earlier test).
 */
export async function releaseModal(
  slack: SlackEmulator,
  userId: string,
  seen: ReadonlySet<string> = new Set(),
  timeoutMs = 10_000,
): Promise<OpenView> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const view = (await slack.admin.openViews(userId)).find(
      (v) => v.callback_id === RELEASE_REASON_CALLBACK_ID && !seen.has(v.id),
    );
    if (view) return view;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no release modal opened for ${userId} within ${timeoutMs} ms`);
}

/** Clicks Release, waits for the modal, submits it with the reason (and note); returns the click and submission. */
export async function releaseWithReason(slack: SlackEmulator, options: ReleaseClick) {
  const { channel, ts, userId, via } = options;
  const seen = await openViewIds(slack, userId);
  const click =
    via === 'socket'
      ? await slack.admin.clickOverSocket({ channel, ts, actionId: 'gate_release', userId })
      : await slack.admin.click({ channel, ts, actionId: 'gate_release', userId });
  if (click.via === 'http') assert.equal(click.status, 200, click.body);
  const view = await releaseModal(slack, userId, seen);
  const submission: ViewSubmissionReport = await slack.admin.submitView({
    viewId: view.id,
    values: { reason: options.reason, ...(options.note === undefined ? {} : { note: options.note }) },
    ...(via ? { via } : {}),
  });
  return { click, view, submission };
}

/** The ids of the views the user has open now. */
export async function openViewIds(slack: SlackEmulator, userId: string): Promise<Set<string>> {
  return new Set((await slack.admin.openViews(userId)).map((v) => v.id));
}
