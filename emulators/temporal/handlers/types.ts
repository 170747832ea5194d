// The shape every service handler has: decoded request in, response object out.
import type { CancelSignal } from '../cancel-signal';

export interface CallContext {
  /** Aborted when the client cancels the call or the engine stops. */
  signal: CancelSignal;
  /** The call's deadline in epoch ms (Infinity when the client set none). */
  deadline: number;
  /** The client connection the call came on (one per HTTP/2 session), when the transport shows it. */
  connection?: ClientConnection;
}

/** A client connection; the same object for every call on it. */
export interface ClientConnection {
  onClose(listener: () => void): void;
}

// Requests are proto-loader objects; handlers read the fields they need from them.
export type Handler = (request: any, ctx: CallContext) => Promise<unknown>;

export type Handlers = Record<string, Handler>;
