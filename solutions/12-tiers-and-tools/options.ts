/**
 * Chapter 12: the options of a tiered run, with their defaults fixed here.
 *
 *   --tier-up-calls N   calls of a function before it leaves the interpreter
 *   --tier-up-loops N   loop back edges taken in a function before it leaves the interpreter
 *                       (in the middle of a loop, by on-stack replacement)
 *   --trace-tiers       print each promotion, with the function and its counters, to stderr
 *
 * With the defaults a short program (hello.jot) compiles nothing: it is over before any
 * function gets hot.
 */

export interface TierOptions {
  /** Calls of a function before it is compiled in the baseline tier. */
  readonly tierUpCalls?: number;
  /** Back edges taken in a function before it is compiled in the baseline tier. */
  readonly tierUpLoops?: number;
  /** Receives one line per promotion. */
  readonly traceTiers?: (line: string) => void;
  /**
   * Fixes the tier of some functions, by name: `interpreter` never leaves the interpreter,
   * `baseline` is compiled before the program starts. Undefined leaves it to the counters.
   */
  readonly tierOf?: (name: string) => 'interpreter' | 'baseline' | undefined;
}

export const DEFAULT_TIER_UP_CALLS = 1000;
export const DEFAULT_TIER_UP_LOOPS = 5000;
