// What the server needs from a Slack transport: HTTP (POST /slack/interactions, FastifyBoltReceiver)
// or Socket Mode (GateSocketModeReceiver). Both hand clicks to the same Bolt app and listeners.
import type { Receiver } from '@slack/bolt';
import type { FastifyPluginAsync } from 'fastify';

export interface SlackReceiver extends Receiver {
  readonly transport: 'http' | 'socket';
  /** Registered on the server: the interactivity route (HTTP), or a 404 saying clicks use Socket Mode. */
  readonly plugin: FastifyPluginAsync;
  /** Begins receiving once the server listens (Socket Mode connects in the background); returns at once. */
  startReceiving(): void;
  /** Stops receiving and waits (up to `timeoutMs`) for clicks still being handled. */
  stop(timeoutMs?: number): Promise<void>;
  /** Resolves once no click is being handled (or after `timeoutMs`). */
  drain(timeoutMs?: number): Promise<void>;
  /** Clicks still being handled after their ack. */
  readonly pending: number;
}
