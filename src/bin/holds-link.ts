// `npm run holds-link`: prints a signed link to the review queue (GET /holds), valid for
// GATE_LINK_EXPIRY, on the same configuration as `npm start` (GATE_LINK_SECRET, or the key derived from
// STRIPE_SECRET_KEY; GATE_PUBLIC_URL, or http://HOST:PORT). Exit 0 with the link on stdout; 1 when the
// configuration is invalid or gives no key a running server shares (the embedded Stripe emulator's
// processes sign with a random key of their own).
import { ConfigError, loadConfig } from '../config/env';
import { linkKeyOrigin, runPageLinkKey } from '../run-page/link-signature';
import { RunPageLinks } from '../run-page/run-page-links';

function main(): number {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`invoice-gate: invalid configuration\n${error.message}\n`);
    return 1;
  }
  const source = {
    linkSecret: config.runPage.linkSecret,
    stripeSecretKey: config.stripe.secretKey ?? '',
    stripeEmbedded: config.stripe.secretKey === undefined,
  };
  if (linkKeyOrigin(source) === 'random') {
    process.stderr.write(
      'holds-link: no shared link key: set GATE_LINK_SECRET (or STRIPE_SECRET_KEY) for this command and the server alike; on the embedded Stripe emulator each process signs with a random key of its own\n',
    );
    return 1;
  }
  const links = new RunPageLinks({
    key: runPageLinkKey(source),
    publicUrl: config.runPage.publicUrl,
    defaultUrl: `http://${config.host}:${config.port}`,
    expiryMs: config.runPage.linkExpiryMs,
  });
  process.stdout.write(`${links.holdsUrl()}\n`);
  return 0;
}

process.exit(main());
