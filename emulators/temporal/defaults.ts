// The Temporal emulator's well-known settings: its library and `npm run emulators` default to them,
// and the gate's embedded start-up wiring, tests and benchmarks read them from here.
export const TEMPORAL_EMULATOR_DEFAULTS = {
  /** Temporal's own default frontend port, so tools pointed at localhost:7233 find the emulator. */
  port: 7233,
  host: '127.0.0.1',
  namespace: 'default',
} as const;
