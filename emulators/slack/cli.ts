// Runs the Slack emulator alone: `tsx emulators/slack/cli.ts [--port 12112] [--interactivity-url URL]`.
// Env: SLACK_EMULATOR_PORT, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_INTERACTIVITY_URL.
// `--socket-mode` turns the app's Socket Mode setting on (clicks go over the socket).
import { SLACK_EMULATOR_DEFAULTS, startSlackEmulator } from './index';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const emulator = await startSlackEmulator({
    port: Number(flag('port') ?? process.env.SLACK_EMULATOR_PORT ?? SLACK_EMULATOR_DEFAULTS.port),
    host: flag('host') ?? SLACK_EMULATOR_DEFAULTS.host,
    botToken: process.env.SLACK_BOT_TOKEN,
    signingSecret: process.env.SLACK_SIGNING_SECRET,
    appToken: process.env.SLACK_APP_TOKEN,
    socketMode: process.argv.includes('--socket-mode'),
    interactivityUrl: flag('interactivity-url') ?? process.env.SLACK_INTERACTIVITY_URL,
    log: process.argv.includes('--verbose') ? (m) => console.log(m) : undefined,
  });
  console.log(`Slack emulator on ${emulator.url}`);
  console.log(`  SLACK_API_URL=${emulator.apiUrl}`);
  console.log(`  SLACK_BOT_TOKEN=${emulator.botToken}`);
  console.log(`  SLACK_SIGNING_SECRET=${emulator.signingSecret}`);
  console.log(
    `  SLACK_APP_TOKEN=${emulator.appToken}  (Socket Mode ${process.argv.includes('--socket-mode') ? 'on' : 'off'})`,
  );
  console.log(
    `  SLACK_CHANNEL_ID=${SLACK_EMULATOR_DEFAULTS.channelId}  users: U0ALICE (alice, the demo reviewer), U0BOB (bob)`,
  );
  console.log(`  admin: ${emulator.url}/_emulator/info`);
  const shutdown = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
