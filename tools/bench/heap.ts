/**
 * The heap benchmarks of `npm run bench` (chapter 11), printed after the exceptions'.
 *
 *   binary-trees   tools/bench/binary_trees.jot at depth 16 (12 with --quick): millions of
 *                  short-lived trees and one long-lived one, on the default heap; the
 *                  collector runs many times
 *   sieve          the sieve of Eratosthenes on an array of a million bools: one allocation,
 *                  then element loads and stores with their bounds checks
 *
 * Each runs in the interpreter, the template JIT and the optimizing tier (the functions it
 * declines run as the template JIT's code; the table's note counts them), in Node.js, and
 * where gcc exists as its C twin (binary_trees.c, sieve.c: malloc and free) at -O0 and -O2,
 * with the run's collections, pause times, bytes copied and allocation throughput from the
 * heap's counts (for a C twin: the bytes it asked malloc for, which it reports on stderr).
 *
 * Runs in bench.ts's inner process (the reference solutions of every chapter).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HeapOutcome, HeapRunOptions } from '../../solutions/11-garbage-collector/run.ts';
import { jsBinaryTrees, jsSieve } from './node-twins.ts';

// Specifiers in variables: the typecheck of chapters/ must not need chapter 11's files.
const chapter11 = '#ch11/';
const { runInterpreter } = (await import(`${chapter11}run.ts`)) as typeof import('../../solutions/11-garbage-collector/run.ts');
const { runCompiledOnHeap } = (await import(`${chapter11}jit-run.ts`)) as typeof import('../../solutions/11-garbage-collector/jit-run.ts');
const { DEFAULT_SEMISPACE_BYTES } = (await import(`${chapter11}heap.ts`)) as typeof import('../../solutions/11-garbage-collector/heap.ts');
const { parseSize } = (await import(`${chapter11}run.ts`)) as typeof import('../../solutions/11-garbage-collector/run.ts');
const chapter12 = '#ch12/';
const { runTiered } = (await import(`${chapter12}run.ts`)) as typeof import('../../solutions/12-tiers-and-tools/run.ts');

export interface HeapBenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  /** Tiers left out: interpreter, baseline, opt, tiered, node, gcc. */
  readonly skip: ReadonlySet<string>;
  /** The semispace size as `--heap` takes it (32m, 512k); the default heap's without it. */
  readonly heap?: string;
  /** This process runs under qemu-user: Node.js's rows run in it (a new process of this architecture cannot be started directly). */
  readonly emulated?: boolean;
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

/** What one run printed, and the heap's counts (a tier of ours) or malloc's (a C twin). */
interface RunResult {
  readonly output: string;
  /** Seconds and CPU seconds of the run as the process that ran it measured them (Node.js's and the C twins' rows). */
  readonly seconds?: number;
  readonly cpu?: number;
  readonly heap?: HeapOutcome['heap'];
  readonly malloc?: { readonly allocations: number; readonly bytes: number };
  /** Functions the optimizing tier left to the template compiler. */
  readonly declined?: number;
}

type Run = () => RunResult;

function tierRun(run: (source: string, options: HeapRunOptions) => HeapOutcome & { declined?: number }, source: string, options: HeapRunOptions): Run {
  return () => {
    const outcome = run(source, options);
    if (outcome.error !== undefined) throw new Error(outcome.error.message);
    return { output: outcome.output.join('\n'), heap: outcome.heap, ...(outcome.declined === undefined ? {} : { declined: outcome.declined }) };
  };
}

/** A tiered run's outcome without its list of declined functions (the table counts the optimizing tier's alone). */
function withoutDeclines(outcome: HeapOutcome & { readonly declined: readonly string[] }): HeapOutcome {
  const { declined: _declined, ...rest } = outcome;
  return rest;
}

/** The C twins (tools/bench/<name>.c) built with gcc at -O0 and -O2 in a new directory, or undefined without gcc. */
function buildTwins(names: readonly string[]): { dir: string; binaries: Map<string, string> } | undefined {
  if (spawnSync('gcc', ['--version']).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'jot-heap-bench-'));
  const binaries = new Map<string, string>();
  for (const name of names) {
    for (const level of ['O0', 'O2']) {
      const out = join(dir, `${name}-${level}`);
      const built = spawnSync('gcc', [`-${level}`, '-o', out, join(HERE, `${name}.c`)], { encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`gcc -${level} ${name}.c failed:\n${built.stderr}`);
      binaries.set(`${name} ${level}`, out);
    }
  }
  return { dir, binaries };
}

