// Many writers, few round trips: while a batch is being written, new items wait and go together in the
// next one. At low load every item is written at once (a batch of one, no added delay); at month end a
// webhook's audit insert shares its statement with the others that arrived meanwhile, and each caller
// still learns that its own item is durable before it answers.

export interface GroupCommitOptions {
  /** Batches written at the same time (at most the pool's connections). */
  concurrency?: number;
  /** Items in one statement. */
  maxBatch?: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  private readonly waiting: Array<Waiting<T, R>> = [];
  private writers = 0;
  private readonly concurrency: number;
  private readonly maxBatch: number;

  /** `write` takes a batch and returns one result per item, in order. */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    options: GroupCommitOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 2;
    this.maxBatch = options.maxBatch ?? 200;
  }

  /** Resolves once `item` is written (with its result), rejects when its write failed. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.writers < this.concurrency) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writers += 1;
    try {
      while (this.waiting.length > 0) await this.writeBatch(this.waiting.splice(0, this.maxBatch));
    } finally {
      this.writers -= 1;
    }
  }

  private async writeBatch(batch: Array<Waiting<T, R>>): Promise<void> {
    try {
      const results = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      // One item the database refuses must not fail the others that shared its statement.
      for (const w of batch) await this.writeBatch([w]);
    }
  }
}
