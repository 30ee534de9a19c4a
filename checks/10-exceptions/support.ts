/**
 * Helpers for the chapter 10 checks: a Jot program with exceptions, run in one tier on this
 * worker's architecture (the learner's interpreter, baseline tier or optimizing tier), gives
 * one outcome shape; the reference interpreter of chapter 10 gives the expected one; and
 * `compareRuns` reports every way they differ: printed lines, main's result, the error's
 * message, its payload and its stack trace.
 *
 * Why the reference interpreter is the oracle: the learner's interpreter and JIT were
 * written from the same understanding, and a shared misreading (which line a frame shows,
 * which handler a pc belongs to) would pass unnoticed if they were only compared with each
 * other.
 */
import * as assert from 'uvu/assert';
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { diffLines } from '#harness/programs.ts';
import { referenceOracle, writtenExpectation } from '#harness/written.ts';
import type * as ReferenceRun from '../../solutions/10-exceptions/run.ts';
import type * as ReferenceTrace from '../../solutions/10-exceptions/trace.ts';
import { EXCEPTIONS_CONTEXT } from '../../solutions/10-exceptions/stubs.ts';

export const compiler = await learnerCode(import('#ch06/compiler.ts'));
export const baseline = await learnerCode(import('#ch07/jit.ts'));
export const optimizing = await learnerCode(import('#ch09/jit.ts'));
export const run = await learnerCode(import('#ch10/run.ts'));
export const language = await learnerCode(import('#ch10/language.ts'));
export const jitLanguage = await learnerCode(import('#ch10/jit-language.ts'));
export const jitRun = await learnerCode(import('#ch10/jit-run.ts'));
export const trace = await learnerCode(import('#ch10/trace.ts'));
export const errors = await learnerCode(import('#ch10/errors.ts'));

/** The reference interpreter of chapter 10 and its trace format, the oracles; not there in a copy staged for grading. */
const referenceRun = await referenceOracle<typeof ReferenceRun>(import.meta.url, '../../solutions/10-exceptions/run.ts');
const referenceTrace = await referenceOracle<typeof ReferenceTrace>(import.meta.url, '../../solutions/10-exceptions/trace.ts');

/** Where the context keeps the stack limit, the one exception field a prologue may read. */
export const STACK_LIMIT_OFFSET = EXCEPTIONS_CONTEXT.offsets.stackLimit;

/** Chapter 10's levels: the language (interpreter and front end), and the JIT level of both compiled tiers. */
export const level = {
  get EXCEPTIONS_LANGUAGE() {
    return language.EXCEPTIONS_LANGUAGE;
  },
  get EXCEPTIONS_JIT() {
    return jitLanguage.EXCEPTIONS_JIT.jit;
  },
};

export type Tier = 'interpreter' | 'baseline' | 'opt';
export const TIERS: readonly Tier[] = ['interpreter', 'baseline', 'opt'];
export const JIT_TIERS: readonly Tier[] = ['baseline', 'opt'];

export const TIER_NAMES: Readonly<Record<Tier, string>> = {
  interpreter: 'the interpreter',
  baseline: 'the baseline tier',
  opt: 'the optimizing tier',
};

/** One frame of a stack trace, innermost first. */
export interface Frame {
  readonly name: string;
  readonly line: number;
}

/** How a run ended, in the one shape every tier gives. */
export interface Run {
  readonly output: readonly string[];
  readonly result?: bigint;
  readonly error?: { readonly message: string; readonly payload?: bigint; readonly trace: readonly Frame[] };
  /** Functions the optimizing tier would not compile (they ran in the baseline tier). */
  readonly declined: readonly string[];
}

export interface TierOptions {
  /** Optimizing tier only: which tier compiles each function (default: every one optimized). */
  readonly tierOf?: (name: string) => 'baseline' | 'opt';
  /** Optimizing tier only: hand the allocator this many registers. */
  readonly registers?: number;
}

