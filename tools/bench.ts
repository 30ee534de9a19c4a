/**
 * `npm run bench [-- --quick] [-- --runs N] [-- --only fib,loop] [-- --skip interpreter,node] [-- --arch x64|arm64] [-- --heap 32m]`:
 * the same programs through every tier that exists, timed in one run and printed side by side.
 *
 *   interpreter    chapter 06, the bytecode interpreter in TypeScript
 *   template JIT   chapter 07, one machine-code template per bytecode instruction
 *   optimizing     chapter 09: SSA, the optimizer's passes, linear-scan registers
 *   tiered         chapter 12: every function starts in the interpreter and is compiled by
 *                  the baseline, then the optimizing tier when it gets hot; a new VM for each
 *                  run, so its figure is the whole cost from cold, warm-up included
 *   node           the same program written in JavaScript, run by Node.js's own JIT
 *   gcc -O0, -O2   the same program in C (tools/bench/*.c), where gcc exists; each reads
 *                  its size from argv, so gcc cannot compute the answer while compiling
 *
 * The tiers take turns (interleaved: one run of each, then the next round), so a change in
 * the machine's load hits them all alike. Each figure is the median of the runs, with the
 * fastest run beside it, and counts only the run of `main`: compilation is timed on its
 * own and shown per bytecode instruction for each compiling tier. The gcc figures include
 * starting a process (about a millisecond). The reference solutions are used for every
 * chapter: like `npm run jit`, this file starts itself again with the package.json
 * conditions that select them.
 *
 * Node's programs use JavaScript numbers, which is what a JavaScript programmer would
 * write; none of the benchmarks leaves the range where they are exact.
 *
 * `--arch` names the architecture whose machine code runs: the other one than this
 * machine's runs in that architecture's Node.js under qemu-user (as the checks do), so only
 * ratios between the tiers mean anything there; the gcc columns are left out (gcc builds
 * for this machine), and the Node.js column is the emulated Node.js. `--skip` leaves tiers
 * out (interpreter, baseline, opt, tiered, node, gcc), for instance the slow interpreter under qemu.
 * `--heap` sets the heap benchmarks' semispace size instead of the default (as `npm run jit`'s).
 *
 * Beside the table: the tiered VM's total time ÷ the best single tier's (its compilation
 * included) for each program, and the warm-up of every tier, the time of each of the first
 * runs of `main` (iterations) in one compiled program or one tiered VM kept across runs: a
 * compiling tier's first iteration includes its compilation, the tiered VM's its promotions.
 * The curves are drawn as an SVG chart in .workbook/bench/warmup.svg (the path is printed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch, isArch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS, solutionCondition } from '../checks/manifest.ts';

const INNER = 'WORKBOOK_BENCH_INNER';
/** Set for the inner process when it runs under emulation: its gcc would build for the host. */
const EMULATED = 'WORKBOOK_BENCH_EMULATED';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Benchmark {
  readonly name: string;
  readonly source: (n: number) => string;
  readonly js: (n: number) => number;
  readonly n: number;
  readonly quickN: number;
}

