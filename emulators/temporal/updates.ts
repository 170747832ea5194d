// Workflow Updates, as Temporal Server runs them (service/history/workflow/update): an update is
// admitted in memory, goes to the worker as a protocol message in the next workflow task, and the
// worker's messages decide it. Acceptance writes WorkflowExecutionUpdateAccepted, the response
// WorkflowExecutionUpdateCompleted; a validator's rejection writes nothing (and a workflow task that
// only carried rejected updates leaves no trace in history: the server's speculative task).
//
// Update ids are deduplicated per run: the same id again joins the first update and gets its
// outcome, also after the workflow closed. Rejected updates are forgotten, as on the server, so the
// same id again is validated again.
import { status } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import type { CancelSignal } from './cancel-signal';
import type { Engine } from './engine';
import { RpcError, invalidArgument, notFound } from './errors';
import type { Execution, ExecutionStatus } from './execution';

export type UpdateStage = 'admitted' | 'accepted' | 'completed';

const STAGE_ENUM: Record<UpdateStage, string> = {
  admitted: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED',
  accepted: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED',
  completed: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED',
};
const STAGE_RANK: Record<UpdateStage, number> = { admitted: 1, accepted: 2, completed: 3 };

/** The stage a wait policy asks for; unset means ADMITTED, as on the server. */
export function requestedStage(lifecycleStage: string | null | undefined): UpdateStage {
  switch (lifecycleStage) {
    case 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED':
      return 'accepted';
    case 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED':
      return 'completed';
    default:
      return 'admitted';
  }
}

const TYPE_URL_PREFIX = 'type.googleapis.com/';
const updateTypes = temporal.api.update.v1;

// The failure an accepted update gets when its workflow closes first (the server's own words).
const ACCEPTED_UPDATE_COMPLETED_WORKFLOW = {
  message: 'Workflow Update failed because the Workflow completed before the Update completed.',
  source: 'Server',
  stackTrace: '',
  encodedAttributes: null,
  cause: null,
  applicationFailureInfo: { type: 'AcceptedUpdateCompletedWorkflow', nonRetryable: true, details: null },
};

export interface UpdateState {
  id: string;
  /** temporal.api.update.v1.Request as the client sent it (proto-loader shape). */
  request: any;
  stage: UpdateStage;
  /** Handed to the worker in the workflow task now running. */
  sent: boolean;
  acceptedEventId: number;
  outcome: unknown | null;
  /**
   * Why an update ended without an outcome: its workflow closed before accepting it ('closed', the
   * server's NotFound) or continued as new ('continuing': the server retries on the new run).
   */
  aborted: 'closed' | 'continuing' | null;
  readonly listeners: Set<() => void>;
}

interface Registry {
  readonly updates: Map<string, UpdateState>;
  /** The worker's messages of the completion being applied, by message id. */
  incoming: Map<string, any> | null;
  /** seq of a running workflow task that carries only updates (nothing new in history). */
  speculativeTaskSeq: number;
  /** History length right after the last completion's own events: anything beyond is new. */
  settledLength: number;
}

const registries = new WeakMap<Execution, Registry>();

function registryOf(execution: Execution): Registry {
  let r = registries.get(execution);
  if (!r) {
    r = { updates: new Map(), incoming: null, speculativeTaskSeq: 0, settledLength: 0 };
    registries.set(execution, r);
  }
  return r;
}

function changed(update: UpdateState): void {
  for (const l of [...update.listeners]) l();
}

export function findUpdate(execution: Execution, updateId: string): UpdateState | undefined {
  return registries.get(execution)?.updates.get(updateId);
}

/**
 * UpdateWorkflowExecution: joins an update with the same id, or admits a new one and makes sure a
 * workflow task will carry it. A closed run answers with the outcome of an update it already
 * decided, else NotFound as the server does.
 */
export function admitUpdate(engine: Engine, execution: Execution, request: any): UpdateState {
  const updateId = request?.meta?.updateId;
  if (!updateId) throw invalidArgument('Update ID is not set on request.');
  if (!request.input?.name) throw invalidArgument('Update name is not set on request.');
  const existing = findUpdate(execution, updateId);
  if (existing && !existing.aborted) return existing;
  if (!execution.running) throw notFound('workflow execution already completed');
  const update: UpdateState = {
    id: updateId,
    request,
    stage: 'admitted',
    sent: false,
    acceptedEventId: 0,
    outcome: null,
    aborted: null,
    listeners: new Set(),
  };
  registryOf(execution).updates.set(updateId, update);
  // A task that is queued picks the update up when it starts; a running one is followed by another.
  engine.workflowTasks.schedule(execution);
  return update;
}

