// The gate's custom search attributes (docs/contract.md "Temporal"). Workflow-safe: imports only
// @temporalio/common, so the workflow bundle can use these keys with upsertSearchAttributes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Gate status of the invoice, e.g. "held"; filter `InvoiceGateStatus="held"` in the Web UI. */
export const InvoiceGateStatusKey = defineSearchAttributeKey('InvoiceGateStatus', SearchAttributeType.KEYWORD);
export const StripeCustomerIdKey = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);
export const StripeInvoiceIdKey = defineSearchAttributeKey('StripeInvoiceId', SearchAttributeType.KEYWORD);
/** Largest line variance in percent. */
export const GateVariancePctKey = defineSearchAttributeKey('GateVariancePct', SearchAttributeType.DOUBLE);

/** A typed search attribute key (the type `defineSearchAttributeKey` returns). */
export type GateSearchAttributeKey = ReturnType<typeof defineSearchAttributeKey<SearchAttributeType>>;

/** Every custom search attribute the gate writes; registration and the compose file follow this list. */
export const INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS: readonly GateSearchAttributeKey[] = [
  InvoiceGateStatusKey,
  StripeCustomerIdKey,
  StripeInvoiceIdKey,
  GateVariancePctKey,
];
