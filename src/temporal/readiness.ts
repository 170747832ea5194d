// Readiness check for GET /readyz: Temporal is usable when the frontend answers for our namespace.
// DescribeNamespace (not just a TCP connect) also catches a wrong or deleted namespace.
import type { Connection } from '@temporalio/client';

/**
 * Returns a check that resolves when `namespace` can be described through `connection` within
 * `timeoutMs`, and rejects with the server's message otherwise. The gRPC deadline ends the call
 * itself, so a hanging frontend leaves no request behind.
 */
export function temporalReadinessCheck(
  connection: Connection,
  namespace: string,
  timeoutMs = 2000,
): () => Promise<void> {
  return async () => {
    try {
      await connection.withDeadline(Date.now() + timeoutMs, () =>
        connection.workflowService.describeNamespace({ namespace }),
      );
    } catch (err) {
      const message = (err as { details?: string; message?: string }).details || (err as Error).message || String(err);
      throw new Error(`Temporal namespace ${namespace}: ${message}`);
    }
  };
}
