// Activities of the daily observe-mode digest: whether it is on (and when), the day's sums from the
// audit, and the one Slack message.
import type { WebClient } from '@slack/web-api';
import { log } from '@temporalio/activity';
import type { AuditStore } from '../audit/audit-store';
import type { DigestPeriod, ObserveDigestSummary } from '../gate/observe-digest';
import type { SlackMessageRef } from '../gate/types';
import { buildObserveDigest } from '../slack/digest-message';

export interface ObserveDigestDeps {
  audit: Pick<AuditStore, 'summarizeObserved'>;
  slack: WebClient;
  channelId: string;
  /** GATE_DIGEST_AT as this worker was started with (minutes after 00:00 UTC); null = off. */
  config: { digestAtMinuteUtc: number | null };
}

export function createObserveDigestActivities({ audit, slack, channelId, config }: ObserveDigestDeps) {
  return {
    /** Read per day, so a worker restarted with another GATE_DIGEST_AT (or off) takes over. */
    async observeDigestSchedule(): Promise<{ atMinuteUtc: number | null }> {
      return { atMinuteUtc: config.digestAtMinuteUtc };
    },

    async summarizeObservedDay(period: DigestPeriod): Promise<ObserveDigestSummary> {
      return audit.summarizeObserved(period);
    },

    async postObserveDigest(summary: ObserveDigestSummary): Promise<SlackMessageRef> {
      const message = buildObserveDigest(summary);
      const posted = await slack.chat.postMessage({
        channel: channelId,
        text: message.text,
        blocks: message.blocks,
        metadata: {
          event_type: 'invoice_gate_observe_digest',
          event_payload: { from: summary.period.from, to: summary.period.to },
        },
      });
      if (!posted.ts || !posted.channel) throw new Error('Slack accepted the digest but returned no channel/ts');
      log.info('observe-mode digest posted', { checked: summary.checked, wouldHold: summary.wouldHold });
      return { channel: posted.channel, ts: posted.ts };
    },
  };
}

export type ObserveDigestActivities = ReturnType<typeof createObserveDigestActivities>;
