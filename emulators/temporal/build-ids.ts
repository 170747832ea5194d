// Build ids of the workers that complete workflow tasks. The server records the worker's version
// on WorkflowTaskCompleted (core reads it back on replay as `workflowInfo().currentBuildId`) and
// keeps the BuildIds search attribute: `unversioned` plus `unversioned:<build id>` for every build
// id that completed a task (`versioned:<build id>` for workers that opted into versioning).
import type { Execution } from './execution';
import { jsonPayload, decodeJsonPayload } from './proto-values';

export interface WorkerVersionStamp {
  buildId: string;
  useVersioning: boolean;
}

/** SDK 1.24 workers send their build id as `binaryChecksum`; newer ones send a version stamp. */
export function workerVersionOf(request: {
  workerVersionStamp?: { buildId?: string | null; useVersioning?: boolean | null } | null;
  binaryChecksum?: string | null;
}): WorkerVersionStamp | null {
  const stamp = request.workerVersionStamp;
  if (stamp?.buildId) return { buildId: stamp.buildId, useVersioning: Boolean(stamp.useVersioning) };
  if (request.binaryChecksum) return { buildId: request.binaryChecksum, useVersioning: false };
  return null;
}

/** Adds the worker's build id to the run's BuildIds search attribute (in first-seen order). */
export function recordBuildId(execution: Execution, version: WorkerVersionStamp | null): void {
  const entries = version?.useVersioning
    ? [`versioned:${version.buildId}`]
    : ['unversioned', ...(version ? [`unversioned:${version.buildId}`] : [])];
  const current = execution.searchAttributes.BuildIds;
  const known = current ? ((decodeJsonPayload(current) as string[] | null) ?? []) : [];
  const next = [...known, ...entries.filter((e) => !known.includes(e))];
  if (next.length === known.length) return;
  execution.searchAttributes = {
    ...execution.searchAttributes,
    BuildIds: jsonPayload(next, { type: 'KeywordList' }),
  };
}
