// The Slack emulator's well-known settings: its library and `npm run emulators` default to them,
// and the gate's embedded start-up wiring, tests and benchmarks read them from here.
export const SLACK_EMULATOR_DEFAULTS = {
  port: 12112,
  host: '127.0.0.1',
  botToken: 'xoxb-emulator-token',
  /** What `npm run emulators` and the gate's embedded wiring use; the library generates one when not given. */
  signingSecret: 'emulator-signing-secret',
  /** The app-level token apps.connections.open (Socket Mode) accepts unless another `xapp-` token is configured. */
  appToken: 'xapp-1-A0GATEAPP-1-emulator-app-token',
  /** The seeded review channel (#billing-review). */
  channelId: 'C0BILLING',
} as const;
