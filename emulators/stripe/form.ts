// Decodes Stripe's form encoding (`a[b][0]=x`, `expand[]=y`) into nested objects and arrays,
// as the `stripe` package produces it for both request bodies and query strings.

import { StripeApiError } from './errors';

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Params = { [key: string]: FormValue };

function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(key.slice(open))) !== null) parts.push(m[1]);
  return parts;
}

/** Objects whose keys are all array indexes (or `[]` appends) become arrays. */
function arrayify(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) {
    return Array.isArray(value) ? value.map(arrayify) : value;
  }
  const keys = Object.keys(value);
  for (const k of keys) value[k] = arrayify(value[k]);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k) || k.startsWith('\u0000'))) {
    return keys.sort((a, b) => order(a) - order(b)).map((k) => value[k] as FormValue);
  }
  return value;
}
function order(k: string): number {
  return k.startsWith('\u0000') ? 1e9 + Number(k.slice(1)) : Number(k);
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new StripeApiError(
      400,
      'invalid_request_error',
      `Invalid request body: cannot decode '${raw.slice(0, 40)}'.`,
    );
  }
}

export function parseForm(body: string): Params {
  const root: { [key: string]: FormValue } = {};
  let appendCounter = 0;
  if (!body) return root;
  for (const pair of body.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    const parts = splitKey(key);
    let node: { [key: string]: FormValue } = root;
    for (let i = 0; i < parts.length; i++) {
      let part = parts[i];
      if (part === '') part = '\u0000' + appendCounter++;
      if (i === parts.length - 1) {
        node[part] = value;
      } else {
        const next = node[part];
        if (next === undefined || typeof next === 'string' || Array.isArray(next)) {
          node[part] = {};
        }
        node = node[part] as { [key: string]: FormValue };
      }
    }
  }
  return arrayify(root) as Params;
}

/** JSON parameters (as an admin call takes them) in the decoded form shape: scalars become strings. */
export function jsonToParams(value: Record<string, unknown>): Params {
  const convert = (v: unknown): FormValue => {
    if (Array.isArray(v)) return v.map(convert);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    return v === null || v === undefined ? '' : String(v as string | number | boolean);
  };
  return convert(value) as Params;
}
