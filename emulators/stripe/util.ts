// Small helpers shared by the handlers: reading form params, ids, copies, list pagination.
import { randomBytes } from 'node:crypto';
import { parameterInvalid, parameterMissing, parameterUnknown } from './errors';
import type { FormValue, Params } from './form';

// Stripe objects are kept as plain JSON documents in exactly the shape the API returns.
export type Obj = Record<string, any>;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] % ALPHABET.length];
  return `${prefix}_${out}`;
}

export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Rejects parameters the endpoint does not know, as Stripe does (`expand` is always allowed). */
export function allow(params: Params, names: string[]): void {
  for (const key of Object.keys(params)) {
    if (key !== 'expand' && !names.includes(key)) throw parameterUnknown(key);
  }
}

export function optString(params: Params | FormValue | undefined, name: string, path = name): string | undefined {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return undefined;
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw parameterInvalid(path, `Invalid string: ${JSON.stringify(v)}`);
  return v;
}

export function reqString(params: Params | FormValue | undefined, name: string, path = name): string {
  const v = optString(params, name, path);
  if (v === undefined || v === '') throw parameterMissing(path);
  return v;
}

export function optInt(params: Params | FormValue | undefined, name: string, path = name): number | undefined {
  const v = optString(params, name, path);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw parameterInvalid(path, `Invalid integer: ${v}`);
  return Number(v);
}

export function optBool(params: Params | FormValue | undefined, name: string, path = name): boolean | undefined {
  const v = optString(params, name, path);
  if (v === undefined || v === '') return undefined;
  if (v !== 'true' && v !== 'false') throw parameterInvalid(path, `Invalid boolean: ${v}`);
  return v === 'true';
}

export function optObject(params: Params | FormValue | undefined, name: string): Params | undefined {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return undefined;
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw parameterInvalid(name, `Invalid hash`);
  return v;
}

export function optArray(params: Params | FormValue | undefined, name: string): FormValue[] | undefined {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return undefined;
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (!Array.isArray(v)) throw parameterInvalid(name, `Invalid array`);
  return v;
}

export function optDecimalString(
  params: Params | FormValue | undefined,
  name: string,
  path = name,
): string | undefined {
  const v = optString(params, name, path);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw parameterInvalid(path, `Invalid decimal: ${v}`);
  return v;
}

/** Applies `metadata[...]` updates: an empty value removes the key, `metadata=''` clears all. */
export function applyMetadata(current: Record<string, string>, params: Params): Record<string, string> {
  const v = params.metadata;
  if (v === undefined) return current;
  if (v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw parameterInvalid('metadata', 'Invalid hash');
  const next = { ...current };
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw parameterInvalid(`metadata[${k}]`, 'Invalid string');
    if (val === '') delete next[k];
    else next[k] = val;
  }
  return next;
}

export interface ListPage {
  object: 'list';
  data: Obj[];
  has_more: boolean;
  url: string;
}

/** Stripe list pagination over items already in list order (newest first). */
export function paginate(items: Obj[], params: Params, url: string): ListPage {
  const limit = optInt(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw parameterInvalid('limit', `Invalid limit: must be between 1 and 100`);
  }
  const startingAfter = optString(params, 'starting_after');
  const endingBefore = optString(params, 'ending_before');
  if (startingAfter) {
    const i = items.findIndex((o) => o.id === startingAfter);
    if (i < 0) throw parameterInvalid('starting_after', `No such object: '${startingAfter}'`);
    const rest = items.slice(i + 1);
    return { object: 'list', data: rest.slice(0, limit), has_more: rest.length > limit, url };
  }
  if (endingBefore) {
    const i = items.findIndex((o) => o.id === endingBefore);
    if (i < 0) throw parameterInvalid('ending_before', `No such object: '${endingBefore}'`);
    const before = items.slice(0, i);
    return {
      object: 'list',
      data: before.slice(Math.max(0, before.length - limit)),
      has_more: before.length > limit,
      url,
    };
  }
  return { object: 'list', data: items.slice(0, limit), has_more: items.length > limit, url };
}

function isHash(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Stripe's `data.previous_attributes` for an update from `before` to `after`: every changed key
 * with its prior value; nested hashes show only their changed keys (a key that did not exist
 * before is null), arrays are shown whole (API versions since 2015-01-26 and 2017-05-25).
 */
export function previousAttributes(before: Obj, after: Obj): Obj | undefined {
  const prev: Obj = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[key];
    const a = after[key];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    if (isHash(b) && isHash(a)) {
      const nested = previousAttributes(b, a);
      if (nested) prev[key] = nested;
    } else {
      prev[key] = b === undefined ? null : clone(b);
    }
  }
  return Object.keys(prev).length > 0 ? prev : undefined;
}

/**
 * A list filter on a timestamp field: `created=<ts>` (equal) or `created[gt|gte|lt|lte]=<ts>`,
 * as Stripe's list endpoints take it. Returns a predicate, or undefined without the parameter.
 */
export function rangeFilter(params: Params, name: string): ((value: number | null) => boolean) | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'string') {
    const exact = optInt(params, name);
    return exact === undefined ? undefined : (x) => x === exact;
  }
  if (!isHash(v)) throw parameterInvalid(name, `Invalid ${name}: must be an integer or a hash of gt, gte, lt, lte`);
  const bounds: Array<[string, (x: number, b: number) => boolean]> = [
    ['gt', (x, b) => x > b],
    ['gte', (x, b) => x >= b],
    ['lt', (x, b) => x < b],
    ['lte', (x, b) => x <= b],
  ];
  for (const key of Object.keys(v)) {
    if (!bounds.some(([k]) => k === key)) throw parameterUnknown(`${name}[${key}]`);
  }
  const checks = bounds.flatMap(([k, test]) => {
    const b = optInt(v as Params, k, `${name}[${k}]`);
    return b === undefined ? [] : [(x: number) => test(x, b)];
  });
  return (x) => x !== null && checks.every((c) => c(x));
}
