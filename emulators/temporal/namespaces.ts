// Namespaces and the executions they hold. Everything is in memory; a namespace's data lives
// until the engine stops (retention is reported, not enforced).
import { randomUUID } from 'node:crypto';
import { alreadyExists, invalidArgument, namespaceNotFound, workflowNotFound } from './errors';
import type { Execution } from './execution';
import { DEFAULT_CUSTOM_SEARCH_ATTRIBUTES } from './search-attributes';
import type { SearchAttributeKind } from './visibility-query';

export interface NamespaceState {
  name: string;
  id: string;
  description: string;
  ownerEmail: string;
  retentionMs: number;
  data: Record<string, string>;
  /** Custom search attributes registered for this namespace. */
  searchAttributes: Map<string, SearchAttributeKind>;
  /** All runs of a workflow id, oldest first; the last one is the current run. */
  chains: Map<string, Execution[]>;
  runs: Map<string, Execution>;
}

export class Namespaces {
  private readonly byName = new Map<string, NamespaceState>();

  register(input: {
    name: string;
    description?: string;
    ownerEmail?: string;
    retentionMs?: number;
    data?: Record<string, string>;
  }): NamespaceState {
    if (!input.name) throw invalidArgument('Namespace name is required.');
    if (this.byName.has(input.name)) throw alreadyExists('Namespace already exists.');
    const ns: NamespaceState = {
      name: input.name,
      id: randomUUID(),
      description: input.description ?? '',
      ownerEmail: input.ownerEmail ?? '',
      retentionMs: input.retentionMs || 24 * 3600_000,
      data: input.data ?? {},
      searchAttributes: new Map(Object.entries(DEFAULT_CUSTOM_SEARCH_ATTRIBUTES)),
      chains: new Map(),
      runs: new Map(),
    };
    this.byName.set(ns.name, ns);
    return ns;
  }

  get(name: string | null | undefined): NamespaceState {
    if (!name) throw invalidArgument('Namespace is not set on request.');
    const ns = this.byName.get(name);
    if (!ns) throw namespaceNotFound(name);
    return ns;
  }

  find(name: string): NamespaceState | undefined {
    return this.byName.get(name);
  }

  byId(id: string): NamespaceState | undefined {
    for (const ns of this.byName.values()) if (ns.id === id) return ns;
    return undefined;
  }

  all(): NamespaceState[] {
    return [...this.byName.values()];
  }
}

export function currentRun(ns: NamespaceState, workflowId: string): Execution | undefined {
  const chain = ns.chains.get(workflowId);
  return chain?.[chain.length - 1];
}

/** Resolves {workflowId, runId?} the way the server does: an empty run id means the current run. */
export function findRun(
  ns: NamespaceState,
  execution: { workflowId?: string | null; runId?: string | null } | null | undefined,
): Execution {
  const workflowId = execution?.workflowId;
  if (!workflowId) throw invalidArgument('WorkflowId is not set on request.');
  const runId = execution?.runId;
  if (runId) {
    const run = ns.runs.get(runId);
    if (!run || run.workflowId !== workflowId) throw workflowNotFound(workflowId, runId);
    return run;
  }
  const run = currentRun(ns, workflowId);
  if (!run) throw workflowNotFound(workflowId);
  return run;
}
