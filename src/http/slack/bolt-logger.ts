// The logging surface the Slack pieces need (a pino Logger satisfies it), and an adapter to the
// Logger interface Bolt and @slack/web-api expect.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';

export interface GateLogger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** Bolt and web-api log with positional strings; keep them structured under `slack`. */
export function toBoltLogger(log: GateLogger, name = 'slack'): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const enabled = (l: LogLevel) => order.indexOf(l) >= order.indexOf(level);
  const fmt = (msg: unknown[]) =>
    msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => enabled(LogLevel.DEBUG) && log.debug({ component: name }, fmt(msg)),
    info: (...msg: unknown[]) => enabled(LogLevel.INFO) && log.info({ component: name }, fmt(msg)),
    warn: (...msg: unknown[]) => enabled(LogLevel.WARN) && log.warn({ component: name }, fmt(msg)),
    error: (...msg: unknown[]) => enabled(LogLevel.ERROR) && log.error({ component: name }, fmt(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}
