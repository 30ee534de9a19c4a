/**
 * A fixed number of lanes, one job in each at a time, taken in the order the jobs asked for
 * one. The self-test's steps share one set: each step queues all its work at once, so a
 * core another step leaves idle (a step whose last job runs alone) takes the next job of the
 * steps after it instead of waiting for the step to end.
 */
export class Lanes {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = Math.max(1, count);
  }

  /** Runs `job` in a lane once one is free; `account.ms` grows by the time it held the lane. */
  async run<T>(job: () => Promise<T>, account?: { ms: number }): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const began = performance.now();
    try {
      return await job();
    } finally {
      if (account) account.ms += performance.now() - began;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
