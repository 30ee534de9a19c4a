/**
 * Chapter 12: the options of a tiered run, with their defaults fixed here.
 *
 *   --tier-up-calls N   calls of a function before it leaves the interpreter
 *   --tier-up-loops N   loop back edges taken in a function before it leaves the interpreter
 *                       (in the middle of a loop, by on-stack replacement)
 *   --tier-up-opt-calls N   calls of a function and back edges of its loops in the baseline
 *                       tier before the optimizing tier compiles it (counted by its code)
 *   --trace-tiers       print each promotion, with the function and its counters, to stderr
 *
 * With the defaults a short program (hello.jot) compiles nothing: it is over before any
 * function gets hot.
 */

import { todo } from '#native/todo.ts';

export interface TierOptions {
  /** Calls of a function before it is compiled in the baseline tier. */
  readonly tierUpCalls?: number;
  /** Back edges taken in a function before it is compiled in the baseline tier. */
  readonly tierUpLoops?: number;
  /** Calls of a function and back edges of its loops in the baseline tier before it is compiled in the optimizing tier. */
  readonly tierUpOptimizedCalls?: number;
  /** Receives one line per promotion. */
  readonly traceTiers?: (line: string) => void;
  /**
   * Fixes the tier of some functions, by name: `interpreter` never leaves the interpreter
   * (unless machine code calls it from too deep a nest of interpreter runs), `baseline` and
   * `optimized` are compiled in that tier before the program starts and stay there.
   * Undefined leaves it to the counters.
   */
  readonly tierOf?: (name: string) => 'interpreter' | 'baseline' | 'optimized' | undefined;
  /** Sees each function as it is compiled: where its code is (for a perf map) and in which tier. */
  readonly onCompiled?: (code: CompiledCode) => void;
}

/** A function's machine code, just compiled. */
export interface CompiledCode {
  readonly name: string;
  readonly tier: 'baseline' | 'optimized';
  /** The address of its first instruction, and the bytes up to the end of its out-of-line code. */
  readonly address: bigint;
  readonly length: number;
}

/*
 * The defaults, measured with `npm run bench` (a new VM per run against each single tier
 * with its compilation): both compilers are fast (tens of microseconds per function for the
 * baseline tier, a few hundred for the optimizing one), so a function leaves the interpreter
 * early. A loop leaves it after about as many back edges as a function after calls, because
 * an interpreted caller that calls compiled code in its loop pays a crossing from TypeScript
 * into machine code at every call (a microsecond or more: hundreds of them cost more than
 * compiling the caller). The baseline tier runs five times as long again before the
 * optimizing tier compiles the function, or the loop it is in.
 */
export const DEFAULT_TIER_UP_CALLS = 200;
export const DEFAULT_TIER_UP_LOOPS = 300;
export const DEFAULT_TIER_UP_OPTIMIZED_CALLS = 1000;

/**
 * The tiered run's options from command-line words (`--tier-up-calls 10`, `--trace-tiers`);
 * the other words are returned as they are. `--trace-tiers` prints to standard error.
 */
export function parseTierOptions(argv: readonly string[]): { options: TierOptions; rest: string[] } {
  // TODO: the words of argv in order:
  //   --tier-up-calls N, --tier-up-loops N, --tier-up-opt-calls N
  //       set tierUpCalls, tierUpLoops, tierUpOptimizedCalls to N, the next word: a safe
  //       integer of at least 1, or an Error that names the flag and the word it found
  //   --trace-tiers
  //       sets traceTiers to a function that writes its line and a newline to process.stderr
  //   anything else goes to rest, in order
  return todo('parseTierOptions');
}
