// Task tokens are opaque to the SDK; ours are small JSON documents naming what they complete.
import { invalidArgument } from './errors';

export type TaskToken =
  | { t: 'wft'; ns: string; run: string; seq: number }
  | { t: 'act'; ns: string; run: string; sid: number; seq: number }
  | { t: 'query'; id: string };

export function encodeTaskToken(token: TaskToken): Buffer {
  return Buffer.from(JSON.stringify(token));
}

export function decodeTaskToken(raw: Uint8Array | null | undefined): TaskToken {
  if (!raw || raw.length === 0) throw invalidArgument('Task token not set on request.');
  try {
    const token = JSON.parse(Buffer.from(raw).toString('utf8')) as TaskToken;
    if (token && (token.t === 'wft' || token.t === 'act' || token.t === 'query')) return token;
  } catch {
    // fall through
  }
  throw invalidArgument('Error deserializing task token.');
}
