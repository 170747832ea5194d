// Conversions between the wire shapes proto-loader gives us (Timestamp/Duration as
// { seconds, nanos } with longs as numbers, bytes as Buffer) and milliseconds.

export interface ProtoTime {
  seconds: number | string | null;
  nanos: number | null;
}

export interface Payload {
  metadata?: Record<string, Buffer | Uint8Array> | null;
  data?: Buffer | Uint8Array | null;
}

export function msToTimestamp(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Durations share the Timestamp shape; 0 means "not set" for Temporal timeouts. */
export const msToDuration = msToTimestamp;

/** A timeout that may be unset: the server leaves unset workflow timeouts out (the SDK reads undefined). */
export function msToOptionalDuration(ms: number): { seconds: number; nanos: number } | null {
  return ms > 0 ? msToDuration(ms) : null;
}

export function protoTimeToMs(t: ProtoTime | null | undefined): number {
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1e6);
}

export const durationToMs = protoTimeToMs;

export function jsonPayload(value: unknown, extraMetadata: Record<string, string> = {}): Payload {
  const metadata: Record<string, Buffer> = { encoding: Buffer.from('json/plain') };
  for (const [k, v] of Object.entries(extraMetadata)) metadata[k] = Buffer.from(v);
  return { metadata, data: Buffer.from(JSON.stringify(value)) };
}

export function payloadMetadataString(p: Payload, key: string): string | undefined {
  const v = p.metadata?.[key];
  return v ? Buffer.from(v).toString('utf8') : undefined;
}

/** Decodes a json/plain payload; other encodings are opaque to the server (undefined). */
export function decodeJsonPayload(p: Payload): unknown {
  const encoding = payloadMetadataString(p, 'encoding');
  if (encoding !== undefined && encoding !== 'json/plain') return undefined;
  if (!p.data || p.data.length === 0) return null;
  return JSON.parse(Buffer.from(p.data).toString('utf8'));
}