/** Waits (bounded) until the update reaches `stage`, is decided, or is aborted. */
export async function waitForStage(
  update: UpdateState,
  stage: UpdateStage,
  budgetMs: number,
  signal: CancelSignal,
): Promise<void> {
  const reached = () => update.aborted !== null || STAGE_RANK[update.stage] >= STAGE_RANK[stage];
  if (reached() || budgetMs <= 0 || signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      update.listeners.delete(check);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const check = () => {
      if (reached()) done();
    };
    const timer = setTimeout(done, budgetMs);
    update.listeners.add(check);
    signal.addEventListener('abort', done);
  });
}

/** The response to UpdateWorkflowExecution / PollWorkflowExecutionUpdate for an update's state now. */
export function updateResponse(execution: Execution, update: UpdateState) {
  if (update.aborted) throw notFound('workflow execution already completed');
  return {
    updateRef: {
      workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
      updateId: update.id,
    },
    outcome: update.outcome,
    stage: STAGE_ENUM[update.stage],
    link: null,
  };
}

// ------------------------------------------------------------------ workflow tasks

/**
 * Protocol messages for a workflow task being handed out: every admitted update not yet accepted.
 * As on the server, each is sequenced after the task's WorkflowTaskScheduled event.
 */
export function outgoingMessages(execution: Execution, taskSeq: number, startedEventId: number): unknown[] {
  const registry = registries.get(execution);
  if (!registry) return [];
  const messages: unknown[] = [];
  for (const update of registry.updates.values()) {
    if (update.stage !== 'admitted' || update.aborted) continue;
    update.sent = true;
    messages.push({
      id: `${update.id}/request`,
      protocolInstanceId: update.id,
      eventId: startedEventId - 1,
      body: {
        // The descriptor proto-loader was built from keeps Any's field names as in the .proto.
        type_url: `${TYPE_URL_PREFIX}temporal.api.update.v1.Request`,
        value: Buffer.from(updateTypes.Request.encode(updateTypes.Request.fromObject(update.request)).finish()),
      },
    });
  }
  // Nothing new since the last completion but updates (the task's own Scheduled and Started are
  // the last two events): a rejection then leaves no trace (see isRejectionOnlyCompletion).
  registry.speculativeTaskSeq =
    messages.length > 0 && registry.settledLength === execution.history.length - 2 ? taskSeq : 0;
  return messages;
}

/** A completion's own events are written: what comes after them is new to the workflow. */
export function markHistorySettled(execution: Execution): void {
  registryOf(execution).settledLength = execution.history.length;
}

/** Updates admitted and not yet handed to a worker: they need a workflow task. */
export function hasUnsentUpdates(execution: Execution): boolean {
  const registry = registries.get(execution);
  if (!registry) return false;
  for (const u of registry.updates.values()) if (u.stage === 'admitted' && !u.sent && !u.aborted) return true;
  return false;
}

/** The task that carried them failed or timed out: the next task carries them again. */
export function requeueSentUpdates(execution: Execution): void {
  const registry = registries.get(execution);
  if (!registry) return;
  registry.speculativeTaskSeq = 0;
  for (const u of registry.updates.values()) u.sent = false;
}

/**
 * Whether a completion of the task `taskSeq` may be dropped from history: the task carried only
 * updates, and the worker rejected them all without a command (the server's speculative task).
 */
export function isRejectionOnlyCompletion(execution: Execution, taskSeq: number, request: any): boolean {
  const registry = registries.get(execution);
  if (!registry || registry.speculativeTaskSeq !== taskSeq) return false;
  const commands: any[] = request.commands ?? [];
  const messages: any[] = request.messages ?? [];
  if (commands.length > 0 || request.forceCreateNewWorkflowTask) return false;
  return messages.length > 0 && messages.every((m) => bodyType(m.body) === 'temporal.api.update.v1.Rejection');
}

/** Keeps the completion's messages for the protocol-message commands that refer to them. */
export function receiveMessages(execution: Execution, messages: any[] | null | undefined): void {
  const registry = registryOf(execution);
  registry.speculativeTaskSeq = 0;
  registry.incoming = new Map((messages ?? []).map((m) => [m.id, m]));
}

/** COMMAND_TYPE_PROTOCOL_MESSAGE: applies the message it names, in command order. */
export function applyMessageCommand(engine: Engine, execution: Execution, messageId: string): void {
  const registry = registries.get(execution);
  const message = registry?.incoming?.get(messageId);
  if (!registry || !message) return;
  registry.incoming!.delete(messageId);
  applyMessage(engine, execution, message);
}