/** A C twin's run: its stdout, and the `allocations N bytes B cpu S` line it writes on stderr. */
function twinRun(binary: string, size: number): Run {
  return () => {
    const ran = spawnSync(binary, [String(size)], { encoding: 'utf8' });
    if (ran.status !== 0) throw new Error(`${binary} ${size} exited with ${ran.status ?? ran.signal}: ${ran.stderr}`);
    const counts = /allocations (\d+) bytes (\d+) cpu ([\d.]+)/.exec(ran.stderr);
    if (counts === null) throw new Error(`${binary} ${size} wrote no 'allocations N bytes B cpu S' line on stderr, but: ${ran.stderr}`);
    return { output: ran.stdout.trimEnd(), cpu: Number(counts[3]), malloc: { allocations: Number(counts[1]), bytes: Number(counts[2]) } };
  };
}

const NODE_TWINS = join(HERE, 'node-twins.ts');

/** Node.js's run of a twin in a new process (node-twins.ts), timed by that process: its start-up is left out. */
function nodeRun(name: string, size: number): Run {
  return () => {
    const ran = spawnSync(process.execPath, ['--import', 'tsx', NODE_TWINS, name, String(size)], { encoding: 'utf8', cwd: join(HERE, '..', '..'), env: { ...process.env, NODE_OPTIONS: '' } });
    if (ran.status !== 0) throw new Error(`node-twins.ts ${name} ${size} exited with ${ran.status ?? ran.signal}: ${ran.stderr}`);
    const times = /seconds ([\d.e-]+) cpu ([\d.e-]+)/.exec(ran.stderr);
    if (times === null) throw new Error(`node-twins.ts ${name} ${size} wrote no 'seconds S cpu C' line on stderr, but: ${ran.stderr}`);
    return { output: ran.stdout.trimEnd(), seconds: Number(times[1]), cpu: Number(times[2]) };
  };
}

function seconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

function mib(bytes: number): string {
  const mebibytes = bytes / 2 ** 20;
  return `${mebibytes.toFixed(mebibytes < 10 ? 1 : 0)} MiB`;
}

