/**
 * Chapter 12's checks: a program run tiered (every function starts in the interpreter) and
 * the reference interpreter of chapter 11, the oracle, in one outcome shape; and how two
 * runs are compared: printed lines, main's result, the error's message, payload and trace.
 * What a check finds is reported (check.ts reportOutcome: how each run ended, the values the
 * checks require exactly, yes or no where correct solutions may differ), for graded work to be
 * held to the reference's run outside the process that ran the code.
 */
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, diffLines, type Program } from '#harness/programs.ts';
import { runInterpreter as referenceRun } from '../../solutions/11-garbage-collector/run.ts';

/**
 * Imports a module of this chapter with the reference's types: the scaffold's folder does not
 * exist yet, so `#ch12/…` resolves only under the solutions' condition.
 */
export function chapterModule<T>(path: string): Promise<T> {
  return import(`#ch12/${path}`) as Promise<T>;
}

export const tiered = await learnerCode(chapterModule<typeof import('../../solutions/12-tiers-and-tools/run.ts')>('run.ts'));
export const errors = await learnerCode(import('#ch05/errors.ts'));

export type TieredRunOptions = Parameters<typeof tiered.runTiered>[1];
export type TieredOutcome = ReturnType<typeof tiered.runTiered>;

interface Ending {
  readonly output: readonly string[];
  readonly result?: bigint;
  readonly error?: { readonly message: string; readonly payload?: bigint; readonly trace: readonly { readonly name: string; readonly line: number }[] };
}

/** How a run ended, as lines: what it printed, then its result or its error, payload and whole trace. */
export function endingLines(run: Ending): string[] {
  if (run.error === undefined) return [...run.output, `(main returned ${run.result})`];
  const { message, payload, trace } = run.error;
  return [...run.output, `${message}${payload === undefined ? '' : ` (payload ${payload})`}`, ...trace.map((f) => `  at ${f.name} (line ${f.line})`)];
}

const endings = new Map<string, string[]>();

/** The reference interpreter's ending of `source`, with the heap's run options (kept: the checks ask again). */
export function expectedEnding(source: string, options: { readonly stress?: boolean; readonly verify?: boolean; readonly semispaceBytes?: number } = {}): string[] {
  const key = `${options.stress ? 'stress ' : ''}${options.semispaceBytes ?? ''}\n${source}`;
  let ending = endings.get(key);
  if (ending === undefined) endings.set(key, (ending = endingLines(referenceRun(source, { ...options, verify: false }))));
  return ending;
}

/**
 * A report of how `got` ends differently from the reference interpreter, or null. How it ended
 * is reported under `name` with ': how it ends' (more than 40 lines shortened to the first and
 * last 20 and a count), which no program file is named.
 */
export function compareWithReference(name: string, source: string, got: Ending, options: { readonly stress?: boolean; readonly verify?: boolean; readonly semispaceBytes?: number } = {}): string | null {
  const expected = expectedEnding(source, options);
  const actual = endingLines(got);
  reportOutcome(`${name}: how it ends`, { output: shortened(actual) });
  if (expected.join('\n') === actual.join('\n')) return null;
  return `${name}: the tiered run ends differently from the interpreter (- interpreter, + tiered):\n${diffLines(expected, actual)}`;
}

/** `lines` with more than 40 shown as their first and last 20 and how many were left out. */
function shortened(lines: readonly string[]): string[] {
  return lines.length <= 40 ? [...lines] : [...lines.slice(0, 20), `... ${lines.length - 40} more lines ...`, ...lines.slice(-20)];
}

/**
 * Reports `value` under `what` and returns it: a value every correct solution must give (the
 * check requires it exactly), or a yes or no where correct solutions may differ in the details.
 */
export function seen<T>(what: string, value: T): T {
  const text = typeof value === 'string' ? value : JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  reportOutcome(what, { output: [text ?? String(value)] });
  return value;
}

/**
 * A check that runs many programs or combinations of tiers stops once this many went wrong:
 * its message shows the first of them (up to three), and the rest would only add to a count,
 * for minutes under emulation. A check that passes runs every one.
 */
export const ENOUGH_REPORTS = 3;

/** How many of `total` went wrong, of all or of the `ran` a check ran before it stopped. */
export function wentWrong(wrong: number, ran: number, total: number, what: string): string {
  return ran < total ? `${wrong} of the first ${ran} of ${total} ${what} went wrong (the check stopped there)` : `${wrong} of ${total} ${what} went wrong`;
}

/** Each function's calls and whether it changed tier, for messages. */
export function describeTiers(run: TieredOutcome): string {
  return Object.entries(run.tiers).map(([name, tier]) => `${name}: ${tier}`).join(', ');
}

/** A report of how `got` differs from what `program`'s file expects (output, end, `expect trace` lines), or null. */
export function compareWithExpectations(program: Program, got: Ending): string | null {
  const report = compareOutcome(program, { output: got.output, ...(got.error === undefined ? {} : { error: { kind: 'runtime' as const, message: got.error.message } }) });
  if (report !== null) return report;
  const written = [...program.source.matchAll(/\/\/\s*expect trace:\s?(.*)$/gm)].map((m) => m[1]!.trimEnd());
  const lines = (got.error?.trace ?? []).map((f) => `at ${f.name} (line ${f.line})`);
  const trace = lines.length <= 20 ? lines : [...lines.slice(0, 10), `... ${lines.length - 20} more frames ...`, ...lines.slice(-10)];
  if (written.length > 0 && trace.join('\n') !== written.join('\n')) {
    return `${program.name}.jot: the trace differs from its expect trace lines:\n${diffLines(written, trace)}`;
  }
  return null;
}