// @book:start benchmarks
const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'fib',
    n: 35,
    quickN: 27,
    source: (n) => `
      fn fib(n) {
        if n < 2 { return n; }
        return fib(n - 1) + fib(n - 2);
      }
      fn main() { print(fib(${n})); return 0; }`,
    js: (n) => {
      const fib = (k: number): number => (k < 2 ? k : fib(k - 1) + fib(k - 2));
      return fib(n);
    },
  },
  {
    name: 'loop',
    n: 30_000_000,
    quickN: 1_000_000,
    source: (n) => `
      fn main() {
        let sum = 0;
        let i = 0;
        while i < ${n} {
          sum = sum + (i ^ (i >> 3)) % 7;
          i = i + 1;
        }
        print(sum);
        return 0;
      }`,
    js: (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (i ^ (i >> 3)) % 7;
      return sum;
    },
  },
  {
    name: 'primes',
    n: 300_000,
    quickN: 20_000,
    source: (n) => `
      fn is_prime(n): bool {
        if n < 2 { return false; }
        let d = 2;
        while d * d <= n {
          if n % d == 0 { return false; }
          d = d + 1;
        }
        return true;
      }
      fn main() {
        let count = 0;
        let n = 0;
        while n < ${n} {
          if is_prime(n) { count = count + 1; }
          n = n + 1;
        }
        print(count);
        return 0;
      }`,
    js: (n) => {
      const isPrime = (k: number): boolean => {
        if (k < 2) return false;
        for (let d = 2; d * d <= k; d++) if (k % d === 0) return false;
        return true;
      };
      let count = 0;
      for (let k = 0; k < n; k++) if (isPrime(k)) count++;
      return count;
    },
  },
  {
    name: 'collatz',
    n: 100_000,
    quickN: 5_000,
    source: (n) => `
      fn main() {
        let total = 0;
        let start = 1;
        while start < ${n} {
          let x = start;
          while x != 1 {
            if x % 2 == 0 { x = x / 2; } else { x = 3 * x + 1; }
            total = total + 1;
          }
          start = start + 1;
        }
        print(total);
        return 0;
      }`,
    js: (n) => {
      let total = 0;
      for (let start = 1; start < n; start++) {
        let x = start;
        while (x !== 1) {
          x = x % 2 === 0 ? x / 2 : 3 * x + 1;
          total++;
        }
      }
      return total;
    },
  },
  {
    name: 'gcd',
    n: 1000,
    quickN: 150,
    source: (n) => `
      fn gcd(a, b) {
        while b != 0 {
          let t = a % b;
          a = b;
          b = t;
        }
        return a;
      }
      fn main() {
        let sum = 0;
        let a = 1;
        while a < ${n} {
          let b = 1;
          while b < ${n} {
            sum = sum + gcd(a, b);
            b = b + 1;
          }
          a = a + 1;
        }
        print(sum);
        return 0;
      }`,
    js: (n) => {
      const gcd = (a: number, b: number): number => {
        while (b !== 0) [a, b] = [b, a % b];
        return a;
      };
      let sum = 0;
      for (let a = 1; a < n; a++) for (let b = 1; b < n; b++) sum += gcd(a, b);
      return sum;
    },
  },
  {
    name: 'calls',
    n: 3_000_000,
    quickN: 100_000,
    source: (n) => `
      fn square(x) { return x * x; }
      fn add3(a, b, c) { return a + b + c; }
      fn clamp(x, limit) {
        if x > limit { return x - limit; }
        return x;
      }
      fn main() {
        let acc = 0;
        let i = 0;
        while i < ${n} {
          acc = clamp(add3(acc, square(i & 255), i), 1000000007);
          i = i + 1;
        }
        print(acc);
        return 0;
      }`,
    js: (n) => {
      const square = (x: number) => x * x;
      const add3 = (a: number, b: number, c: number) => a + b + c;
      const clamp = (x: number, limit: number) => (x > limit ? x - limit : x);
      let acc = 0;
      for (let i = 0; i < n; i++) acc = clamp(add3(acc, square(i & 255), i), 1000000007);
      return acc;
    },
  },
];
// @book:end benchmarks

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Times one call of `action`: seconds, and what it printed. */
function timeOnce(action: () => string): { seconds: number; output: string } {
  const start = process.hrtime.bigint();
  const output = action();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, output };
}

/** The C twins of the benchmarks, compiled with gcc at -O0 and -O2, or undefined where gcc is missing. */
function compileTwins(names: readonly string[]): { dir: string; binaries: Map<string, string> } | undefined {
  if (spawnSync('gcc', ['--version']).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'jot-bench-'));
  const binaries = new Map<string, string>();
  for (const name of names) {
    const source = join(ROOT, 'tools', 'bench', `${name}.c`);
    if (!existsSync(source)) continue;
    for (const level of ['O0', 'O2']) {
      const out = join(dir, `${name}-${level}`);
      const built = spawnSync('gcc', [`-${level}`, '-o', out, source]);
      if (built.status === 0) binaries.set(`${name} ${level}`, out);
    }
  }
  return { dir, binaries };
}

