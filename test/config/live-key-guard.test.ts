import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/env';
import { isLiveStripeKey, liveKeyOnEmbeddedIssues, refuseLiveKeyOnEmbedded } from '../../src/config/live-key-guard';

const live = { STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' };
const durable = { TEMPORAL_ADDRESS: 'temporal.internal:7233', DATABASE_URL: 'postgres://gate@db.internal/gate' };
const variables = (env: Record<string, string>) => liveKeyOnEmbeddedIssues(parseConfig(env)).map((i) => i.variable);

describe('live Stripe keys on embedded services', () => {
  it('knows live keys by their prefix (secret and restricted)', () => {
    for (const key of ['sk_live_1', 'rk_live_1']) assert.equal(isLiveStripeKey(key), true, key);
    for (const key of ['sk_test_1', 'rk_test_1', 'sk_emulator', undefined]) assert.equal(isLiveStripeKey(key), false);
  });

  it('refuses a live key with the embedded Temporal engine, the embedded database, or both, naming each variable', () => {
    assert.deepEqual(variables(live), ['TEMPORAL_ADDRESS', 'DATABASE_URL']);
    assert.deepEqual(variables({ ...live, DATABASE_URL: durable.DATABASE_URL }), ['TEMPORAL_ADDRESS']);
    assert.deepEqual(variables({ ...live, TEMPORAL_ADDRESS: durable.TEMPORAL_ADDRESS }), ['DATABASE_URL']);
    assert.deepEqual(variables({ ...live, STRIPE_SECRET_KEY: 'rk_live_restricted' }), [
      'TEMPORAL_ADDRESS',
      'DATABASE_URL',
    ]);
    assert.throws(
      () => refuseLiveKeyOnEmbedded(parseConfig(live)),
      (error: Error) =>
        /Live Stripe key on embedded services/.test(error.message) &&
        /TEMPORAL_ADDRESS: must be set/.test(error.message) &&
        /DATABASE_URL: must be set/.test(error.message) &&
        /GATE_ALLOW_EMBEDDED=1/.test(error.message) &&
        !error.message.includes('sk_live_abc'),
    );
  });

  it('accepts a live key on configured services, and test keys or the emulator anywhere', () => {
    assert.deepEqual(variables({ ...live, ...durable }), []);
    assert.deepEqual(variables({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' }), []);
    assert.deepEqual(variables({}), []);
    refuseLiveKeyOnEmbedded(parseConfig({ ...live, ...durable }));
  });

  it('GATE_ALLOW_EMBEDDED=1 overrides; anything but 0 or 1 is a configuration error', () => {
    assert.deepEqual(variables({ ...live, GATE_ALLOW_EMBEDDED: '1' }), []);
    assert.deepEqual(variables({ ...live, GATE_ALLOW_EMBEDDED: '0' }), ['TEMPORAL_ADDRESS', 'DATABASE_URL']);
    assert.throws(() => parseConfig({ ...live, GATE_ALLOW_EMBEDDED: 'yes' }), /GATE_ALLOW_EMBEDDED/);
  });
});
