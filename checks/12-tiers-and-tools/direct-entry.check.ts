/**
 * Chapter 12: the shape of the direct entry, `jot` (tools/jot.mjs). On the architecture it
 * runs on, a program runs in the very process that was started: no second Node.js. The proof
 * is the perf map: `jot --perf-map` writes /tmp/perf-<pid>.map in the process that compiles
 * and runs the code, so the map of the started process's own pid must name every function
 * of the program, read with this chapter's `parsePerfMap`. The program's machine code runs on
 * this worker's architecture (under qemu-user for the emulated one, where the started
 * process is qemu running that architecture's Node.js: still one process). Without a program,
 * jot is the REPL, and a session typed on its stdin prints only what each input shows.
 *
 * How long it takes is not asserted (the machine may be busy; `time node tools/jot.mjs hello.jot`
 * measures it): on an idle machine a start of `hello.jot` takes about a tenth of a second.
 */
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, learnerCode } from '#harness/check.ts';
import { chapterModule, THREE_FUNCTIONS, THREE_FUNCTIONS_OUTPUT } from './tools-support.ts';

type PerfMapModule = typeof import('../../solutions/12-tiers-and-tools/perf-map.ts');

const perf = await learnerCode(chapterModule<PerfMapModule>('perf-map.ts'));

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const JOT = join(ROOT, 'tools', 'jot.mjs');

/** How to start a Node.js of this worker's architecture from inside it. */
function nodeCommand(mode: 'native' | 'emulated'): { command: string; prefix: string[]; build?: string } {
  if (mode === 'native') return { command: process.execPath, prefix: [] };
  // Under qemu-user the worker cannot start a Node.js of its own architecture by path (nothing
  // would emulate it): start qemu, as the runner started this worker.
  const described = join(process.env.WORKBOOK_TOOLCHAIN_ROOT ?? ROOT, '.toolchain', 'other-arch.json');
  const setup = JSON.parse(readFileSync(described, 'utf8')) as { qemu: string; sysroot?: string; node: string; hostNode: string; arch: string };
  const sysroot = setup.arch === 'arm64' ? '/usr/aarch64-linux-gnu' : '/usr/x86_64-linux-gnu';
  return { command: setup.qemu, prefix: ['-L', sysroot, setup.node], build: setup.hostNode };
}

function run(command: string, args: readonly string[], stdin?: string): Promise<{ pid: number; status: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ pid: child.pid!, status, stdout, stderr, ms: performance.now() - started }));
  });
}

/** Builds the bundle first where the started Node.js could not (esbuild is a program of the machine's own architecture). */
function buildFirst(node: { build?: string }): void {
  if (node.build === undefined) return;
  const built = spawnSync(node.build, [join(ROOT, 'tools', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.is(built.status, 0, `building the direct entry failed: ${built.stderr}`);
}

check('jot runs a program in the one process it starts, which writes the perf map of every function it compiled', async (t) => {
  const node = nodeCommand(t.mode);
  buildFirst(node);
  const dir = mkdtempSync(join(tmpdir(), 'jot-direct-'));
  const program = join(dir, 'three.jot');
  writeFileSync(program, THREE_FUNCTIONS);
  try {
    const result = await run(node.command, [...node.prefix, JOT, '--perf-map', '--tier', 'opt', program]);
    const map = `/tmp/perf-${result.pid}.map`;
    assert.is(result.status, 0, `jot ended with status ${result.status}:\n${result.stderr}`);
    assert.equal(result.stdout.trim().split('\n'), THREE_FUNCTIONS_OUTPUT, 'what the program printed');
    assert.ok(
      existsSync(map),
      `no ${map}: the process jot started (pid ${result.pid}) did not compile the program itself (a second process did?)\nstderr:\n${result.stderr}`,
    );
    const symbols = perf.parsePerfMap(readFileSync(map, 'utf8'));
    rmSync(map, { force: true });
    for (const name of ['square', 'sum_of_squares', 'is_even', 'main']) {
      assert.ok(symbols.some((s) => s.name === name && s.tier === 'opt'), `${map} does not name ${name} [opt]: ${JSON.stringify(symbols.map((s) => `${s.name} [${s.tier}]`))}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 60000, hints: [
  'jot imports the bundle (.workbook/build/jot.mjs) and runs the program in its own process on its own architecture; only another architecture or --mine start a second one.',
] });

check('jot without a program reads a REPL session from stdin and prints only what each input shows', async (t) => {
  const node = nodeCommand(t.mode);
  buildFirst(node);
  const session = ['fn fact(n) {', '  if n <= 1 {', '    return 1;', '  }', '  return n * fact(n - 1);', '}', 'let k = fact(10);', 'k / 7', ':jit fact', 'fact(20)', ':arch', ''].join('\n');
  const result = await run(node.command, [...node.prefix, JOT], session);
  assert.is(result.status, 0, `jot ended with status ${result.status}:\n${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.slice(0, 3), ['defined fn fact(n)', '518400', `fact: optimizing tier, ${/0x[0-9a-f]+/.exec(lines[2] ?? '')?.[0] ?? '?'} bytes of ${t.arch} code`], result.stdout);
  assert.is(lines[3], '2432902008176640000', result.stdout);
  assert.match(lines[4] ?? '', new RegExp(`^code is made for ${t.arch}; this process: ${t.arch}, Node\\.js v\\d+`), result.stdout);
  assert.is(lines.length, 5, result.stdout);
}, { timeoutMs: 60000 });
