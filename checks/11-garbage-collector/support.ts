/**
 * Chapter 11's checks: the tiers a heap program runs in, the heap's run options, and how a
 * run is compared with what a program expects.
 *
 * The interpreter, the baseline tier (chapter 07's templates with this chapter's inline
 * allocation and stack maps) and the optimizing tier. A compiled tier joins by adding a `Tier` to `TIERS`: every
 * check of the programs then runs in it too, under every mode.
 *
 * What a check finds is reported (check.ts reportOutcome: how each program ended, its trace,
 * the values the checks require exactly), for graded work to be held to the reference's run
 * outside the process that ran the code: where the expectations are hidden, only the runner
 * judges a program's ending.
 */
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, diffLines, type Program } from '#harness/programs.ts';
import { runInterpreter as referenceRun } from '../../solutions/11-garbage-collector/run.ts';

/**
 * Imports a module of this chapter: `#ch11/…` resolves to the scaffold in
 * chapters/11-garbage-collector, or to the reference under the solutions' condition. The
 * module is typed by the reference's declarations, whose exports the scaffold shares.
 */
export function chapterModule<T>(path: string): Promise<T> {
  return import(`#ch11/${path}`) as Promise<T>;
}

const run = await learnerCode(chapterModule<typeof import('../../solutions/11-garbage-collector/run.ts')>('run.ts'));
const jitRun = await learnerCode(chapterModule<typeof import('../../solutions/11-garbage-collector/jit-run.ts')>('jit-run.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

type OptimizedRun = ReturnType<typeof jitRun.runOptimized>;

/**
 * The optimizing tier's runs, kept by program and options: every heap program under
 * --gc-stress --verify-heap is judged by two checks, against what its file expects (the
 * programs' check) and against the reference interpreter with the functions the tier declined
 * (the optimizing tier's check). They judge one run, the same machine code run the same way;
 * a check that runs without the other (alone, or in a worker started again after a crash)
 * runs it itself.
 */
const optimizedRuns = new Map<string, OptimizedRun>();

const referenceRuns = new Map<string, ReturnType<typeof referenceRun>>();

/** The reference interpreter's run of `source` on the default heap, made once per worker (several checks compare with it). */
export function referenceRunOnce(source: string): ReturnType<typeof referenceRun> {
  let got = referenceRuns.get(source);
  if (got === undefined) referenceRuns.set(source, (got = referenceRun(source)));
  return got;
}

/** `jitRun.runOptimized(source, options)`, or the outcome of the same run made earlier in this worker. */
export function runOptimizedOnce(source: string, options: HeapRunOptions): OptimizedRun {
  const key = `${JSON.stringify(options)}\n${source}`;
  let got = optimizedRuns.get(key);
  if (got === undefined) optimizedRuns.set(key, (got = jitRun.runOptimized(source, options)));
  return got;
}

/** The heap's run options: `--heap`, `--gc-stress`, `--verify-heap`. */
export interface HeapRunOptions {
  readonly semispaceBytes?: number;
  readonly stress?: boolean;
  readonly verify?: boolean;
}

/** What the heap counted during a run. */
export interface RunStats {
  readonly collections: number;
  readonly objectsAllocated: number;
  readonly bytesAllocated: number;
}

/** How a run ended, in chapter 10's shape, with the heap's counts. */
export interface HeapRun {
  readonly output: readonly string[];
  readonly compileError?: string;
  readonly error?: { readonly message: string; readonly payload?: bigint; readonly trace: readonly { readonly name: string; readonly line: number }[] };
  readonly heap?: RunStats;
}

export interface Tier {
  readonly name: string;
  run(source: string, options: HeapRunOptions): HeapRun;
}

/** A tier that reports a compile error as the run's end, as the programs expect it. */
function tier(name: string, runSource: (source: string, options: HeapRunOptions) => HeapRun): Tier {
  return {
    name,
    run(source, options) {
      try {
        return runSource(source, options);
      } catch (error) {
        if (error instanceof errors.CompileError) return { output: [], compileError: error.message };
        throw error;
      }
    },
  };
}

export const TIERS: readonly Tier[] = [
  tier('interpreter', (source, options) => run.runInterpreter(source, options)),
  tier('baseline', (source, options) => jitRun.runBaseline(source, options)),
  // It compiles the heap's operations itself; a function with a try goes to the template
  // compiler, so frames of both compiled tiers mix on the stack at every collection.
  tier('optimizing', (source, options) => runOptimizedOnce(source, options)),
];

/** The ways every heap program runs: the default heap, and a collection at every allocation with the heap checked after each. */
export const MODES: readonly { readonly name: string; readonly options: HeapRunOptions }[] = [
  { name: 'the default heap', options: {} },
  { name: '--gc-stress --verify-heap', options: { stress: true, verify: true } },
];

/** Reports `value` under `what` and returns it: a value every correct solution must give (the check requires it exactly), or a yes or no. */
export function seen<T>(what: string, value: T): T {
  const text = typeof value === 'string' ? value : JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  reportOutcome(what, { output: [text ?? String(value)] });
  return value;
}

/** The text of a trace: one `at name (line N)` per frame, innermost first; past 20 frames, 10 at each end around a count. */
export function traceText(frames: readonly { readonly name: string; readonly line: number }[]): string {
  const line = (f: { name: string; line: number }) => `at ${f.name} (line ${f.line})`;
  if (frames.length <= 20) return frames.map(line).join('\n');
  return [...frames.slice(0, 10).map(line), `... ${frames.length - 20} more frames ...`, ...frames.slice(-10).map(line)].join('\n');
}

/**
 * A report of how `got` differs from what `program` expects (output, end, trace), or null.
 * The ending is reported under the program's name, held by the runner to its file's expect
 * lines, and a trace under the name with ': its trace', held to the reference's.
 */
export function compareWithProgram(program: Program, got: HeapRun): string | null {
  const end = got.compileError !== undefined
    ? { error: { kind: 'compile' as const, message: got.compileError } }
    : got.error !== undefined ? { error: { kind: 'runtime' as const, message: got.error.message } } : {};
  reportOutcome(program.name, { output: got.output, ...end });
  if (got.error !== undefined) reportOutcome(`${program.name}: its trace`, { output: traceText(got.error.trace).split('\n') });
  const report = compareOutcome(program, { output: got.output, ...end });
  if (report !== null) return report;
  const written = [...program.source.matchAll(/\/\/\s*expect trace:\s?(.*)$/gm)].map((m) => m[1]!.trimEnd());
  const trace = traceText(got.error?.trace ?? []);
  if (written.length > 0 && trace !== written.join('\n')) {
    return `${program.name}.jot: the trace differs from its expect trace lines:\n${diffLines(written, trace.split('\n'))}`;
  }
  return null;
}