/** Messages no command named (rejections), after the commands; then unanswered updates go again. */
export function applyRemainingMessages(engine: Engine, execution: Execution): void {
  const registry = registries.get(execution);
  if (!registry?.incoming) return;
  const rest = [...registry.incoming.values()];
  registry.incoming = null;
  for (const message of rest) applyMessage(engine, execution, message);
  for (const u of registry.updates.values()) u.sent = false;
}

function bodyType(body: any): string {
  const url: string = body?.typeUrl ?? body?.type_url ?? '';
  return url.startsWith(TYPE_URL_PREFIX) ? url.slice(TYPE_URL_PREFIX.length) : url;
}

function decodeBody(type: { decode(b: Uint8Array): any; toObject(m: any, o: object): any }, body: any): any {
  return type.toObject(type.decode(body.value ?? new Uint8Array()), { longs: Number, enums: String, defaults: false });
}

function applyMessage(engine: Engine, execution: Execution, message: any): void {
  const update = findUpdate(execution, message.protocolInstanceId);
  if (!update || update.aborted) {
    engine.log(`update message ${message.id} for an unknown update ${message.protocolInstanceId}: ignored`);
    return;
  }
  const now = engine.now();
  switch (bodyType(message.body)) {
    case 'temporal.api.update.v1.Acceptance': {
      if (update.stage !== 'admitted' || !execution.running) return;
      const acceptance = decodeBody(updateTypes.Acceptance, message.body);
      const event = execution.addEvent(
        'WorkflowExecutionUpdateAccepted',
        {
          protocolInstanceId: update.id,
          acceptedRequestMessageId: acceptance.acceptedRequestMessageId ?? `${update.id}/request`,
          acceptedRequestSequencingEventId: acceptance.acceptedRequestSequencingEventId ?? 0,
          // The server records the request it admitted, whatever the worker echoes.
          acceptedRequest: update.request,
        },
        now,
      );
      update.stage = 'accepted';
      update.acceptedEventId = event.eventId;
      changed(update);
      return;
    }
    case 'temporal.api.update.v1.Response': {
      if (update.stage !== 'accepted' || !execution.running) return;
      const response = decodeBody(updateTypes.Response, message.body);
      execution.addEvent(
        'WorkflowExecutionUpdateCompleted',
        {
          meta: response.meta ?? update.request.meta,
          acceptedEventId: update.acceptedEventId,
          outcome: response.outcome,
        },
        now,
      );
      update.stage = 'completed';
      update.outcome = response.outcome;
      changed(update);
      return;
    }
    case 'temporal.api.update.v1.Rejection': {
      if (update.stage !== 'admitted') return;
      const rejection = decodeBody(updateTypes.Rejection, message.body);
      update.stage = 'completed';
      update.outcome = { failure: rejection.failure };
      registryOf(execution).updates.delete(update.id);
      changed(update);
      return;
    }
    default:
      engine.log(`update message ${message.id} of type ${bodyType(message.body)}: ignored`);
  }
}

// ------------------------------------------------------------------ close

/**
 * The run closed: updates it accepted fail with the server's AcceptedUpdateCompletedWorkflow;
 * updates it had not accepted end without an outcome (NotFound to their callers, or, after
 * continue-as-new, a retry on the new run for callers that did not name this run).
 */
export function abortUpdates(execution: Execution, closeStatus: ExecutionStatus): void {
  const registry = registries.get(execution);
  if (!registry) return;
  registry.incoming = null;
  for (const update of [...registry.updates.values()]) {
    if (update.stage === 'completed') continue;
    if (update.stage === 'accepted') {
      update.stage = 'completed';
      update.outcome = { failure: ACCEPTED_UPDATE_COMPLETED_WORKFLOW };
    } else {
      update.aborted = closeStatus === 'ContinuedAsNew' ? 'continuing' : 'closed';
      registry.updates.delete(update.id);
    }
    changed(update);
  }
}

/** A close command while updates wait to be handed to the worker: the server refuses it. */
export function closesOverUnsentUpdates(execution: Execution, commands: any[]): boolean {
  if (!hasUnsentUpdates(execution)) return false;
  return commands.some((c) =>
    [
      'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
      'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION',
      'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION',
      'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
    ].includes(c.commandType),
  );
}

/** The error an update's caller gets when its run closed before accepting it. */
export function abortedError(): RpcError {
  return new RpcError(status.NOT_FOUND, 'workflow execution already completed');
}
