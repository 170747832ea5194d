import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../src/audit/group-commit';

/** A write that waits until released, recording each batch it was given. */
function heldWriter() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const write = async (items: number[]) => {
    batches.push(items);
    await new Promise<void>((resolve) => releases.push(resolve));
    if (items.includes(13)) throw new Error('13 is refused');
    return items.map((n) => n * 10);
  };
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { batches, write, releaseAll };
}

test('alone, an item is written at once; items arriving during a write share the next statement', async () => {
  const w = heldWriter();
  const commit = new GroupCommit(w.write, { concurrency: 1 });
  const first = commit.submit(1);
  const rest = [2, 3, 4].map((n) => commit.submit(n));
  assert.deepEqual(w.batches, [[1]], 'the first went out alone, without waiting for company');
  const drained = (async () => {
    while (w.batches.length < 2) await w.releaseAll();
  })();
  await drained;
  await w.releaseAll();
  assert.equal(await first, 10);
  assert.deepEqual(await Promise.all(rest), [20, 30, 40]);
  assert.deepEqual(w.batches, [[1], [2, 3, 4]]);
});

test('batches are capped, and up to `concurrency` are written at once', async () => {
  const w = heldWriter();
  const commit = new GroupCommit(w.write, { concurrency: 2, maxBatch: 2 });
  const results = [1, 2, 3, 4, 5].map((n) => commit.submit(n));
  // 1 and 2 each started a writer; 3..5 wait for a free one.
  assert.deepEqual(w.batches, [[1], [2]]);
  for (let i = 0; i < 5 && w.batches.flat().length < 5; i++) await w.releaseAll();
  await w.releaseAll();
  assert.deepEqual(await Promise.all(results), [10, 20, 30, 40, 50]);
  assert.ok(
    w.batches.every((b) => b.length <= 2),
    JSON.stringify(w.batches),
  );
  assert.deepEqual(w.batches.flat().sort(), [1, 2, 3, 4, 5]);
});

test('an item the database refuses fails alone; the others of its batch are written one by one', async () => {
  const w = heldWriter();
  const commit = new GroupCommit(w.write, { concurrency: 1 });
  const first = commit.submit(1);
  const batch = [12, 13, 14].map((n) => commit.submit(n).then(String, (e: Error) => e.message));
  for (let i = 0; i < 10; i++) await w.releaseAll();
  assert.equal(await first, 10);
  assert.deepEqual(await Promise.all(batch), ['120', '13 is refused', '140']);
  assert.deepEqual(w.batches, [[1], [12, 13, 14], [12], [13], [14]]);
});
