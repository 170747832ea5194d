// Everything the worker's workflow bundle registers.
export { invoiceGate } from './invoice-gate';
export { invoiceSweeper } from './invoice-sweeper';
export { invoiceBackfill } from './backfill';
