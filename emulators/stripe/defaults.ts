// The Stripe emulator's well-known settings: its library and `npm run emulators` default to them,
// and the gate's embedded start-up wiring, tests and benchmarks read them from here.
export const STRIPE_EMULATOR_DEFAULTS = {
  port: 12111,
  host: '127.0.0.1',
  /** The secret key clients must send. */
  apiKey: 'sk_test_emulator',
} as const;
