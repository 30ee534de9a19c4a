/** What a worker tells the runner (fd 3, one JSON object per line) and what the runner reports. */
import type { Arch } from '#native/arch.ts';

export interface SerializedError {
  name: string;
  message: string;
  stack: string;
  /** uvu's assertion diff, when the error came from `uvu/assert`. */
  details?: string | undefined;
  /** For NotImplemented: what the scaffold says is missing, and how far along the work is. */
  what?: string | undefined;
  note?: string | undefined;
}

export interface ListedCheck {
  name: string;
  file: string;
  points: number;
  hints: string[];
  /** The check's CPU-time limit in this worker (check.ts timeLimit: native or emulated). */
  timeoutMs: number;
}

/** What a program printed and how it ended, as a check reports it for the runner to judge. */
export interface ReportedOutcome {
  /** The program's name: a file of checks/programs without `.jot`, or a name the check gave it. */
  program: string;
  output: string[];
  error?: { kind: 'compile' | 'runtime'; message: string } | undefined;
}

/**
 * A bug planted for one run of one check (the self-test's planted step): the worker loads a
 * fresh copy of the checks and the code under test for it, with `find` replaced by `replace`
 * in `file` (relative to the workbook's folder), and runs the check named `check` alone.
 * `tag` names that copy's modules (`?planted=<tag>`), unique within one worker.
 */
export interface PlantedItem {
  file: string;
  find: string;
  replace: string;
  check: string;
  tag: string;
}

/** The error name of a planted item whose check could not be loaded or found: never a catch. */
export const PLANTED_SETUP_ERROR = 'PlantedBugSetupError';

/** Addresses travel as decimal strings (JSON has no bigint). */
type Address = bigint | string;

export type WorkerEvent =
  | { t: 'hello'; arch: Arch; mode: 'native' | 'emulated'; handler: { address: Address; length: number } }
  /**
   * A range made executable: its first `length` bytes (at most 256 KiB) as they were then, of
   * which `hex` holds those up to the last non-zero one (the rest are zeros).
   */
  | { t: 'code'; address: Address; length: number; hex: string }
  | { t: 'file-error'; file: string; error: SerializedError }
  | { t: 'list'; checks: ListedCheck[] }
  | { t: 'start'; index: number }
  /** With planted bugs: the check of `index` is loaded and its body starts now (its time budget starts here). */
  | { t: 'ready'; index: number }
  /** `ms` of wall-clock time, `cpuMs` of the worker's CPU time (all its threads), both for the check's body. */
  | { t: 'end'; index: number; ms: number; cpuMs?: number; error?: SerializedError }
  | ({ t: 'outcome'; index: number } & ReportedOutcome)
  | { t: 'done' }
  | { t: 'fatal'; error: SerializedError };

export type Status = 'pass' | 'fail' | 'todo' | 'skip';

/** One check on one architecture: a row of the report and of the JSON results. */
export interface CheckResult {
  chapter: string;
  check: string;
  arch: Arch;
  mode: 'native' | 'emulated';
  status: Status;
  message: string;
  ms: number;
  /** The worker's CPU time for the check's body, where it reported one (a machine shared with other work slows `ms`, not this). */
  cpuMs?: number;
  points: number;
  file?: string;
  /** Longer text shown under a failure: a diff, a disassembly, the worker's output. */
  details?: string;
  hint?: string;
  /** Set when the failure comes from an earlier chapter's code (e.g. '01'). */
  fromChapter?: string;
  /** How many rungs of this check's hint ladder the learner has asked for (`npm run hint`). */
  hintsUsed?: number;
  /** With planted bugs: the index of the planted item this result is about. */
  item?: number;
}
