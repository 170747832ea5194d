// Socket Mode as Slack runs it: `apps.connections.open` (app-level token) hands out a single-use
// WebSocket URL; on connect Slack sends `hello`, then envelopes (`{ envelope_id, type, payload,
// accepts_response_payload }`) that the app acknowledges with `{ envelope_id, payload? }`. Envelopes
// not acknowledged in time are sent again with `retry_attempt` / `retry_reason`; `disconnect`
// messages (refresh_requested, warning, link_disabled) ask the app to reconnect.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

/** The path of the WebSocket URLs apps.connections.open hands out. */
export const SOCKET_MODE_PATH = '/link/';

export type DisconnectReason = 'refresh_requested' | 'warning' | 'link_disabled';

export interface SocketModeOptions {
  /** Slack answers within 3 s; after this an envelope counts as unacknowledged and is sent again. */
  ackTimeoutMs?: number;
  /** Redeliveries after the first attempt (Slack retries up to 3 times). */
  maxRetries?: number;
  /** WebSocket ping interval (Slack pings its clients; @slack/socket-mode watches for them). */
  pingIntervalMs?: number;
  /** A ticket not used within this time is refused. */
  ticketTtlMs?: number;
  log?: (msg: string) => void;
}

export interface SocketConnectionInfo {
  id: string;
  connectedAt: number;
  /** Envelopes sent on this connection (retries included). */
  envelopesSent: number;
}

export interface EnvelopeAttempt {
  connectionId: string;
  retryAttempt: number;
  sentAt: number;
}

export interface EnvelopeRecord {
  envelopeId: string;
  type: string;
  payload: Record<string, unknown>;
  attempts: EnvelopeAttempt[];
  /** When the ack arrived (ms since epoch), and what the app sent with it. */
  ackedAt?: number;
  ackPayload?: unknown;
  /** True once the retries ran out (or no connection was left) without an ack. */
  gaveUp: boolean;
}

export interface DeliveryReport {
  envelopeId: string;
  acked: boolean;
  /** Deliveries made: 1 + retries. */
  attempts: number;
  /** From the first delivery to the ack (or to giving up). */
  ms: number;
  /** Slack shows the user an error when the first delivery is not acknowledged within 3 s. */
  acknowledgedInTime: boolean;
  ackPayload?: unknown;
}

export class SocketModeError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

const ACK_DEADLINE_MS = 3000;

interface Ticket {
  expiresAt: number;
}

interface Connection {
  id: string;
  socket: WebSocket;
  connectedAt: number;
  envelopesSent: number;
  ping: NodeJS.Timeout;
}

interface Pending {
  record: EnvelopeRecord;
  resolve: () => void;
}

