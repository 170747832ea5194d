// GATE_MODE, GATE_DIGEST_AT and the per-customer `mode` of the config file, down to the settings a gate
// loads (ledger.loadGateSettings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeConfig, parseConfig } from '../../src/config/env';
import { modeFor, parseGateConfig } from '../../src/config/gate-config';
import { createLedgerActivities } from '../../src/activities/ledger';

const ENV_TOLERANCE = { pct: '1', abs: '0' };

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.variable}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('GATE_MODE: enforce by default; observe or enforce, any case; anything else is refused', () => {
  assert.equal(parseConfig({}).mode, 'enforce');
  assert.equal(parseConfig({ GATE_MODE: '' }).mode, 'enforce');
  assert.equal(parseConfig({ GATE_MODE: 'observe' }).mode, 'observe');
  assert.equal(parseConfig({ GATE_MODE: ' OBSERVE ' }).mode, 'observe');
  assert.equal(parseConfig({ GATE_MODE: 'enforce' }).mode, 'enforce');
  assert.deepEqual(
    issuesOf(() => parseConfig({ GATE_MODE: 'dry-run' })),
    ['GATE_MODE: must be one of enforce, observe'],
  );
  assert.equal(describeConfig(parseConfig({ GATE_MODE: 'observe' })).mode, 'observe');
});

test('GATE_DIGEST_AT: 09:00 UTC by default; HH or HH:MM; off', () => {
  assert.equal(parseConfig({}).digestAtMinuteUtc, 9 * 60);
  assert.equal(parseConfig({ GATE_DIGEST_AT: '0' }).digestAtMinuteUtc, 0);
  assert.equal(parseConfig({ GATE_DIGEST_AT: '7' }).digestAtMinuteUtc, 7 * 60);
  assert.equal(parseConfig({ GATE_DIGEST_AT: '17:30' }).digestAtMinuteUtc, 17 * 60 + 30);
  assert.equal(parseConfig({ GATE_DIGEST_AT: '23:59' }).digestAtMinuteUtc, 23 * 60 + 59);
  assert.equal(parseConfig({ GATE_DIGEST_AT: 'off' }).digestAtMinuteUtc, null);
  assert.equal(parseConfig({ GATE_DIGEST_AT: 'OFF' }).digestAtMinuteUtc, null);
  assert.equal(describeConfig(parseConfig({ GATE_DIGEST_AT: '17:30' })).digestAt, '17:30 UTC');
  assert.equal(describeConfig(parseConfig({ GATE_DIGEST_AT: 'off' })).digestAt, 'off');
  for (const bad of ['24', '9:5', '12:60', '9am', '-1', '1h'])
    assert.deepEqual(
      issuesOf(() => parseConfig({ GATE_DIGEST_AT: bad })),
      ['GATE_DIGEST_AT: must be a UTC time of day, HH or HH:MM (e.g. 9 or 09:30), or off'],
      bad,
    );
});

test('the config file: a customer may have its own mode; GATE_MODE for everyone else', () => {
  const config = parseGateConfig(
    {
      customers: {
        cus_observed: { mode: 'observe' },
        cus_enforced: { mode: 'enforce', tolerance: { pct: '5' } },
        cus_tolerance_only: { tolerance: { abs: '3' } },
      },
    },
    ENV_TOLERANCE,
  );
  assert.deepEqual(config.customers.cus_observed, { tolerance: {}, mode: 'observe' });
  assert.deepEqual(config.customers.cus_enforced, { tolerance: { pct: '5' }, mode: 'enforce' });
  assert.deepEqual(config.customers.cus_tolerance_only, { tolerance: { abs: '3' } });
  assert.equal(modeFor(config, 'cus_observed', 'enforce'), 'observe');
  assert.equal(modeFor(config, 'cus_enforced', 'observe'), 'enforce');
  assert.equal(modeFor(config, 'cus_tolerance_only', 'observe'), 'observe');
  assert.equal(modeFor(config, 'cus_unknown', 'enforce'), 'enforce');
  assert.equal(modeFor(config, 'constructor', 'enforce'), 'enforce', 'not an inherited property');
});

test('the config file: an unknown mode names the customer', () => {
  assert.deepEqual(
    issuesOf(() => parseGateConfig({ customers: { cus_x: { mode: 'shadow' } } }, ENV_TOLERANCE)),
    ['customers.cus_x.mode: must be one of enforce, observe'],
  );
});

test('loadGateSettings hands each gate its customer mode', async () => {
  const gateConfig = parseGateConfig(
    { customers: { cus_enforced: { mode: 'enforce' }, cus_observed: { mode: 'observe' } } },
    ENV_TOLERANCE,
  );
  const settingsWith = (mode?: 'observe' | 'enforce') => (customerId: string) =>
    createLedgerActivities({
      ledgerDb: null as never, // loadGateSettings never reads the ledger
      gateConfig,
      reminder: { afterMs: 1, everyMs: 2 },
      ...(mode && { mode }),
    }).loadGateSettings(customerId);
  assert.equal((await settingsWith('observe')('cus_other')).mode, 'observe');
  assert.equal((await settingsWith('observe')('cus_enforced')).mode, 'enforce');
  assert.equal((await settingsWith('enforce')('cus_observed')).mode, 'observe');
  assert.equal((await settingsWith('enforce')('')).mode, 'enforce');
  assert.equal((await settingsWith()('cus_other')).mode, 'enforce', 'default enforce');
});
