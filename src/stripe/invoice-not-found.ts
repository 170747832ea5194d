// The failure type readInvoice raises when Stripe has no such invoice (a deleted draft). Its own file so
// the workflow can import it without pulling the stripe package into the workflow bundle.
export const INVOICE_NOT_FOUND = 'StripeInvoiceNotFound';