export class SocketModeHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, Ticket>();
  private readonly connections = new Map<string, Connection>();
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly envelopes: EnvelopeRecord[] = [];
  private nextConnection = 1;
  private readonly ackTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly pingIntervalMs: number;
  private readonly ticketTtlMs: number;
  private readonly log: (msg: string) => void;
  private closed = false;

  constructor(
    private readonly appId: string,
    private readonly host: () => string,
    opts: SocketModeOptions = {},
  ) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? ACK_DEADLINE_MS;
    this.maxRetries = opts.maxRetries ?? 3;
    this.pingIntervalMs = opts.pingIntervalMs ?? 10_000;
    this.ticketTtlMs = opts.ticketTtlMs ?? 60_000;
    this.log = opts.log ?? (() => {});
  }

  /** apps.connections.open: a fresh single-use WebSocket URL. */
  openConnectionUrl(baseUrl: string): string {
    const ticket = randomBytes(16).toString('hex');
    this.tickets.set(ticket, { expiresAt: Date.now() + this.ticketTtlMs });
    return `${baseUrl.replace(/^http/, 'ws')}${SOCKET_MODE_PATH}?ticket=${ticket}`;
  }

  /** The HTTP server's 'upgrade' handler: a known, unexpired ticket gets a WebSocket, anything else a 4xx. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.closed) return refuse(503, 'Service Unavailable');
    if (url.pathname !== SOCKET_MODE_PATH) return refuse(404, 'Not Found');
    const ticketId = url.searchParams.get('ticket') ?? '';
    const ticket = this.tickets.get(ticketId);
    // Tickets are single use, as Slack's are.
    this.tickets.delete(ticketId);
    if (!ticket || ticket.expiresAt < Date.now()) return refuse(401, 'Unauthorized');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(socket: WebSocket): void {
    const id = `conn-${this.nextConnection++}`;
    const connection: Connection = {
      id,
      socket,
      connectedAt: Date.now(),
      envelopesSent: 0,
      ping: setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.ping(`ping from emulator ${Date.now()}`);
      }, this.pingIntervalMs),
    };
    this.connections.set(id, connection);
    socket.on('message', (data: RawData, isBinary: boolean) => this.onMessage(connection, data, isBinary));
    socket.on('close', () => {
      clearInterval(connection.ping);
      this.connections.delete(id);
      this.log(`slack-emulator socket ${id} closed`);
    });
    socket.on('error', (error) => this.log(`slack-emulator socket ${id} error: ${error.message}`));
    this.log(`slack-emulator socket ${id} connected`);
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.connections.size,
        debug_info: {
          host: this.host(),
          started: new Date(connection.connectedAt).toISOString().replace('T', ' ').replace('Z', ''),
          build_number: 1,
          approximate_connection_time: 18060,
        },
        connection_info: { app_id: this.appId },
      }),
    );
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(rawText(data)) as typeof message;
    } catch {
      this.log(`slack-emulator socket ${connection.id}: unparseable message ignored`);
      return;
    }
    if (typeof message.envelope_id !== 'string') return;
    const pending = this.pending.get(message.envelope_id);
    if (!pending) return; // late or repeated ack: Slack ignores it too
    this.pending.delete(message.envelope_id);
    pending.record.ackedAt = Date.now();
    pending.record.ackPayload = message.payload;
    pending.resolve();
  }

  /** Open connections, oldest first. */
  listConnections(): SocketConnectionInfo[] {
    return [...this.connections.values()].map(({ id, connectedAt, envelopesSent }) => ({
      id,
      connectedAt,
      envelopesSent,
    }));
  }

  /**
   * Sends one envelope and waits until it is acknowledged, sending it again (on any open connection)
   * each time `ackTimeoutMs` passes without an ack, at most `maxRetries` times.
   */
  async deliver(
    type: 'interactive' | 'events_api' | 'slash_commands',
    payload: Record<string, unknown>,
    opts: { ackTimeoutMs?: number; maxRetries?: number } = {},
  ): Promise<DeliveryReport> {
    if (this.connections.size === 0) throw new SocketModeError('no_socket_connection');
    const ackTimeoutMs = opts.ackTimeoutMs ?? this.ackTimeoutMs;
    const maxRetries = opts.maxRetries ?? this.maxRetries;
    const record: EnvelopeRecord = { envelopeId: randomUUID(), type, payload, attempts: [], gaveUp: false };
    this.envelopes.push(record);
    const acked = new Promise<void>((resolve) => this.pending.set(record.envelopeId, { record, resolve }));
    const started = Date.now();
    let attempt = 0;
    while (attempt <= maxRetries) {
      const connection = this.pickConnection(attempt);
      if (!connection) break;
      const envelope: Record<string, unknown> = {
        envelope_id: record.envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
      };
      if (attempt > 0) {
        envelope.retry_attempt = attempt;
        envelope.retry_reason = 'timeout';
      }
      connection.socket.send(JSON.stringify(envelope));
      connection.envelopesSent += 1;
      record.attempts.push({ connectionId: connection.id, retryAttempt: attempt, sentAt: Date.now() });
      if (await this.within(acked, ackTimeoutMs)) break;
      attempt += 1;
    }
    if (record.ackedAt === undefined) {
      this.pending.delete(record.envelopeId);
      record.gaveUp = true;
    }
    const ackMs = (record.ackedAt ?? Date.now()) - started;
    return {
      envelopeId: record.envelopeId,
      acked: record.ackedAt !== undefined,
      attempts: record.attempts.length,
      ms: ackMs,
      acknowledgedInTime: record.ackedAt !== undefined && ackMs < ACK_DEADLINE_MS,
      ...(record.ackPayload !== undefined ? { ackPayload: record.ackPayload } : {}),
    };
  }

  /** Spreads retries over the open connections, as Slack may deliver to any of them. */
  private pickConnection(attempt: number): Connection | undefined {
    const open = [...this.connections.values()].filter((c) => c.socket.readyState === WebSocket.OPEN);
    return open.length === 0 ? undefined : open[attempt % open.length];
  }

  private within(acked: Promise<void>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(false);
      }, ms);
      this.timers.add(timer);
      void acked.then(() => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(true);
      });
    });
  }

  /**
   * Sends `disconnect` to every open connection (or one). The app is expected to close and
   * reconnect; a connection still open after `closeAfterMs` is closed by the emulator, as Slack does
   * when it recycles a host. `warning` only warns: nothing is closed.
   */
  disconnect(
    reason: DisconnectReason = 'refresh_requested',
    opts: { connectionId?: string; closeAfterMs?: number } = {},
  ) {
    const targets = [...this.connections.values()].filter((c) => !opts.connectionId || c.id === opts.connectionId);
    for (const connection of targets) {
      connection.socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: this.host() } }));
      if (reason === 'warning') continue;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (connection.socket.readyState === WebSocket.OPEN) connection.socket.close(1000, reason);
      }, opts.closeAfterMs ?? 1000);
      this.timers.add(timer);
    }
    return { disconnected: targets.map((c) => c.id) };
  }

  /** Forgets envelopes and tickets; open connections stay. */
  reset(): void {
    this.envelopes.length = 0;
    this.tickets.clear();
  }

  /**
   * Refuses new connections and closes the open ones with 1001 (going away), as a server shutting
   * down; a client that does not complete the close handshake within `graceMs` is cut off.
   */
  async close(graceMs = 500): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const pending of this.pending.values()) pending.resolve();
    this.pending.clear();
    const open = [...this.connections.values()];
    await Promise.all(
      open.map(
        (connection) =>
          new Promise<void>((resolve) => {
            clearInterval(connection.ping);
            if (connection.socket.readyState === WebSocket.CLOSED) return resolve();
            const cutOff = setTimeout(() => connection.socket.terminate(), graceMs);
            connection.socket.once('close', () => {
              clearTimeout(cutOff);
              resolve();
            });
            connection.socket.close(1001, 'server shutting down');
          }),
      ),
    );
    this.connections.clear();
    this.wss.close();
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
