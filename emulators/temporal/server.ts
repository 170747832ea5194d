// gRPC bootstrap: binds the service definitions to the engine's handlers. Every handler runs
// inside a catch, so a malformed request becomes an error status and never takes the server
// down; methods without a handler answer UNIMPLEMENTED with their name.
import {
  Server,
  ServerCredentials,
  status,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Engine } from './engine';
import { RpcError } from './errors';
import { healthHandlers } from './handlers/health';
import { operatorServiceHandlers } from './handlers/operator-service';
import { testServiceHandlers } from './handlers/test-service';
import { CallCancellation } from './cancel-signal';
import type { ClientConnection, Handlers } from './handlers/types';
import { workflowServiceHandlers } from './handlers/workflow-service';
import { loadServiceDefinitions } from './service-definitions';

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

/** Whether the request body was compressed (grpc-js keeps the grpc-encoding on its call object). */
function requestWasCompressed(call: any): boolean {
  const encoding = call?.call?.incomingEncoding;
  return typeof encoding === 'string' && encoding !== 'identity';
}

const connections = new WeakMap<object, ClientConnection>();

/**
 * The HTTP/2 session a unary call came on, as a ClientConnection (grpc-js keeps the stream on its
 * call object; undefined if a grpc-js version hides it). TestService time-skipping locks are
 * counted per connection with it.
 */
function connectionOf(call: any): ClientConnection | undefined {
  const session = (call?.call?.stream ?? call?.call?.nextCall?.stream)?.session;
  if (!session || typeof session.once !== 'function') return undefined;
  let connection = connections.get(session);
  if (!connection) {
    connection = { onClose: (listener) => session.once('close', listener) };
    connections.set(session, connection);
  }
  return connection;
}

export async function startGrpcServer(engine: Engine, host: string, port: number): Promise<RunningServer> {
  const defs = loadServiceDefinitions();
  const server = new Server({
    'grpc.max_receive_message_length': 128 * 1024 * 1024,
    'grpc.max_send_message_length': 128 * 1024 * 1024,
    // The SDK's Rust core pings idle connections; do not answer that with GOAWAY.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 1_000,
    // No channelz bookkeeping (per-call counters and trackers): nothing reads it here.
    'grpc.enable_channelz': 0,
  });
  const inFlight = new Set<CallCancellation>();
  // Per-call tracing for debugging the engine itself (TEMPORAL_EMULATOR_TRACE=1).
  const traceCalls = process.env.TEMPORAL_EMULATOR_TRACE === '1';
  const openStreams = new Set<{ end(): void }>();
  const bind = (serviceName: string, def: ServiceDefinition, handlers: Handlers) => {
    const impl: UntypedServiceImplementation = {};
    for (const [method, md] of Object.entries(def)) {
      const handler = handlers[method];
      if (md.requestStream || md.responseStream) {
        impl[method] = (call: any) => {
          if (serviceName === 'grpc.health.v1.Health' && method === 'Watch') {
            // Health watchers get the status once and stay subscribed until they hang up.
            call.write({ status: engine.isStopped ? 'NOT_SERVING' : 'SERVING' });
            openStreams.add(call);
            call.on('cancelled', () => openStreams.delete(call));
            return;
          }
          call.emit('error', {
            code: status.UNIMPLEMENTED,
            details: `${serviceName}/${method} is not supported by the embedded Temporal engine (use Temporal Server for it)`,
          });
        };
        continue;
      }
      impl[method] = (call: any, callback: any) => {
        if (!handler) {
          callback({
            code: status.UNIMPLEMENTED,
            details: `${serviceName}/${method} is not supported by the embedded Temporal engine (use Temporal Server for it)`,
          });
          return;
        }
        if (method === 'GetSystemInfo' && requestWasCompressed(call)) {
          // Gzip costs this single-threaded, in-process engine more than the bytes it saves on
          // loopback (a fresh zlib stream per message). The Rust core reconnects uncompressed when
          // GetSystemInfo answers UNIMPLEMENTED mentioning grpc-encoding, so decline it here.
          callback({
            code: status.UNIMPLEMENTED,
            details:
              'grpc-encoding gzip: the embedded Temporal engine does not decompress requests; send them uncompressed',
          });
          return;
        }
        const ac = new CallCancellation();
        inFlight.add(ac);
        if (traceCalls) engine.log(`-> ${method}`);
        call.on('cancelled', () => ac.abort());
        const rawDeadline = call.getDeadline();
        const deadline = rawDeadline instanceof Date ? rawDeadline.getTime() : Number(rawDeadline);
        Promise.resolve()
          .then(() =>
            handler(call.request ?? {}, {
              signal: ac,
              deadline: Number.isFinite(deadline) ? deadline : Infinity,
              connection: connectionOf(call),
            }),
          )
          .then(
            (response) => callback(null, response),
            (err) => {
              if (err instanceof RpcError) {
                callback({ code: err.code, details: err.message, metadata: err.metadata() });
              } else {
                // A bug or an input we did not anticipate: report it, keep serving.
                engine.log(`${serviceName}/${method} failed: ${(err as Error)?.stack ?? err}`);
                const message =
                  err instanceof TypeError
                    ? `malformed request: ${err.message}`
                    : `internal error: ${(err as Error)?.message ?? err}`;
                callback({
                  code: err instanceof TypeError ? status.INVALID_ARGUMENT : status.INTERNAL,
                  details: message,
                });
              }
            },
          )
          .finally(() => inFlight.delete(ac));
      };
    }
    server.addService(def, impl);
  };
  bind('temporal.api.workflowservice.v1.WorkflowService', defs.workflowService, workflowServiceHandlers(engine));
  bind('temporal.api.operatorservice.v1.OperatorService', defs.operatorService, operatorServiceHandlers(engine));
  bind('temporal.api.testservice.v1.TestService', defs.testService, testServiceHandlers(engine));
  bind('grpc.health.v1.Health', defs.health, healthHandlers(engine));

  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });

  return {
    port: boundPort,
    async stop() {
      engine.stop();
      for (const ac of inFlight) ac.abort();
      for (const s of openStreams) s.end();
      openStreams.clear();
      // Give answered calls a moment to flush, then drop whatever is left.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
