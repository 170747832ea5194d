// Errors with a gRPC status code. Handlers throw these; the server bootstrap turns them into the
// status (and, where the SDK looks for them, the google.rpc.Status details) a real server sends.
import { Metadata, status } from '@grpc/grpc-js';
import { google, temporal } from '@temporalio/proto';

export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly detail?: { typeName: string; value: Uint8Array },
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** Metadata carrying grpc-status-details-bin, which the client decodes for typed errors. */
  metadata(): Metadata | undefined {
    if (!this.detail) return undefined;
    const encoded = google.rpc.Status.encode({
      code: this.code,
      message: this.message,
      details: [{ type_url: `type.googleapis.com/${this.detail.typeName}`, value: this.detail.value }],
    }).finish();
    const md = new Metadata();
    md.set('grpc-status-details-bin', Buffer.from(encoded));
    return md;
  }
}

export const invalidArgument = (message: string) => new RpcError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new RpcError(status.NOT_FOUND, message);
export const failedPrecondition = (message: string) => new RpcError(status.FAILED_PRECONDITION, message);
export const unimplemented = (method: string) =>
  new RpcError(
    status.UNIMPLEMENTED,
    `${method} is not supported by the embedded Temporal engine (use Temporal Server for it)`,
  );

export function namespaceNotFound(namespace: string): RpcError {
  return new RpcError(status.NOT_FOUND, `Namespace ${namespace} is not found.`, {
    typeName: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure',
    value: temporal.api.errordetails.v1.NamespaceNotFoundFailure.encode({ namespace }).finish(),
  });
}

export function workflowNotFound(workflowId: string, runId?: string | null): RpcError {
  return notFound(
    runId
      ? `workflow execution not found for workflow ID "${workflowId}" and run ID "${runId}"`
      : `workflow execution not found for workflow ID "${workflowId}"`,
  );
}

export function workflowAlreadyStarted(workflowId: string, startRequestId: string, runId: string): RpcError {
  return new RpcError(
    status.ALREADY_EXISTS,
    `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${runId}.`,
    {
      typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
      value: temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure.encode({
        startRequestId,
        runId,
      }).finish(),
    },
  );
}

export function alreadyExists(message: string): RpcError {
  return new RpcError(status.ALREADY_EXISTS, message);
}
