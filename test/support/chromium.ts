// The Chromium the browser tests drive with playwright-core: Debian's when it is installed, else the one
// the @sparticuz/chromium package ships (compressed in node_modules, unpacked to the temporary directory
// at first use, ~200 MB, then reused). No browser is ever downloaded and no test is skipped for want of one.
// TEST_PACKAGED_CHROMIUM=1 takes the packaged one even where Debian's is installed: CI proves the fresh path.
import { existsSync } from 'node:fs';
import Chromium from '@sparticuz/chromium';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumExecutable {
  path: string;
  /** For the test log: which Chromium, and where an unpacked one lives. */
  description: string;
}

export async function chromiumExecutable(): Promise<ChromiumExecutable> {
  if (process.env.TEST_PACKAGED_CHROMIUM !== '1' && existsSync(SYSTEM_CHROMIUM)) {
    return { path: SYSTEM_CHROMIUM, description: `Debian's Chromium (${SYSTEM_CHROMIUM})` };
  }
  // No WebGL in these tests: the software renderer (swiftshader) is not unpacked.
  Chromium.setGraphicsMode = false;
  const path = await Chromium.executablePath();
  return { path, description: `the packaged Chromium from @sparticuz/chromium, unpacked to ${path}` };
}
