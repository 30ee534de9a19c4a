/**
 * The API check files are written in. A check file (`checks/NN-slug/*.check.ts`) registers
 * checks with `check(name, body, options)`; the runner imports it inside a worker process
 * of the architecture under test and runs the bodies one by one. Assertions come from
 * `uvu/assert` (or `./expect.ts` for machine code); anything a body throws fails the check.
 *
 *   import * as assert from 'uvu/assert';
 *   import { check, learnerCode } from '#harness/check.ts';
 *   const ch01 = await learnerCode(import('#ch01/code-region.ts'));
 *
 *   check('a sealed region runs code', (t) => {
 *     const region = ch01.CodeRegion.allocate(64);
 *     …
 *   }, { hints: ['concept…', 'where to look…', 'nearly the answer…'] });
 *
 * Learner code is imported through `learnerCode`, never with a static import: if the
 * learner's file does not load (a syntax error, a missing export), every check of the file
 * still registers and fails with that error, instead of the whole chapter vanishing.
 */
import type { Arch } from '#native/arch.ts';
import { clipOutput, clipText, MAX_ERROR_CHARS, MAX_PROGRAM_NAME_CHARS, type ReportedOutcome } from './protocol.ts';

export interface CheckContext {
  /** The architecture this worker runs (and generates code for). */
  readonly arch: Arch;
  /** 'native' on the host's own architecture, 'emulated' under qemu-user. */
  readonly mode: 'native' | 'emulated';
  /** A deterministic pseudo-random source, seeded per check, for random operands. */
  readonly random: () => number;
}

export interface CheckOptions {
  /**
   * Rungs of hints, from the concept to nearly the answer; the first one shows on failure.
   * Where the rungs differ by architecture, give one ladder per architecture.
   */
  hints?: readonly string[] | Readonly<Record<Arch, readonly string[]>>;
  /** Points for grading; 1 unless a check is worth more. */
  points?: number;
  /** Only on these architectures (for a check that means nothing on the other). */
  arches?: readonly Arch[];
  /** The check's CPU-time limit in milliseconds when it runs natively; default 5000. */
  timeoutMs?: number;
  /**
   * Its limit under emulation (qemu-user), where a check that compiles much runs 10–15 times
   * slower and one that mostly waits on the kernel hardly slower; default 4 × timeoutMs.
   * A check with a long emulated run gives both, so that a hang costs a native run little.
   */
  emulatedTimeoutMs?: number;
}

/** Emulated code runs about this many times slower, unless a check says otherwise. */
const EMULATION_SLOWDOWN = 4;

/** A check's CPU-time limit in a native or an emulated worker. */
export function timeLimit(options: CheckOptions, mode: 'native' | 'emulated'): number {
  const native = options.timeoutMs ?? 5000;
  return mode === 'emulated' ? (options.emulatedTimeoutMs ?? native * EMULATION_SLOWDOWN) : native;
}

export type CheckBody = (t: CheckContext) => void | Promise<void>;

export interface RegisteredCheck {
  readonly name: string;
  readonly file: string;
  readonly body: CheckBody;
  readonly options: CheckOptions;
}

/** Filled by the worker while it imports check files; read back afterwards. */
export const registry = {
  file: '',
  checks: [] as RegisteredCheck[],
  /** Set by the worker: sends a program's outcome to the runner (see reportOutcome). */
  onOutcome: undefined as ((outcome: ReportedOutcome) => void) | undefined,
};

/**
 * Reports what a program did in the running check, so that the runner, outside the process
 * that runs the code under test, can judge it too: when work is graded, the runner compares
 * each reported outcome with the expectations it computed itself (the program's file, or
 * the reference's run of the same check), and a check whose reports are missing or wrong
 * fails whatever this process says of it. Call it once per program, with what the learner's
 * code printed and how it ended, whether or not the check itself finds it right.
 */
export function reportOutcome(program: string, outcome: { readonly output: readonly string[]; readonly error?: { readonly kind: 'compile' | 'runtime'; readonly message: string } | undefined }): void {
  // Bounded (protocol.ts clipOutput), the reference's report as the learner's: a program that
  // prints without end costs the runner no more than the limits, and judging is unchanged.
  const error = outcome.error ? { error: { kind: outcome.error.kind, message: clipText(String(outcome.error.message), MAX_ERROR_CHARS) } } : {};
  registry.onOutcome?.({ program: clipText(String(program), MAX_PROGRAM_NAME_CHARS), output: clipOutput(outcome.output), ...error });
}

export function check(name: string, body: CheckBody, options: CheckOptions = {}): void {
  if (registry.checks.some((c) => c.name === name)) {
    throw new Error(`duplicate check name in ${registry.file}: ${name}`);
  }
  registry.checks.push({ name, file: registry.file, body, options });
}

/** Raised inside every check of a file whose learner code could not be loaded. */
export class LearnerCodeLoadError extends Error {
  override readonly name = 'LearnerCodeLoadError';
  readonly cause: unknown;
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`your code could not be loaded: ${detail}`);
    this.cause = cause;
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${this.message}\n${cause.stack}`;
  }
}

/**
 * Awaits a dynamic import of learner code. On failure, returns a stand-in module whose
 * every property throws the load error, so each check that touches it fails with it.
 */
export async function learnerCode<T extends object>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (cause) {
    const error = new LearnerCodeLoadError(cause);
    return new Proxy({} as T, {
      get(_target, property) {
        if (property === 'then' || typeof property === 'symbol') return undefined;
        throw error;
      },
    });
  }
}

/**
 * Runs `action` and returns what it threw (undefined if nothing). A TODO reached on the way
 * (NotImplemented) or learner code that would not load is thrown on, not returned, so a
 * check that expects an error still reports `todo` for an unfinished scaffold.
 */
export function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    if (error instanceof Error && (error.name === 'NotImplemented' || error.name === 'LearnerCodeLoadError')) throw error;
    return error;
  }
  return undefined;
}

/**
 * Asserts that `action` throws an error `accepted` approves of. Unlike uvu's assert.throws,
 * a TODO reached on the way stays a TODO (the check reports `todo`, not a failure).
 */
export function assertThrows(action: () => unknown, accepted: (error: unknown) => boolean, message: string): void {
  const error = thrownBy(action);
  if (error === undefined) throw new CheckFailure(`${message} (nothing was thrown)`);
  if (!accepted(error)) {
    const found = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new CheckFailure(`${message} (it threw ${found})`);
  }
}

/** A failed expectation written by a check (reported with its message alone, like uvu's). */
export class CheckFailure extends Error {
  override readonly name = 'Assertion';
}