/** How many bytecode instructions `program` has (for compile time per instruction). */
function instructionCount(program: { functions: readonly { code: Uint8Array | readonly number[] }[] }, size: (opcode: number) => number): number {
  let count = 0;
  for (const fn of program.functions) for (let pc = 0; pc < fn.code.length; pc += size(fn.code[pc]!)) count++;
  return count;
}

function seconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s >= 0.01 ? 1 : 2)} ms`;
}

function ratio(slow: number, fast: number): string {
  const r = slow / fast;
  if (Number.isNaN(r)) return '-';
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x`;
}

/** A ratio with two decimals, for the tiered VM against a target such as 1.2x. */
function preciseRatio(slow: number, fast: number): string {
  return `${(slow / fast).toFixed(2)}x`;
}

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 3 : 5;
  const interpreterRuns = quick ? runs : Math.max(1, Math.min(runs, 3));
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',') : undefined;
  const skipAt = argv.indexOf('--skip');
  const skip = new Set(skipAt >= 0 ? (argv[skipAt + 1] ?? '').split(',') : []);
  const emulated = process.env[EMULATED] === '1';
  if (emulated) skip.add('gcc');
  const runsOf = (tier: string, count: number) => (skip.has(tier) ? 0 : count);

  const { compileSource } = await import('#ch06/compiler.ts');
  const { CORE_OPCODES } = await import('#ch06/bytecode.ts');
  const interpreter = await import('#ch06/interpreter.ts');
  const { compileProgram } = await import('#ch07/jit.ts');
  const { compileOptimized } = await import('#ch09/jit.ts');

  const benchmarks = BENCHMARKS.filter((b) => only === undefined || only.includes(b.name));
  const twins = skip.has('gcc') ? undefined : compileTwins(benchmarks.map((b) => b.name));
  console.log(`${process.arch}${emulated ? ' (emulated by qemu-user: compare ratios only)' : ''}, Node ${process.version}; median (and fastest) of ${runs} interleaved runs (interpreter: ${interpreterRuns})${quick ? ', --quick sizes' : ''}`);
  console.log(twins !== undefined ? 'gcc columns: the C twins in tools/bench/, one process per run (its start-up included)\n' : emulated ? 'no C columns: gcc builds for this machine, not the emulated one\n' : skip.has('gcc') ? 'no C columns (--skip gcc)\n' : 'gcc not found: no C columns\n');
  const tiered = skip.has('tiered') ? undefined : await import('./bench/tiered.ts');
  const warmups: import('./bench/warmup-chart.ts').WarmupCurves[] = [];
  const totals: string[] = [];
  // The tiered VM's fixed cost (its stubs, its code regions, its heap): a new VM running an empty
  // main. The fastest of the runs: the first ones also pay for Node.js compiling the VM itself.
  const startup = tiered === undefined ? NaN : Math.min(...Array.from({ length: runs }, () => timeOnce(() => tiered.runFresh(tiered.tieredProgram('fn main() { return 0; }'))).seconds));
  const header = ['benchmark', 'interpreter', 'template JIT', 'optimizing', 'tiered', 'node (JS)', 'gcc -O0', 'gcc -O2', 'interp ÷ opt', 'baseline ÷ opt', 'node ÷ opt', 'opt ÷ gcc -O2', 'compile µs/op (baseline, opt)'];
  const rows: string[][] = [];
  try {
    for (const bench of benchmarks) {
      const n = quick ? bench.quickN : bench.n;
      const program = compileSource(bench.source(n));
      const ops = instructionCount(program, (op) => CORE_OPCODES.size(op));
      const baselineStart = process.hrtime.bigint();
      const jit = compileProgram(program);
      const baselineCompile = Number(process.hrtime.bigint() - baselineStart) / 1e9;
      const optStart = process.hrtime.bigint();
      const optimized = compileOptimized(program);
      const optCompile = Number(process.hrtime.bigint() - optStart) / 1e9;
      if (optimized.declined.length > 0) console.log(`${bench.name}: the optimizing tier declined ${optimized.declined.map((d) => d.name).join(', ')}`);

      const runJit = (p: typeof jit) => () => {
        const out: string[] = [];
        const outcome = p.run({ print: (t) => out.push(t) });
        if (outcome.error) throw outcome.error;
        return out.join('\n');
      };
      const runC = (level: string) => () => {
        const binary = twins?.binaries.get(`${bench.name} ${level}`);
        if (binary === undefined) return '';
        const ran = spawnSync(binary, [String(n)], { encoding: 'utf8' });
        return ran.stdout.trim();
      };
      const tieredProgram = tiered?.tieredProgram(bench.source(n));
      const warming = tieredProgram === undefined ? undefined : tiered!.warmingVm(tieredProgram);
      const tiers: [string, () => string, number][] = [
        ['interpreter', () => {
          const out: string[] = [];
          interpreter.run(program, { print: (t) => out.push(t) });
          return out.join('\n');
        }, runsOf('interpreter', interpreterRuns)],
        ['template JIT', runJit(jit), runsOf('baseline', runs)],
        ['optimizing', runJit(optimized.jit), runsOf('opt', runs)],
        ['tiered', () => tiered!.runFresh(tieredProgram!), tieredProgram === undefined ? 0 : runs],
        ['tiered warming', () => warming!.next(), warming === undefined ? 0 : runs],
        ['node', () => String(bench.js(n)), runsOf('node', runs)],
        ['gcc -O0', runC('O0'), twins?.binaries.has(`${bench.name} O0`) ? runs : 0],
        ['gcc -O2', runC('O2'), twins?.binaries.has(`${bench.name} O2`) ? runs : 0],
      ];
      const times = new Map<string, number[]>(tiers.map(([name]) => [name, []]));
      const outputs = new Map<string, string>();
      for (let round = 0; round < runs; round++) {
        for (const [name, action, count] of tiers) {
          if (round >= count) continue;
          const { seconds, output } = timeOnce(action);
          times.get(name)!.push(seconds);
          outputs.set(name, output);
        }
      }
      jit.dispose();
      optimized.jit.dispose();
      warming?.dispose();
      const [reference, expected] = [...outputs][0] ?? ['', ''];
      for (const [name, output] of outputs) {
        if (output !== expected) throw new Error(`${bench.name}: ${name} printed ${output}, the ${reference} ${expected}`);
      }
      const med = (name: string) => (times.get(name)!.length > 0 ? median(times.get(name)!) : NaN);
      const cell = (name: string) => (times.get(name)!.length > 0 ? `${seconds(med(name))} (${seconds(Math.min(...times.get(name)!))})` : '-');
      const per = (s: number) => `${((s * 1e6) / ops).toFixed(1)}`;
      rows.push([
        `${bench.name}(${n})`,
        cell('interpreter'),
        cell('template JIT'),
        cell('optimizing'),
        cell('tiered'),
        cell('node'),
        cell('gcc -O0'),
        cell('gcc -O2'),
        ratio(med('interpreter'), med('optimizing')),
        ratio(med('template JIT'), med('optimizing')),
        ratio(med('node'), med('optimizing')),
        ratio(med('optimizing'), med('gcc -O2')),
        `${per(baselineCompile)}, ${per(optCompile)} (${ops} ops)`,
      ]);
      // Each single tier's total: its compilation and one run; the best of them against the tiered VM's from cold.
      const singles: [string, number][] = [['interpreter', med('interpreter')], ['baseline', med('template JIT') + baselineCompile], ['optimizing', med('optimizing') + optCompile]];
      const best = singles.filter(([, s]) => !Number.isNaN(s)).sort((a, b) => a[1] - b[1])[0];
      if (tiered !== undefined) {
        totals.push(best === undefined
          ? `${bench.name}: tiered ${seconds(med('tiered'))}, no single tier ran`
          : `${bench.name}: tiered ${seconds(med('tiered'))} ÷ ${best[0]} ${seconds(best[1])} = ${preciseRatio(med('tiered'), best[1])}${med('tiered') / best[1] <= 1.2 ? '' : ' (above 1.2x)'}; without the VM's start-up ${preciseRatio(med('tiered') - startup, best[1])}`);
      }
      // The warm-up curves: iteration k is round k; a compiling tier's first round pays its compilation.
      const curve = (name: string, compile: number) => times.get(name)!.map((s, i) => (i === 0 ? s + compile : s));
      warmups.push({
        program: `${bench.name}(${n})`,
        tiers: [
          { tier: 'interpreter', seconds: curve('interpreter', 0) },
          { tier: 'baseline', seconds: curve('template JIT', baselineCompile) },
          { tier: 'optimizing', seconds: curve('optimizing', optCompile) },
          { tier: 'tiered', seconds: curve('tiered warming', 0) },
        ].filter((t) => t.seconds.length > 0),
      });
    }
  } finally {
    if (twins !== undefined) rmSync(twins.dir, { recursive: true, force: true });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  console.log(format(header));
  for (const row of rows) console.log(format(row));
  console.log('\nA ratio a ÷ b above 1 means b is faster: "baseline ÷ opt" 3.0x means the optimizing tier takes a third of the template JIT\'s time.');
  if (totals.length > 0) {
    console.log(`\nThe tiered VM from cold (a new VM per run, every promotion included) ÷ the best single tier (its compilation included), medians; the VM's start-up (an empty main, the fastest of ${runs}) is ${seconds(startup)}:`);
    for (const line of totals) console.log(`  ${line}`);
  }
  if (warmups.length > 0) {
    console.log('\nWarm-up: ms per iteration (one run of main) over the first runs, in one compiled program or one tiered VM kept across runs; a compiling tier\'s first includes its compilation:');
    const width = Math.max(...warmups.map((w) => w.program.length));
    for (const w of warmups) {
      for (const { tier, seconds: s } of w.tiers) console.log(`  ${w.program.padEnd(width)}  ${tier.padEnd(11)}  ${s.map((v) => (v * 1000).toFixed(v >= 0.01 ? 1 : 2)).join('  ')}`);
    }
    {
      const chart = join(ROOT, '.workbook', 'bench', 'warmup.svg');
      (await import('./bench/warmup-chart.ts')).writeWarmupChart(chart, warmups, `Warm-up per tier, ${process.arch}${emulated ? ' (emulated)' : ''}: time of each run of main`);
      console.log(`\nwarm-up chart: ${chart}`);
    }
  }
  if (only === undefined || only.includes('exceptions')) (await import('./bench/exceptions.ts')).exceptionBenchmarks({ quick, runs, skip });
  const heapAt = argv.indexOf('--heap');
  const heap = heapAt >= 0 ? argv[heapAt + 1] ?? '' : undefined;
  if (only === undefined || only.includes('heap')) (await import('./bench/heap.ts')).heapBenchmarks({ quick, runs, skip, emulated, ...(heap === undefined ? {} : { heap }) });
}

