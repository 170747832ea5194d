// Workflows shaped like temporalio/samples-typescript's (timer-examples, message-passing,
// early-return), for the conformance tests that reproduce those samples' own tests on the engine.
import { proxyActivities, sleep } from '@temporalio/workflow';

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
