// A tiny Temporal frontend over real gRPC for wiring tests: GetSystemInfo, DescribeNamespace
// and the OperatorService search attribute calls. Everything else answers UNIMPLEMENTED.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@temporalio/proto/protos/json-module');
const definitions = fromJSON(root.toJSON(), {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

type Handler = (call: grpc.ServerUnaryCall<any, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

export interface FakeFrontend {
  address: string;
  /** namespace -> exists */
  namespaces: Set<string>;
  /** request metadata of every call, by method */
  metadata: Array<{ method: string; metadata: Record<string, unknown> }>;
  /** delay for DescribeNamespace, to test deadlines */
  describeDelayMs: number;
  stop(): Promise<void>;
}

function serviceImpl(service: grpc.ServiceDefinition, handlers: Record<string, Handler>): Record<string, Handler> {
  return Object.fromEntries(
    Object.keys(service).map((method) => [
      method,
      handlers[method] ??
        ((_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: `${method} unsupported by this fake` })),
    ]),
  );
}

export async function startFakeFrontend(operatorHandlers: Record<string, Handler> = {}): Promise<FakeFrontend> {
  const server = new grpc.Server();
  const fake: FakeFrontend = {
    address: '',
    namespaces: new Set(['default']),
    metadata: [],
    describeDelayMs: 0,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
  const record = (method: string, call: grpc.ServerUnaryCall<unknown, unknown>) =>
    fake.metadata.push({ method, metadata: call.metadata.getMap() });
  const workflowService = definitions[
    'temporal.api.workflowservice.v1.WorkflowService'
  ] as unknown as grpc.ServiceDefinition;
  const operatorService = definitions[
    'temporal.api.operatorservice.v1.OperatorService'
  ] as unknown as grpc.ServiceDefinition;
  server.addService(
    workflowService,
    serviceImpl(workflowService, {
      GetSystemInfo: (call, cb) => {
        record('GetSystemInfo', call);
        cb(null, { serverVersion: '1.29.1', capabilities: {} });
      },
      DescribeNamespace: (call, cb) => {
        record('DescribeNamespace', call);
        const name = (call.request as { namespace: string }).namespace;
        setTimeout(() => {
          if (!fake.namespaces.has(name))
            cb({ code: grpc.status.NOT_FOUND, details: `Namespace ${name} is not found.` });
          else cb(null, { namespaceInfo: { name, state: 'NAMESPACE_STATE_REGISTERED' } });
        }, fake.describeDelayMs);
      },
    }),
  );
  server.addService(operatorService, serviceImpl(operatorService, operatorHandlers));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  fake.address = `127.0.0.1:${port}`;
  return fake;
}
