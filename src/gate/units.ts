// The plain units every gate module counts in; the rule modules import them from here, not from types.ts,
// which imports their result types (a type-only circle otherwise).

/** A decimal number as a string, e.g. "1200" or "0.5". */
export type DecimalString = string;

/** Unix seconds, as Stripe uses them. */
export type UnixSeconds = number;

export type AggregationFormula = 'count' | 'sum' | 'last';
