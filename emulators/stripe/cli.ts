// npx tsx emulators/stripe/cli.ts [--port 12111] [--host 127.0.0.1] [--key sk_test_emulator]
import { startStripeEmulator } from './index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const emulator = await startStripeEmulator({
    port: Number(arg('port') ?? process.env.STRIPE_EMULATOR_PORT ?? 12111),
    host: arg('host') ?? '127.0.0.1',
    apiKey: arg('key') ?? 'sk_test_emulator',
    log: (msg) => console.error(msg),
  });
  console.log(`Stripe emulator listening on ${emulator.url}`);
  console.log(`  STRIPE_API_URL=${emulator.url}`);
  console.log(`  STRIPE_SECRET_KEY=${emulator.apiKey}`);
  console.log(`  admin API: ${emulator.url}/_emulator/ (seed, clock, faults, ...)`);
  const shutdown = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