// @book:start heap-bench
export function heapBenchmarks(options: HeapBenchOptions): void {
  const depth = options.quick ? 12 : 16;
  const n = options.quick ? 100_000 : 1_000_000; // 8 bytes an element: a million fit in the default semispace
  const cases = [
    { name: `binary-trees (depth ${depth})`, twin: 'binary_trees', js: 'binary-trees', size: depth, source: binaryTrees(depth), inProcess: () => jsBinaryTrees(depth) },
    { name: `sieve (${n})`, twin: 'sieve', js: 'sieve', size: n, source: sieve(n), inProcess: () => jsSieve(n) },
  ];
  const semispaceBytes = options.heap === undefined ? undefined : parseSize(options.heap);
  const heap: HeapRunOptions = semispaceBytes === undefined ? {} : { semispaceBytes };
  const twins = options.skip.has('gcc') ? undefined : buildTwins(cases.map((c) => c.twin));
  const which = semispaceBytes === undefined ? `the default heap (two semispaces of ${mib(DEFAULT_SEMISPACE_BYTES)})` : `--heap ${options.heap} (two semispaces of ${mib(semispaceBytes)})`;
  console.log(`\nheap: ${which}, median of ${options.runs} interleaved runs (interpreter: at most 2)`);
  console.log('time: wall-clock seconds, cpu: CPU seconds (all threads; on a busy machine the steadier figure); collections, pauses (all,');
  console.log('longest), bytes copied and allocation throughput (over the wall-clock time) are those of the median run');
  console.log(options.emulated === true ? 'node: in this process (emulated), where what ran before can change how its collector places objects' : 'node: tools/bench/node-twins.ts in a process of its own per run, timed without its start-up');
  console.log(twins === undefined ? 'no C rows (--skip gcc, emulated, or no gcc)' : 'gcc: the C twins (tools/bench/*.c: malloc and free, one process per run, its start-up included); their bytes are what they asked malloc for');
  const header = ['benchmark', 'tier', 'time', 'cpu', 'collections', 'pauses', 'copied', 'allocated', '÷ node', '÷ gcc -O2'];
  const rows: string[][] = [];
  const declines: string[] = [];
  const tieredRatios: string[] = [];
  try {
    for (const c of cases) {
      const tiers: [key: string, label: string, run: Run, runs: number][] = [
        ['interpreter', 'interpreter', tierRun(runInterpreter, c.source, heap), Math.min(options.runs, 2)],
        ['baseline', 'template JIT', tierRun((s, o) => runCompiledOnHeap(s, 'baseline', o), c.source, heap), options.runs],
        ['opt', 'optimizing', tierRun((s, o) => runCompiledOnHeap(s, 'optimized', o), c.source, heap), options.runs],
        ['tiered', 'tiered', tierRun((s, o) => withoutDeclines(runTiered(s, o)), c.source, heap), options.runs],
        ['node', 'node', options.emulated === true ? () => ({ output: c.inProcess() }) : nodeRun(c.js, c.size), options.runs],
        ...(['O0', 'O2'] as const).flatMap((level): [string, string, Run, number][] => {
          const binary = twins?.binaries.get(`${c.twin} ${level}`);
          return binary === undefined ? [] : [['gcc', `gcc -${level}`, twinRun(binary, c.size), options.runs]];
        }),
      ];
      const chosen = tiers.filter(([key]) => !options.skip.has(key));
      const results = new Map<string, { seconds: number; cpu: number; result: RunResult }[]>(chosen.map(([, label]) => [label, []]));
      let expected: { label: string; output: string } | undefined;
      // Interleaved: one run of each tier, then the next round, so the machine's load hits them alike.
      for (let round = 0; round < options.runs; round++) {
        for (const [, label, run, runs] of chosen) {
          if (round >= runs) continue;
          const cpu = process.cpuUsage();
          const start = process.hrtime.bigint();
          const result = run();
          const elapsed = result.seconds ?? Number(process.hrtime.bigint() - start) / 1e9;
          const used = process.cpuUsage(cpu);
          const cpuSeconds = result.cpu ?? (used.user + used.system) / 1e6;
          expected ??= { label, output: result.output };
          if (result.output !== expected.output) throw new Error(`${c.name} in ${label} printed\n${result.output}\nbut ${expected.label} printed\n${expected.output}`);
          results.get(label)!.push({ seconds: elapsed, cpu: cpuSeconds, result });
        }
      }
      const medianOf = (label: string) => {
        const times = [...(results.get(label) ?? [])].sort((a, b) => a.seconds - b.seconds);
        return times[Math.floor(times.length / 2)];
      };
      const ratio = (a: number, b: number | undefined) => (b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
      const singles = ['template JIT', 'optimizing'].map((label) => medianOf(label)?.seconds).filter((t): t is number => t !== undefined);
      const tiered = medianOf('tiered')?.seconds;
      if (tiered !== undefined && singles.length > 0) tieredRatios.push(`${c.name}: ${ratio(tiered, Math.min(...singles))}`);
      const declined = medianOf('optimizing')?.result.declined;
      if (declined !== undefined && declined > 0) declines.push(`${c.name}: ${declined}`);
      for (const [, label] of chosen) {
        const median = medianOf(label)!;
        const { heap, malloc } = median.result;
        const allocated = heap?.bytesAllocated ?? malloc?.bytes;
        const cpus = results.get(label)!.map((r) => r.cpu).sort((x, y) => x - y);
        rows.push([c.name, label, seconds(median.seconds), seconds(cpus[Math.floor(cpus.length / 2)]!),
          heap === undefined ? '-' : String(heap.collections),
          heap === undefined ? '-' : `${heap.pauseMs.toFixed(0)} ms, ${heap.maxPauseMs.toFixed(1)} ms`,
          heap === undefined ? '-' : mib(heap.bytesCopied),
          allocated === undefined ? '-' : `${mib(allocated)}, ${(allocated / 2 ** 20 / median.seconds).toFixed(0)} MiB/s`,
          label === 'node' ? '-' : ratio(median.seconds, medianOf('node')?.seconds),
          label === 'gcc -O2' ? '-' : ratio(median.seconds, medianOf('gcc -O2')?.seconds)]);
      }
    }
  } finally {
    if (twins !== undefined) rmSync(twins.dir, { recursive: true, force: true });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: readonly string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  console.log([format(header), ...rows.map(format)].join('\n'));
  console.log('(÷ node and ÷ gcc -O2: the row\'s wall-clock time over theirs; below 1.00x is faster)');
  if (tieredRatios.length > 0) console.log(`tiered (a new VM per run, from the interpreter) ÷ the best single tier, wall-clock medians: ${tieredRatios.join('; ')}`);
  if (declines.length > 0) console.log(`(functions the optimizing tier declined, which ran as the template JIT's code: ${declines.join(', ')})`);
}
// @book:end heap-bench
