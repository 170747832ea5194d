// Human durations for configuration: "90s", "30m", "4h", "1d", "1h30m", "500ms", or plain milliseconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Milliseconds for a duration text, or null when it is not one. Zero and negative durations are not durations. */
export function parseDuration(text: string): number | null {
  const input = text.trim().toLowerCase();
  if (/^\d+$/.test(input)) {
    const ms = Number(input);
    return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
  }
  if (input === '') return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const at = PART.lastIndex;
    const match = PART.exec(input);
    if (!match || match.index !== at) return null;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  const ms = Math.round(total);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

/** "4h", "1d2h", "90s", "250ms": the inverse of parseDuration for logs. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return `${ms}ms`;
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
