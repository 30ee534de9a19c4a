/**
 * The exception benchmarks of `npm run bench` (chapter 10), printed after the main table.
 *
 *   try in a hot loop   the same loop with its call inside a `try` and without it. In the
 *                       template JIT entering and leaving a `try` runs no instruction, so
 *                       the two should take the same time, within noise. (The optimizing
 *                       tier leaves a function with a `try` to the template compiler: its
 *                       column shows what that costs the loop.)
 *   throw across N      a throw that unwinds N frames to its handler, many times; the cost
 *                       per throw is the time over the same calls returning normally,
 *                       divided by the number of throws. The frames in between are plain
 *                       recursion, which the optimizing tier compiles: its throws unwind
 *                       through optimized frames.
 *
 * Runs in bench.ts's inner process (the reference solutions of every chapter).
 */
import { compileSource } from '#ch06/compiler.ts';
import { run as interpret } from '#ch06/interpreter.ts';
import type { JitProgram } from '#ch07/jit.ts';
import { compileOptimized } from '#ch09/jit.ts';
import { compileProgram } from '#ch07/jit.ts';
import type { JitLanguage } from '#ch07/language.ts';

// A specifier in a variable: the typecheck of chapters/ must not need chapter 10's files.
const chapter10 = '#ch10/jit-language.ts';
const { EXCEPTIONS_JIT } = (await import(chapter10)) as { EXCEPTIONS_JIT: JitLanguage };

export interface ExceptionBenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  /** Tiers left out: interpreter, baseline, opt. */
  readonly skip: ReadonlySet<string>;
}

/** A loop calling a small function n times, its call inside a `try` or not. */
function loopSource(n: number, withTry: boolean): string {
  const body = withTry
    ? 'try { sum = sum + work(i); } catch e { sum = sum - e; }'
    : 'sum = sum + work(i);';
  return `
    fn work(i) { return (i ^ (i >> 3)) % 7; }
    fn main() {
      let sum = 0;
      let i = 0;
      while i < ${n} {
        ${body}
        i = i + 1;
      }
      print(sum);
      return 0;
    }`;
}

/** `count` times: recurse `depth` frames, then throw (or return) at the bottom, caught in main. */
function throwSource(count: number, depth: number, throws: boolean): string {
  return `
    fn bottom(p) {
      if p >= 0 { ${throws ? 'throw p;' : 'return p;'} }
      return 0;
    }
    fn down(n, p) {
      if n <= 1 { return bottom(p) + 1; }
      return down(n - 1, p) + 1;
    }
    fn main() {
      let total = 0;
      let i = 0;
      while i < ${count} {
        try { total = total + down(${depth}, i); } catch e { total = total + e; }
        i = i + 1;
      }
      print(total);
      return 0;
    }`;
}

type Runner = () => string;

function jitRunner(jit: JitProgram): Runner {
  return () => {
    const out: string[] = [];
    const outcome = jit.run({ print: (t) => out.push(t) });
    if (outcome.error) throw outcome.error;
    return out.join('\n');
  };
}

/** Every tier's runner for `source`, and what frees their code. */
function tiersOf(source: string, skip: ReadonlySet<string>): { runners: Map<string, Runner>; dispose: () => void } {
  const program = compileSource(source, EXCEPTIONS_JIT);
  const baseline = compileProgram(program, undefined, EXCEPTIONS_JIT.jit);
  const optimized = compileOptimized(program, undefined, { level: EXCEPTIONS_JIT.jit }).jit;
  const runners = new Map<string, Runner>();
  if (!skip.has('interpreter')) {
    runners.set('interpreter', () => {
      const out: string[] = [];
      interpret(program, { print: (t) => out.push(t), level: EXCEPTIONS_JIT });
      return out.join('\n');
    });
  }
  if (!skip.has('baseline')) runners.set('template JIT', jitRunner(baseline));
  if (!skip.has('opt')) runners.set('optimizing', jitRunner(optimized));
  return { runners, dispose: () => { baseline.dispose(); optimized.dispose(); } };
}

