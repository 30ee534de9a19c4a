/**
 * The heap benchmarks of `npm run bench` (chapter 11), printed after the exceptions'.
 *
 *   binary-trees   tools/bench/binary_trees.jot at depth 16 (12 with --quick): millions of
 *                  short-lived trees and one long-lived one, on the default heap; the
 *                  collector runs many times
 *   sieve          the sieve of Eratosthenes on an array of a million bools: one allocation,
 *                  then element loads and stores with their bounds checks
 *
 * Each runs in the interpreter, the template JIT and the optimizing tier (which declines the
 * functions that touch the heap, so its column is the template JIT's code), and in Node.js,
 * with the run's collections, pause times and allocation throughput from the heap's counts.
 *
 * Runs in bench.ts's inner process (the reference solutions of every chapter).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HeapOutcome, HeapRunOptions } from '../../solutions/11-garbage-collector/run.ts';

// Specifiers in variables: the typecheck of chapters/ must not need chapter 11's files.
const chapter11 = '#ch11/';
const { runInterpreter } = (await import(`${chapter11}run.ts`)) as typeof import('../../solutions/11-garbage-collector/run.ts');
const { runCompiledOnHeap } = (await import(`${chapter11}jit-run.ts`)) as typeof import('../../solutions/11-garbage-collector/jit-run.ts');

export interface HeapBenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  /** Tiers left out: interpreter, baseline, opt, node. */
  readonly skip: ReadonlySet<string>;
}

const HERE = dirname(fileURLToPath(import.meta.url));

function binaryTrees(depth: number): string {
  return readFileSync(join(HERE, 'binary_trees.jot'), 'utf8').replace('let maxDepth = 16;', `let maxDepth = ${depth};`);
}

function sieve(n: number): string {
  return `
    fn main() {
      let composite = new [bool](${n});
      let count = 0;
      let i = 2;
      while i < ${n} {
        if !composite[i] {
          count = count + 1;
          let j = i * i;
          while j < ${n} {
            composite[j] = true;
            j = j + i;
          }
        }
        i = i + 1;
      }
      print(count);
      return 0;
    }`;
}

interface JsTree { left: JsTree | null; right: JsTree | null }

function jsBinaryTrees(maxDepth: number): string {
  const bottomUp = (d: number): JsTree => (d <= 0 ? { left: null, right: null } : { left: bottomUp(d - 1), right: bottomUp(d - 1) });
  const check = (t: JsTree): number => (t.left === null ? 1 : 1 + check(t.left) + check(t.right!));
  const out = [String(check(bottomUp(maxDepth + 1)))];
  const longLived = bottomUp(maxDepth);
  for (let depth = 4; depth <= maxDepth; depth += 2) {
    const iterations = 1 << (maxDepth - depth + 4);
    let total = 0;
    for (let i = 0; i < iterations; i++) total += check(bottomUp(depth));
    out.push(String(iterations), String(total));
  }
  out.push(String(check(longLived)));
  return out.join('\n');
}

function jsSieve(n: number): string {
  const composite = new Uint8Array(n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i] === 0) {
      count++;
      for (let j = i * i; j < n; j += i) composite[j] = 1;
    }
  }
  return String(count);
}

type Run = () => { output: string; heap?: HeapOutcome['heap'] };

function tierRun(run: (source: string, options: HeapRunOptions) => HeapOutcome, source: string): Run {
  return () => {
    const outcome = run(source, {});
    if (outcome.error !== undefined) throw new Error(outcome.error.message);
    return { output: outcome.output.join('\n'), heap: outcome.heap };
  };
}

function seconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

// @book:start heap-bench
export function heapBenchmarks(options: HeapBenchOptions): void {
  const depth = options.quick ? 12 : 16;
  const n = options.quick ? 100_000 : 1_000_000; // 8 bytes an element: a million fit in the default semispace
  const cases = [
    { name: `binary-trees (depth ${depth})`, source: binaryTrees(depth), js: () => jsBinaryTrees(depth) },
    { name: `sieve (${n})`, source: sieve(n), js: () => jsSieve(n) },
  ];
  console.log(`\nheap: the default heap, median of ${options.runs} runs; collections, pauses (all, longest) and allocation throughput of the median run`);
  const header = ['benchmark', 'tier', 'time', 'collections', 'pauses', 'allocated'];
  const rows: string[][] = [];
  for (const c of cases) {
    const tiers: [string, string, Run][] = [
      ['interpreter', 'interpreter', tierRun(runInterpreter, c.source)],
      ['baseline', 'template JIT', tierRun((s, o) => runCompiledOnHeap(s, 'baseline', o), c.source)],
      ['opt', 'optimizing', tierRun((s, o) => runCompiledOnHeap(s, 'optimized', o), c.source)],
      ['node', 'node', () => ({ output: c.js() })],
    ];
    let expected: string | undefined;
    for (const [key, label, run] of tiers) {
      if (options.skip.has(key)) continue;
      const times: { seconds: number; heap?: HeapOutcome['heap'] }[] = [];
      for (let i = 0; i < (key === 'interpreter' ? Math.min(options.runs, 2) : options.runs); i++) {
        const start = process.hrtime.bigint();
        const { output, heap } = run();
        const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
        expected ??= output;
        if (output !== expected) throw new Error(`${c.name} in ${label} printed\n${output}\nbut another tier printed\n${expected}`);
        times.push({ seconds: elapsed, ...(heap === undefined ? {} : { heap }) });
      }
      times.sort((a, b) => a.seconds - b.seconds);
      const median = times[Math.floor(times.length / 2)]!;
      const heap = median.heap;
      rows.push([c.name, label, seconds(median.seconds),
        heap === undefined ? '-' : String(heap.collections),
        heap === undefined ? '-' : `${heap.pauseMs.toFixed(0)} ms, ${heap.maxPauseMs.toFixed(1)} ms`,
        heap === undefined ? '-' : `${(heap.bytesAllocated / 2 ** 20).toFixed(0)} MiB, ${(heap.bytesAllocated / 2 ** 20 / median.seconds).toFixed(0)} MiB/s`]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: readonly string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  console.log([format(header), ...rows.map(format)].join('\n'));
  console.log('(the optimizing tier declines the functions that touch the heap: its rows run the template JIT\'s code for them)');
}
// @book:end heap-bench
