// Node's spec reporter, plus the ten slowest test files (wall time of each file's process), printed just
// before the closing counts (`tests`, `pass`, `fail`, ...), which stay the last lines as CI reads them.
import { spec as SpecReporter } from 'node:test/reporters';
import { basename, relative } from 'node:path';

const SHOWN = 10;

export default async function* slowestFilesReporter(source) {
  const spec = new SpecReporter();
  const output = [];
  spec.on('data', (chunk) => output.push(chunk));
  const fileDurations = new Map();
  let tablePrinted = false;

  for await (const event of source) {
    const data = event.data ?? {};
    // Each file's own completion: the test named after its file, at the top level.
    if (event.type === 'test:complete' && data.nesting === 0 && data.file && data.name === data.file) {
      fileDurations.set(data.file, data.details?.duration_ms ?? 0);
    }
    // The run's plan comes right before the closing counts.
    if (event.type === 'test:plan' && data.nesting === 0 && !data.file && !tablePrinted) {
      tablePrinted = true;
      yield slowestFiles(fileDurations);
    }
    await new Promise((resolve, reject) => spec.write(event, (error) => (error ? reject(error) : resolve())));
    yield* output.splice(0);
  }
  if (!tablePrinted) yield slowestFiles(fileDurations);
  await new Promise((resolve) => spec.end(resolve));
  yield* output.splice(0);
}

/** A test file by its path in the repository; the runner's shared-process files by their name. */
function shownName(file) {
  const path = relative(process.cwd(), file);
  return path.startsWith('..') ? basename(file) : path;
}

function slowestFiles(durations) {
  const slowest = [...durations].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  if (slowest.length === 0) return '';
  const lines = slowest.map(([file, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${shownName(file)}`);
  return `\nslowest test files (of ${durations.size}):\n${lines.join('\n')}\n\n`;
}