/** Median seconds of each named runner over `runs` interleaved rounds; outputs must agree per name. */
function timeInterleaved(runners: ReadonlyMap<string, Runner>, runs: number): Map<string, number> {
  const times = new Map<string, number[]>([...runners.keys()].map((k) => [k, []]));
  const outputs = new Map<string, string>();
  for (let round = 0; round < runs; round++) {
    for (const [name, runner] of runners) {
      const start = process.hrtime.bigint();
      const output = runner();
      times.get(name)!.push(Number(process.hrtime.bigint() - start) / 1e9);
      const seen = outputs.get(name);
      if (seen !== undefined && seen !== output) throw new Error(`${name} printed ${output}, then ${seen}`);
      outputs.set(name, output);
    }
  }
  return new Map([...times].map(([name, list]) => [name, [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!]));
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  return [line(header), ...rows.map(line)].join('\n');
}

const TIERS = ['interpreter', 'template JIT', 'optimizing'] as const;

// @book:start exception-bench
export function exceptionBenchmarks(options: ExceptionBenchOptions): void {
  const runs = options.runs;
  const n = options.quick ? 1_000_000 : 10_000_000;
  console.log(`\nexceptions: a try in a hot loop (${n} iterations), median of ${runs} interleaved runs`);
  const loops = [false, true].map((withTry) => ({ withTry, ...tiersOf(loopSource(n, withTry), new Set([...options.skip, 'interpreter'])) }));
  const both = new Map<string, Runner>();
  for (const loop of loops) for (const [name, runner] of loop.runners) both.set(`${name} ${loop.withTry ? 'try' : 'plain'}`, runner);
  const loopTimes = timeInterleaved(both, runs);
  loops.forEach((l) => l.dispose());
  const loopRows = TIERS.slice(1).filter((t) => loopTimes.has(`${t} plain`)).map((t) => {
    const plain = loopTimes.get(`${t} plain`)!;
    const withTry = loopTimes.get(`${t} try`)!;
    return [t, `${(plain * 1e3).toFixed(1)} ms`, `${(withTry * 1e3).toFixed(1)} ms`, `${(withTry / plain).toFixed(2)}x`];
  });
  console.log(table(['tier', 'without try', 'with try', 'try ÷ without'], loopRows));
  console.log('(the optimizing tier leaves a function with a try to the template compiler)');

  const count = options.quick ? 2_000 : 20_000;
  console.log('\nexceptions: throws, each across N frames to its handler; cost per throw over the same calls returning (and the whole time per throw)');
  const rows: string[][] = [];
  for (const depth of [1, 10, 100, 1000]) {
    const throws = Math.max(100, Math.floor(count / Math.max(1, depth / 10))); // fewer throws from deeper down
    const throwing = tiersOf(throwSource(throws, depth, true), options.skip);
    const returning = tiersOf(throwSource(throws, depth, false), options.skip);
    const runners = new Map<string, Runner>();
    for (const [name, runner] of throwing.runners) runners.set(`${name} throw`, runner);
    for (const [name, runner] of returning.runners) runners.set(`${name} return`, runner);
    const times = timeInterleaved(runners, depth >= 1000 ? Math.min(runs, 3) : runs);
    throwing.dispose();
    returning.dispose();
    rows.push([`N = ${depth} (${throws} throws)`, ...TIERS.map((t) => {
      const thrown = times.get(`${t} throw`);
      const returned = times.get(`${t} return`);
      if (thrown === undefined || returned === undefined) return '-';
      return `${(((thrown - returned) / throws) * 1e6).toFixed(2)} µs (${((thrown / throws) * 1e6).toFixed(2)})`;
    })]);
  }
  console.log(table(['frames', ...TIERS.map((t) => `${t}: per throw (whole)`)], rows));
}
// @book:end exception-bench
