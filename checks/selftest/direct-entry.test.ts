/**
 * The direct entry, `jot` (tools/jot.mjs), as the workbook ships it: the command line bundled
 * with the reference solutions (build.mjs). It is the workbook's own tool, not a learner's
 * work, so it is proven here and not in chapter 12's graded checks (a graded copy of a
 * learner's work has no tools/ folder).
 *
 * On the architecture it runs on, a program runs in the very process that was started: no
 * second Node.js. The proof is the perf map: `jot --perf-map` writes /tmp/perf-<pid>.map in
 * the process that compiles and runs the code, so the map of the started process's own pid
 * must name every function of the program. Both architectures: natively, and under qemu-user
 * for the other one where the workbook set it up (the started process is then qemu running
 * that architecture's Node.js: still one process). Without a program, jot is the REPL, and a
 * session typed on its stdin prints only what each input shows.
 *
 * How long a start takes is not asserted (the machine may be busy; `time node tools/jot.mjs
 * hello.jot` measures it): on an idle machine a start of `hello.jot` takes about a tenth of a
 * second.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePerfMap } from '../../solutions/12-tiers-and-tools/perf-map.ts';
import { THREE_FUNCTIONS, THREE_FUNCTIONS_OUTPUT } from '../12-tiers-and-tools/tools-support.ts';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const JOT = join(ROOT, 'tools', 'jot.mjs');
const HOST_ARCH = process.arch as 'x64' | 'arm64';

/** A Node.js to start jot with: this one, or the other architecture's under qemu-user. */
interface NodeCommand {
  readonly arch: 'x64' | 'arm64';
  readonly command: string;
  readonly prefix: readonly string[];
}

/** The Node.js commands of both architectures, the other one only where `npm run setup` made it runnable. */
function nodeCommands(): NodeCommand[] {
  const commands: NodeCommand[] = [{ arch: HOST_ARCH, command: process.execPath, prefix: [] }];
  const described = join(process.env.WORKBOOK_TOOLCHAIN_ROOT ?? ROOT, '.toolchain', 'other-arch.json');
  if (!existsSync(described)) return commands;
  const setup = JSON.parse(readFileSync(described, 'utf8')) as { qemu?: string; sysroot?: string; node?: string; arch?: 'x64' | 'arm64'; problems?: readonly string[] };
  if (setup.qemu === undefined || setup.node === undefined || setup.arch === undefined || (setup.problems ?? []).length > 0) return commands;
  const sysroot = setup.sysroot ?? (setup.arch === 'arm64' ? '/usr/aarch64-linux-gnu' : '/usr/x86_64-linux-gnu');
  commands.push({ arch: setup.arch, command: setup.qemu, prefix: ['-L', sysroot, setup.node] });
  return commands;
}

function run(node: NodeCommand, args: readonly string[], stdin?: string, nodeArgs: readonly string[] = []): Promise<{ pid: number; status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node.command, [...node.prefix, ...nodeArgs, JOT, ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ pid: child.pid!, status, stdout, stderr }));
  });
}

// The bundle is built by this architecture's Node.js (esbuild is a program of the machine's
// own architecture): the emulated jot then finds it up to date.
const built = spawnSync(process.execPath, [join(ROOT, 'tools', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`building the direct entry failed: ${built.stderr}`);

for (const node of nodeCommands()) {
  const where = node.arch === HOST_ARCH ? `${node.arch}, native` : `${node.arch}, under qemu-user`;

  test(`jot runs a program in the one process it starts, which writes the perf map of every function it compiled (${where})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jot-direct-'));
    const program = join(dir, 'three.jot');
    writeFileSync(program, THREE_FUNCTIONS);
    try {
      const result = await run(node, ['--perf-map', '--tier', 'opt', program]);
      const map = `/tmp/perf-${result.pid}.map`;
      assert.is(result.status, 0, `jot ended with status ${result.status}:\n${result.stderr}`);
      assert.equal(result.stdout.trim().split('\n'), THREE_FUNCTIONS_OUTPUT, 'what the program printed');
      assert.ok(existsSync(map), `no ${map}: the process jot started (pid ${result.pid}) did not compile the program itself (a second process did?)\nstderr:\n${result.stderr}`);
      const symbols = parsePerfMap(readFileSync(map, 'utf8'));
      rmSync(map, { force: true });
      for (const name of ['square', 'sum_of_squares', 'is_even', 'main']) {
        assert.ok(symbols.some((s) => s.name === name && s.tier === 'opt'), `${map} does not name ${name} [opt]: ${JSON.stringify(symbols.map((s) => `${s.name} [${s.tier}]`))}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`jot without a program reads a REPL session from stdin and prints only what each input shows (${where})`, async () => {
    const session = ['fn fact(n) {', '  if n <= 1 {', '    return 1;', '  }', '  return n * fact(n - 1);', '}', 'let k = fact(10);', 'k / 7', ':jit fact', 'fact(20)', ':arch', ''].join('\n');
    const result = await run(node, [], session);
    assert.is(result.status, 0, `jot ended with status ${result.status}:\n${result.stderr}`);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.slice(0, 3), ['defined fn fact(n)', '518400', `fact: optimizing tier, ${/0x[0-9a-f]+/.exec(lines[2] ?? '')?.[0] ?? '?'} bytes of ${node.arch} code`], result.stdout);
    assert.is(lines[3], '2432902008176640000', result.stdout);
    assert.match(lines[4] ?? '', new RegExp(`^code is made for ${node.arch}; this process: ${node.arch}, Node\\.js v\\d+`), result.stdout);
    assert.is(lines.length, 5, result.stdout);
  });
}

/** A module that says on stderr whenever WebAssembly is compiled or instantiated (capstone is the only WebAssembly jot loads). */
const WASM_SPY = `for (const name of ['instantiate', 'compile', 'instantiateStreaming', 'compileStreaming']) {
  const original = WebAssembly[name];
  if (typeof original === 'function') WebAssembly[name] = function (...args) { process.stderr.write('[webassembly]\\n'); return original.apply(this, args); };
}
const OriginalModule = WebAssembly.Module;
WebAssembly.Module = function (...args) { process.stderr.write('[webassembly]\\n'); return new OriginalModule(...args); };
`;

test('jot loads capstone only to show machine code: a run does not load it, --emit-asm and :disasm do', async () => {
  const native = nodeCommands()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'jot-wasm-'));
  const spy = join(dir, 'spy.mjs');
  writeFileSync(spy, WASM_SPY);
  const hello = join(ROOT, 'checks', 'programs', 'hello.jot');
  try {
    const plain = await run(native, [hello], undefined, ['--import', spy]);
    assert.is(plain.status, 0, plain.stderr);
    assert.not.match(plain.stderr, /\[webassembly\]/, 'a run that shows no machine code loaded capstone');
    const listing = await run(native, ['--emit-asm', '--tier', 'baseline', hello], undefined, ['--import', spy]);
    assert.is(listing.status, 0, listing.stderr);
    assert.match(listing.stderr, /\[webassembly\]/, 'the spy saw no WebAssembly: it cannot tell a lazy capstone from an eager one');
    assert.match(listing.stdout, /^0000  ([0-9a-f]{2} )+ +\S+.*; entry/m, listing.stdout.slice(0, 2000));
    const repl = await run(native, [], 'fn f(n) { return n * 3; }\n:disasm f opt\n');
    assert.is(repl.status, 0, repl.stderr);
    assert.match(repl.stdout, /^== f ==\n[0-9a-f]{4}  ([0-9a-f]{2} )+ +\S+/m, repl.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