if (process.env[INNER] === '1') {
  await main(process.argv.slice(2));
} else {
  // Every chapter's reference, named by the manifest, as tools/jit.ts and the checks do.
  const conditions = CHAPTERS.map((c) => `--conditions=${solutionCondition(c)}`);
  const args = process.argv.slice(2);
  const archAt = args.indexOf('--arch');
  const arch = archAt >= 0 ? args[archAt + 1] ?? '' : hostArch();
  if (!isArch(arch)) {
    console.error(`bench: --arch takes x64 or arm64, not '${arch}'`);
    process.exit(2);
  }
  // This machine's architecture: this Node.js with tsx. The other: its Node.js under qemu-user, as the checks run it.
  let command = process.execPath;
  let prefix = ['--import', 'tsx'];
  if (arch !== hostArch()) {
    const found = availability(arch, ROOT);
    if (!found.available) {
      console.error(`bench: cannot run ${arch} code here: ${found.reason}`);
      process.exit(1);
    }
    command = found.launcher.command;
    prefix = [...found.launcher.prefix, ...found.launcher.typescript];
  }
  const result = spawnSync(command, [...prefix, ...conditions, fileURLToPath(import.meta.url), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '', [INNER]: '1', [EMULATED]: arch !== hostArch() ? '1' : '0' },
  });
  process.exit(result.status ?? 1);
}
