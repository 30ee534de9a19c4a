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

/**
 * The most of each text of a SerializedError a worker sends (message, stack, details, what,
 * note): a submission that throws megabytes costs the runner no more than this.
 */
export const MAX_ERROR_CHARS = 64 * 1024;

/** The most of a program's output one reported outcome carries (check.ts reportOutcome). */
export const MAX_OUTCOME_LINES = 10_000;
export const MAX_OUTCOME_LINE_CHARS = 10_000;
/**
 * All of an outcome's lines together: far above what any program of the workbook prints, and
 * low enough that the event carrying it (every character at most 6 bytes of JSON) stays well
 * under the runner's limit on one event line (runner.ts MAX_EVENT_LINE).
 */
export const MAX_OUTCOME_CHARS = 1024 * 1024;

/** The most of a reported program's name kept (names are file names, or a check's own short names). */
export const MAX_PROGRAM_NAME_CHARS = 1000;

/** `text` cut to its first `limit` characters, followed by how many more there were. */
export function clipText(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} characters more)`;
}

/**
 * A program's output bounded the same way wherever it is reported (the learner's run and the
 * reference's alike, so judging one against the other is unchanged): each line clipped to
 * MAX_OUTCOME_LINE_CHARS, at most MAX_OUTCOME_LINES lines and MAX_OUTCOME_CHARS in all, the
 * lines left off counted on a last line of their own.
 */
export function clipOutput(lines: readonly unknown[]): string[] {
  const kept: string[] = [];
  let chars = 0;
  for (const line of lines) {
    const text = clipText(String(line), MAX_OUTCOME_LINE_CHARS);
    if (kept.length >= MAX_OUTCOME_LINES || chars + text.length > MAX_OUTCOME_CHARS) break;
    kept.push(text);
    chars += text.length;
  }
  if (kept.length < lines.length) kept.push(`… (${lines.length - kept.length} lines more)`);
  return kept;
}

/** A SerializedError whose every text is at most MAX_ERROR_CHARS (plus the count of what was cut). */
export function clipError(error: SerializedError): SerializedError {
  const clip = (text: unknown) => clipText(String(text ?? ''), MAX_ERROR_CHARS);
  return {
    name: clip(error.name),
    message: clip(error.message),
    stack: clip(error.stack),
    details: typeof error.details === 'string' ? clip(error.details) : undefined,
    what: typeof error.what === 'string' ? clip(error.what) : undefined,
    note: typeof error.note === 'string' ? clip(error.note) : undefined,
  };
}
