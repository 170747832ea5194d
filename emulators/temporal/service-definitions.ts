// Loads the gRPC service definitions the engine serves from the JSON descriptor that ships in
// @temporalio/proto, so the wire format is exactly the one the SDK was built against.
import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';

export interface TemporalServiceDefinitions {
  workflowService: ServiceDefinition;
  operatorService: ServiceDefinition;
  testService: ServiceDefinition;
  health: ServiceDefinition;
}

let cached: TemporalServiceDefinitions | undefined;

/** Parsing the descriptor takes a few hundred ms; it is done once per process. */
export function loadServiceDefinitions(): TemporalServiceDefinitions {
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const root = require('@temporalio/proto/protos/json-module');
  const pkg = protoLoader.fromJSON(root.toJSON(), {
    keepCase: false,
    longs: Number,
    enums: String,
    // defaults: true gives every unset scalar its zero value; unset messages still arrive as null.
    defaults: true,
    oneofs: true,
  });
  const get = (name: string): ServiceDefinition => {
    const def = pkg[name];
    if (!def) throw new Error(`service ${name} missing from @temporalio/proto`);
    return def as ServiceDefinition;
  };
  cached = {
    workflowService: get('temporal.api.workflowservice.v1.WorkflowService'),
    operatorService: get('temporal.api.operatorservice.v1.OperatorService'),
    testService: get('temporal.api.testservice.v1.TestService'),
    health: get('grpc.health.v1.Health'),
  };
  return cached;
}
