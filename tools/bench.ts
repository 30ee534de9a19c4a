/**
 * `npm run bench [-- --quick] [-- --runs N]`: the same programs through every tier that
 * exists, timed in one run and printed side by side.
 *
 *   interpreter    chapter 06, the bytecode interpreter in TypeScript
 *   template JIT   chapter 07, one machine-code template per bytecode instruction
 *   node           the same program written in JavaScript, run by Node.js's own JIT
 *
 * Each figure is the median of several runs of `main` (compilation not included; the
 * template JIT's compile time is printed on its own). The reference solutions are used
 * for every chapter: like `npm run jit`, this file starts itself again with the
 * package.json conditions that select them.
 *
 * Node's programs use JavaScript numbers, which is what a JavaScript programmer would
 * write; none of the benchmarks leaves the range where they are exact.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INNER = 'WORKBOOK_BENCH_INNER';
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
];
// @book:end benchmarks

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `action` `runs` times; returns the median time in seconds and the last output. */
function time(runs: number, action: () => string): { seconds: number; output: string } {
  const times: number[] = [];
  let output = '';
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    output = action();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { seconds: median(times), output };
}

function seconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s >= 0.01 ? 1 : 2)} ms`;
}

function ratio(slow: number, fast: number): string {
  const r = slow / fast;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x`;
}

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 3 : 5;
  const interpreterRuns = quick ? runs : Math.max(1, Math.min(runs, 3));

  const { compileSource } = await import('#ch06/compiler.ts');
  const interpreter = await import('#ch06/interpreter.ts');
  const { compileProgram } = await import('#ch07/jit.ts');

  console.log(`${process.arch}, Node ${process.version}; median of ${runs} runs (interpreter: ${interpreterRuns})${quick ? ', --quick sizes' : ''}\n`);
  const header = ['benchmark', 'interpreter', 'template JIT', 'node (JS)', 'JIT vs interp', 'node vs JIT', 'JIT compile'];
  const rows: string[][] = [];
  for (const bench of BENCHMARKS) {
    const n = quick ? bench.quickN : bench.n;
    const program = compileSource(bench.source(n));
    const interp = time(interpreterRuns, () => {
      const out: string[] = [];
      interpreter.run(program, { print: (t) => out.push(t) });
      return out.join('\n');
    });
    const compileStart = process.hrtime.bigint();
    const jit = compileProgram(program);
    const compileSeconds = Number(process.hrtime.bigint() - compileStart) / 1e9;
    const jitted = time(runs, () => {
      const out: string[] = [];
      const outcome = jit.run({ print: (t) => out.push(t) });
      if (outcome.error) throw outcome.error;
      return out.join('\n');
    });
    jit.dispose();
    const node = time(runs, () => String(bench.js(n)));
    for (const [tier, output] of [['template JIT', jitted.output], ['node', node.output]] as const) {
      if (output !== interp.output) throw new Error(`${bench.name}: ${tier} printed ${output}, the interpreter ${interp.output}`);
    }
    rows.push([
      `${bench.name}(${n})`,
      seconds(interp.seconds),
      seconds(jitted.seconds),
      seconds(node.seconds),
      ratio(interp.seconds, jitted.seconds),
      ratio(jitted.seconds, node.seconds),
      seconds(compileSeconds),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  console.log(format(header));
  for (const row of rows) console.log(format(row));
}

if (process.env[INNER] === '1') {
  await main(process.argv.slice(2));
} else {
  const conditions = ['01', '02', '03', '04', '05', '06', '07'].map((n) => `--conditions=solution-ch${n}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...conditions, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '', [INNER]: '1' },
  });
  process.exit(result.status ?? 1);
}