/** Runs `source` in `tier` with the learner's code. */
export function runIn(tier: Tier, source: string, options: TierOptions = {}): Run {
  if (tier === 'interpreter') return normalize(run.runInterpreter(source));
  const program = compiler.compileSource(source, level.EXCEPTIONS_LANGUAGE);
  const compiled = tier === 'baseline'
    ? { jit: baseline.compileProgram(program, undefined, level.EXCEPTIONS_JIT), declined: [] }
    : optimizing.compileOptimized(program, undefined, { ...options, level: level.EXCEPTIONS_JIT });
  try {
    return normalize({ ...jitRun.outcomeOf(compiled.jit), declined: compiled.declined });
  } finally {
    compiled.jit.dispose();
  }
}

/**
 * What the reference interpreter of chapter 10 does with `source`; nothing in a copy staged
 * for grading, where the reference is not run beside the code under test (which could read
 * what it printed): there the runs are only reported, and the runner judges them against the
 * grader's own run of the reference (compareRuns).
 */
export function expectedRun(source: string): Run | undefined {
  return referenceRun === undefined ? undefined : normalize(referenceRun.runInterpreter(source));
}

/**
 * The text of a trace by the rule book/language.md states, written here apart from the
 * reference so that a wrong reference cannot set the standard: `at NAME (line N)` per frame,
 * innermost first; past 20 frames, the 10 innermost, `... K more frames ...`, the 10 outermost.
 */
export function traceText(frames: readonly Frame[]): string {
  const line = (f: Frame) => `at ${f.name} (line ${f.line})`;
  if (frames.length <= 20) return frames.map(line).join('\n');
  return [...frames.slice(0, 10).map(line), `... ${frames.length - 20} more frames ...`, ...frames.slice(-10).map(line)].join('\n');
}

/** The reference's text of a trace, which must agree with `traceText` (undefined in a copy staged for grading). */
export function referenceTraceText(frames: readonly Frame[]): string | undefined {
  return referenceTrace?.formatTrace(frames);
}

type AnyOutcome = {
  readonly output: readonly string[];
  readonly result?: bigint;
  readonly error?: { readonly message: string; readonly payload?: bigint; readonly trace: readonly Frame[] };
  readonly declined?: readonly (string | { readonly name: string })[];
};

function normalize(outcome: AnyOutcome): Run {
  const declined = (outcome.declined ?? []).map((d) => (typeof d === 'string' ? d : d.name));
  return {
    output: [...outcome.output],
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    ...(outcome.error !== undefined
      ? { error: { message: outcome.error.message, ...(outcome.error.payload !== undefined ? { payload: outcome.error.payload } : {}), trace: outcome.error.trace.map((f) => ({ name: f.name, line: f.line })) } }
      : {}),
    declined,
  };
}

/** How a run ended, in words: `main returned 3`, `uncaught exception 7`. */
function ending(r: Run): string {
  if (r.error === undefined) return `main returned ${r.result}`;
  return `${r.error.message}${r.error.payload === undefined ? '' : ` (payload ${r.error.payload})`}`;
}

function showFrames(frames: readonly Frame[]): string {
  const shown = frames.length <= 12 ? frames : [...frames.slice(0, 6), undefined, ...frames.slice(-5)];
  return shown.map((f) => (f === undefined ? `      … ${frames.length - 11} more` : `      ${f.name} line ${f.line}`)).join('\n');
}

/**
 * Every difference between what `tier` did and what the reference interpreter did, as one
 * report (null when they agree; always null without `expected`, in a copy staged for grading).
 * What `tier` did is reported either way: graded work is held to the grader's own reference
 * run of the same check, outside this process: the ending, the output and the trace.
 */
export function compareRuns(name: string, tier: Tier, expected: Run | undefined, got: Run): string | null {
  const trace = got.error?.trace.map((f) => `  at ${f.name} line ${f.line}`) ?? [];
  reportOutcome(`${name} in ${TIER_NAMES[tier]}`, { output: [...got.output, `(${ending(got)})`, ...trace] });
  return expected === undefined ? null : differences(name, tier, expected, got);
}

