// The ledger filter (INVOICE_GATE_CONFIG ledger.filter) is raw SQL placed inside `(...)` of the
// ledger queries: it must stay one expression there. `environment = 'production') or (true` closes
// the wrapper's parenthesis and counts every customer's rows, so the filter is scanned the way
// PostgreSQL reads it: quoted strings and identifiers are skipped, and outside them the parentheses
// must balance and nothing may end the statement or hide the rest of the query.

/** Why `filter` is not one self-contained SQL expression, or null when it is. */
export function sqlFilterProblem(filter: string): string | null {
  // E'...' strings take backslash escapes, which would make the scanner and PostgreSQL disagree on
  // where a string ends; a ledger filter has no need for them.
  if (filter.includes('\\')) return 'must not contain a backslash';
  let depth = 0;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped quote; the string or identifier ends at a single one.
      let end = i + 1;
      while (end < filter.length && !(filter[end] === c && filter[end + 1] !== c)) end += filter[end] === c ? 2 : 1;
      if (end >= filter.length) return `has an unterminated ${c === "'" ? 'string' : 'quoted identifier'}`;
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')') {
      if (--depth < 0) return 'closes a parenthesis it did not open';
    } else if (c === ';') return 'must be a single expression (no ";")';
    else if (filter.startsWith('--', i) || filter.startsWith('/*', i)) return 'must not contain SQL comments';
    // Dollar quoting ($tag$...$tag$) would be a string the scanner does not see.
    else if (c === '$') return 'must not use $ outside quoted strings';
  }
  return depth === 0 ? null : 'leaves a parenthesis open';
}
