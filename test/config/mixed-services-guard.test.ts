import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/env';
import { mixedServicesIssues, refuseUnsafeEmbedded } from '../../src/config/mixed-services-guard';

const real = {
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  STRIPE_SECRET_KEY: 'sk_test_real',
  STRIPE_WEBHOOK_SECRET: 'whsec_real',
  SLACK_BOT_TOKEN: 'xoxb-real',
  SLACK_SIGNING_SECRET: 'real-signing-secret',
  SLACK_CHANNEL_ID: 'C0REAL',
  DATABASE_URL: 'postgres://gate@db.internal/gate',
};
const without = (...names: Array<keyof typeof real>) =>
  Object.fromEntries(Object.entries(real).filter(([name]) => !names.some((n) => name.startsWith(n.split('_')[0]))));
const variables = (env: Record<string, string>) => mixedServicesIssues(parseConfig(env)).map((i) => i.variable);

describe('a deployment is all embedded or names every service', () => {
  it('all embedded (the demo, development) and all configured both start', () => {
    assert.deepEqual(variables({}), []);
    assert.deepEqual(variables(real), []);
    refuseUnsafeEmbedded(parseConfig({}));
    refuseUnsafeEmbedded(parseConfig(real));
  });

  it('real Stripe, Temporal and database without Slack is refused, naming the Slack variables', () => {
    const config = parseConfig(without('SLACK_BOT_TOKEN'));
    assert.throws(
      () => refuseUnsafeEmbedded(config),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.issues.map((i) => i.variable),
          ['SLACK_BOT_TOKEN'],
        );
        assert.match(error.message, /^Embedded and real services mixed:/);
        assert.match(error.message, /SLACK_BOT_TOKEN: must be set \(with SLACK_SIGNING_SECRET and SLACK_CHANNEL_ID\)/);
        assert.match(error.message, /TEMPORAL_ADDRESS, STRIPE_SECRET_KEY, DATABASE_URL configure real services/);
        assert.match(error.message, /GATE_ALLOW_EMBEDDED=1 allows the mix/);
        return true;
      },
    );
  });

  it('names every service left unset, whichever are configured', () => {
    assert.deepEqual(variables({ TEMPORAL_ADDRESS: real.TEMPORAL_ADDRESS }), [
      'STRIPE_SECRET_KEY',
      'SLACK_BOT_TOKEN',
      'DATABASE_URL',
    ]);
    assert.deepEqual(variables({ DATABASE_URL: real.DATABASE_URL }), [
      'TEMPORAL_ADDRESS',
      'STRIPE_SECRET_KEY',
      'SLACK_BOT_TOKEN',
    ]);
    assert.deepEqual(variables(without('STRIPE_SECRET_KEY')), ['STRIPE_SECRET_KEY']);
    // A real ledger next to the embedded database is a mix as well.
    assert.deepEqual(
      variables({ ...without('DATABASE_URL'), LEDGER_DATABASE_URL: 'postgres://reader@ledger.internal/app' }),
      ['DATABASE_URL'],
    );
    assert.deepEqual(variables({ LEDGER_DATABASE_URL: 'postgres://reader@ledger.internal/app' }), [
      'TEMPORAL_ADDRESS',
      'STRIPE_SECRET_KEY',
      'SLACK_BOT_TOKEN',
      'DATABASE_URL',
    ]);
    assert.deepEqual(variables(without('TEMPORAL_ADDRESS', 'DATABASE_URL')), ['TEMPORAL_ADDRESS', 'DATABASE_URL']);
  });

  it('GATE_ALLOW_EMBEDDED=1 allows a mix (tests)', () => {
    assert.deepEqual(variables({ ...without('SLACK_BOT_TOKEN'), GATE_ALLOW_EMBEDDED: '1' }), []);
    refuseUnsafeEmbedded(parseConfig({ DATABASE_URL: real.DATABASE_URL, GATE_ALLOW_EMBEDDED: '1' }));
  });

  it('a live key alone: the live-key reasons for Temporal and the database, the mix for Slack, in one error', () => {
    assert.throws(
      () => refuseUnsafeEmbedded(parseConfig({ STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.issues.map((i) => i.variable),
          ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'SLACK_BOT_TOKEN'],
        );
        assert.match(error.message, /^Live Stripe key on embedded services:/);
        assert.match(error.message, /TEMPORAL_ADDRESS: must be set: STRIPE_SECRET_KEY is a live key/);
        return true;
      },
    );
  });
});