/** Every difference between `got`, what `tier` did, and `expected`, as one report (null when they agree). */
function differences(name: string, tier: Tier, expected: Run, got: Run): string | null {
  const problems: string[] = [];
  if (ending(expected) !== ending(got)) problems.push(`expected the program to end with\n    ${ending(expected)}\n  but it ended with\n    ${ending(got)}`);
  if (expected.output.length !== got.output.length || expected.output.some((line, i) => line !== got.output[i])) {
    problems.push(`printed output differs:\n${diffLines(expected.output, got.output)}`);
  }
  if (expected.error !== undefined && got.error !== undefined) {
    const want = expected.error.trace;
    const have = got.error.trace;
    const same = want.length === have.length && want.every((f, i) => f.name === have[i]!.name && f.line === have[i]!.line);
    if (!same) {
      const first = want.findIndex((f, i) => f.name !== have[i]?.name || f.line !== have[i]?.line);
      problems.push(
        `the stack trace differs (innermost frame first; first difference at frame ${first === -1 ? have.length : first}):\n` +
          `    expected ${want.length} frames:\n${showFrames(want)}\n    found ${have.length} frames:\n${showFrames(have)}`,
      );
    }
  }
  if (got.declined.length > 0 && tier !== 'opt') problems.push(`declined: ${got.declined.join(', ')}`);
  return problems.length === 0 ? null : `${name} in ${TIER_NAMES[tier]}: ${problems.join('\n  ')}`;
}

/** A program with its name, for reports. */
export interface Named {
  readonly name: string;
  readonly source: string;
}

/**
 * Runs each program in `tier` and compares it with the reference interpreter; fails with a
 * report per program that went wrong. `expectations` (by name) are printed lines written out
 * by hand, checked against the reference first, so a check cannot pass on a wrong oracle.
 */
export function checkAgainstReference(tier: Tier, programs: readonly Named[], options: TierOptions = {}): void {
  assert.ok(programs.length > 0, 'no programs in this group (a check bug)');
  const reports: string[] = [];
  for (const program of programs) {
    process.stderr.write(`running ${program.name} in ${TIER_NAMES[tier]}\n`);
    const expected = expectedRun(program.source);
    const got = runIn(tier, program.source, options);
    const report = compareRuns(program.name, tier, expected, got);
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
}

/**
 * What expectations.json beside these checks writes out for a program: the lines it prints and
 * how it ends (main's result, or the uncaught error's message and its trace).
 */
interface WrittenRun {
  readonly output: readonly string[];
  readonly result?: string;
  readonly error?: string;
  /** Innermost frame first; `[name, line, times]` stands for `times` frames alike in a row. */
  readonly trace?: readonly (readonly [string, number, number?])[];
}

/**
 * The run written out for program `name` in expectations.json, as a `Run` (a trace without a
 * payload), or undefined in a copy staged for grading, where the file is blanked.
 */
export function writtenRun(name: string): Run | undefined {
  const written = writtenExpectation<WrittenRun>(import.meta.url, name);
  if (written === undefined) return undefined;
  const trace = (written.trace ?? []).flatMap(([name, line, times = 1]) => Array.from({ length: times }, () => ({ name, line })));
  return {
    output: written.output,
    ...(written.result !== undefined ? { result: BigInt(written.result) } : {}),
    ...(written.error !== undefined ? { error: { message: written.error, trace } } : {}),
    declined: [],
  };
}

/**
 * Runs each program in `tier` and holds it to the run written out for it in expectations.json
 * (and to the reference interpreter, whose trace and payload it must also match). In a copy
 * staged for grading neither is there: each run is only reported, and the runner judges it.
 */
export function checkExpectations(tier: Tier, programs: readonly Named[], options: TierOptions = {}): void {
  const reports: string[] = [];
  for (const program of programs) {
    process.stderr.write(`running ${program.name} in ${TIER_NAMES[tier]}\n`);
    const written = writtenRun(program.name);
    const reference = expectedRun(program.source);
    if (written !== undefined && reference !== undefined) {
      // The oracle must agree with what is written out (a check bug otherwise).
      const payload = written.error && reference.error?.payload !== undefined ? { error: { ...written.error, payload: reference.error.payload } } : {};
      const oracle = differences(program.name, 'interpreter', { ...written, ...payload }, reference);
      if (oracle !== null) throw new Error(`the reference interpreter disagrees with this check's expectation (a check bug):\n${oracle}`);
    }
    const got = runIn(tier, program.source, options);
    const report = compareRuns(program.name, tier, reference, got);
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
}
