// Everything the worker's workflow bundle registers.
export { invoiceGate } from './invoice-gate';
export { invoiceSweeper } from './invoice-sweeper';
export { observeDigest } from './observe-digest';
export { invoiceBackfill } from './backfill';
