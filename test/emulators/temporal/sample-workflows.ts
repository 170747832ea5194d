// Workflows shaped like temporalio/samples-typescript's (timer-examples, message-passing,
// early-return), for the conformance tests that reproduce those samples' own tests on the engine.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  proxySinks,
  setHandler,
  sleep,
  workflowInfo,
  type Sinks,
} from '@temporalio/workflow';

export interface OrderActivities {
  processOrder(): Promise<void>;
  sendNotificationEmail(): Promise<void>;
}

/** timer-examples' processOrderWorkflow: a reminder if processing takes longer than the timeout. */
export async function processOrderWorkflow(
  orderProcessingMs: number,
  sendDelayedEmailTimeoutMs: number,
): Promise<void> {
  let processing = true;
  const orders = proxyActivities<OrderActivities>({ startToCloseTimeout: orderProcessingMs });
  const processOrderPromise = orders.processOrder().then(() => {
    processing = false;
  });
  await Promise.race([processOrderPromise, sleep(sendDelayedEmailTimeoutMs)]);
  if (processing) {
    await orders.sendNotificationEmail();
    await processOrderPromise;
  }
}

// ------------------------------------------------------------------ message-passing/introduction

export type Language = 'ARABIC' | 'CHINESE' | 'ENGLISH' | 'FRENCH' | 'HINDI' | 'PORTUGUESE' | 'SPANISH';

export interface GreetingActivities {
  callGreetingService(language: Language): Promise<string | undefined>;
}

export const getLanguages = defineQuery<Language[]>('getLanguages');
export const getLanguage = defineQuery<Language>('getLanguage');
export const approve = defineSignal<[{ name: string }]>('approve');
export const setLanguage = defineUpdate<Language, [Language]>('setLanguage');
export const setLanguageUsingActivity = defineUpdate<Language, [Language]>('setLanguageUsingActivity');

/** The sample's greeting workflow: a validated update, an update that calls an activity, a signal. */
export async function greetingWorkflow(): Promise<string> {
  const greetings: Partial<Record<Language, string>> = { CHINESE: '你好，世界', ENGLISH: 'Hello, world' };
  let language: Language = 'ENGLISH';
  let approvedForRelease = false;
  const { callGreetingService } = proxyActivities<GreetingActivities>({ startToCloseTimeout: '10 seconds' });
  setHandler(getLanguages, () => Object.keys(greetings) as Language[]);
  setHandler(getLanguage, () => language);
  setHandler(approve, () => {
    approvedForRelease = true;
  });
  setHandler(
    setLanguage,
    (newLanguage) => {
      const previous = language;
      language = newLanguage;
      return previous;
    },
    {
      validator: (newLanguage) => {
        if (!(newLanguage in greetings)) throw new Error(`${newLanguage} is not supported`);
      },
    },
  );
  setHandler(setLanguageUsingActivity, async (newLanguage) => {
    if (!(newLanguage in greetings)) {
      const greeting = await callGreetingService(newLanguage);
      if (!greeting) throw ApplicationFailure.create({ message: `${newLanguage} is not supported` });
      greetings[newLanguage] = greeting;
    }
    const previous = language;
    language = newLanguage;
    return previous;
  });
  await condition(() => approvedForRelease);
  await condition(allHandlersFinished);
  return greetings[language]!;
}

// ------------------------------------------------------------------ a reviewer's decision

export const decide = defineUpdate<string, [string]>('decide');
export const decisionCount = defineQuery<number>('decisionCount');
export const releaseHandlers = defineSignal('releaseHandlers');
export const finish = defineSignal('finish');

/**
 * One decision by update ('release' or 'recount'; anything else is refused by the validator). The
 * handler waits for the releaseHandlers signal before answering, so a test can hold an accepted
 * update in flight (e.g. across a worker restart); the workflow ends on `finish`, after its handlers
 * unless `waitForHandlers` is false.
 */
export async function decisionWorkflow(waitForHandlers = true): Promise<string> {
  let decision: string | undefined;
  let handled = 0;
  let released = false;
  let finished = false;
  setHandler(decisionCount, () => handled);
  setHandler(releaseHandlers, () => {
    released = true;
  });
  setHandler(finish, () => {
    finished = true;
  });
  setHandler(
    decide,
    async (choice) => {
      handled++;
      await condition(() => released);
      decision ??= choice;
      return decision;
    },
    {
      validator: (choice) => {
        if (choice !== 'release' && choice !== 'recount') throw new Error(`unknown decision ${choice}`);
      },
    },
  );
  await condition(() => finished);
  if (waitForHandlers) await condition(allHandlersFinished);
  return decision ?? 'none';
}

// ------------------------------------------------------------------ early-return (update-with-start)

export interface TransactionActivities {
  initTransaction(id: string): Promise<string>;
  completeTransaction(id: string): Promise<void>;
}

export const getTransactionConfirmation = defineUpdate<string>('getTransactionConfirmation');

/** The sample's transaction: the caller gets the confirmation early, the workflow finishes later. */
export async function transactionWorkflow(id: string): Promise<string> {
  const { initTransaction, completeTransaction } = proxyActivities<TransactionActivities>({
    startToCloseTimeout: '10 seconds',
  });
  const transaction: { confirmation?: string } = {};
  setHandler(getTransactionConfirmation, async () => {
    await condition(() => transaction.confirmation !== undefined);
    return transaction.confirmation!;
  });
  transaction.confirmation = await initTransaction(id);
  await completeTransaction(id);
  return `completed ${transaction.confirmation}`;
}

/** Continues as new once (carrying nothing), then waits for `finish`; updates count per run. */
export async function continuesOnSignal(): Promise<number> {
  let count = 0;
  let next = false;
  setHandler(decide, (choice) => {
    count++;
    return `${choice} ${count}`;
  });
  setHandler(approve, () => {
    next = true;
  });
  setHandler(finish, () => {
    next = true;
  });
  await condition(() => next);
  if (workflowInfo().continuedFromExecutionRunId === undefined) await continueAsNew<typeof continuesOnSignal>();
  return count;
}

// ------------------------------------------------------------------ rejected update while blocked

export interface SlowStepActivities {
  slowStep(): Promise<string>;
}

export interface RejectionSinks extends Sinks {
  rejections: { rejected(choice: string): void };
}

/**
 * Blocked on one activity; every `decide` update is refused by the validator, which first tells
 * the test through a sink (the worker waits for sinks before it completes the task, so the test
 * can make things happen while the rejecting task is in flight).
 */
export const stepQuery = defineQuery<string>('step');

export async function blockedOnActivityWorkflow(): Promise<string> {
  const { rejections } = proxySinks<RejectionSinks>();
  let step = 'waiting';
  setHandler(stepQuery, () => step);
  setHandler(decide, () => 'never', {
    validator: (choice) => {
      rejections.rejected(choice);
      throw new Error(`refused ${choice}`);
    },
  });
  const { slowStep } = proxyActivities<SlowStepActivities>({ startToCloseTimeout: '1 minute' });
  step = await slowStep();
  return step;
}
