// The sweeper's public Temporal surface: one sweeper per namespace, whichever worker starts it.
export const INVOICE_SWEEPER_WORKFLOW_TYPE = 'invoiceSweeper';

/** Every worker starts the sweeper under this id (USE_EXISTING), so several workers share one. */
export const INVOICE_SWEEPER_WORKFLOW_ID = 'invoice-gate-sweeper';
