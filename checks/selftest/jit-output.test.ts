/**
 * `npm run jit` loses nothing it printed, even when its reader is slow and the run ends in
 * an error: everything past the pipe's 64 KiB buffer used to be dropped by an early exit.
 * Each run here is read by a reader that takes nothing for a while, then everything.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const LINES = 100_000;
/** Long enough that the pipe (64 KiB) is full and the writer is queuing when the reader starts. */
const READER_DELAY_S = 1.5;

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

/**
 * Runs `npm run jit -- file ...args` (without npm) with one of its streams going through a
 * real pipe to a reader that sleeps before it reads: `jit | { sleep; cat; }`, as in a shell.
 * (A reader inside this process would not do: Node.js reads a child's pipes itself as soon
 * as the child exits, and its pipes are socket pairs with far larger buffers.)
 */
function runWithSlowReader(slow: 'stdout' | 'stderr', file: string, args: string[] = []): Run {
  const out = join(dir, 'out.txt');
  const err = join(dir, 'err.txt');
  const jit = `"$NODE" --import tsx "$JIT" "$FILE" ${args.join(' ')}`;
  const reader = `{ sleep ${READER_DELAY_S}; cat; }`;
  const line = slow === 'stdout' ? `${jit} 2>"$ERR" | ${reader} >"$OUT"` : `${jit} 2>&1 >"$OUT" | ${reader} >"$ERR"`;
  const run = spawnSync('bash', ['-c', `set -o pipefail; ${line}`], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', NODE: process.execPath, JIT: join(root, 'tools', 'jit.ts'), FILE: file, OUT: out, ERR: err },
  });
  return { stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8'), status: run.status };
}

const dir = mkdtempSync(join(tmpdir(), 'workbook-jit-output-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test(`${LINES} lines printed before a runtime error all reach a slow reader, then the error`, () => {
  const file = join(dir, 'many-lines.jot');
  writeFileSync(file, `fn main() {\n  let i = 0;\n  while i < ${LINES} {\n    print(i);\n    i = i + 1;\n  }\n  print(1 / (i - i));\n}\n`);
  for (const args of [[], ['--interp']]) {
    const run = runWithSlowReader('stdout', file, args);
    const lines = run.stdout.split('\n');
    assert.is(lines.pop(), '', `${args.join(' ') || 'jit'}: the output ends with a whole line`);
    assert.is(lines.length, LINES, `${args.join(' ') || 'jit'}: every line printed reaches the reader (got ${lines.length} of ${LINES})`);
    const wrong = lines.findIndex((line, i) => line !== String(i));
    assert.is(wrong, -1, `${args.join(' ') || 'jit'}: line ${wrong + 1} is '${lines[wrong]}', not '${wrong}'`);
    assert.is(run.stderr, 'runtime error: division by zero at line 7\nat main (line 7)\n', 'the error, then its stack trace');
    assert.is(run.status, 1, 'a runtime error exits with status 1');
  }
});

test('a compile error longer than the pipe reaches a slow reader whole', () => {
  const name = 'x'.repeat(200_000);
  const file = join(dir, 'long-name.jot');
  writeFileSync(file, `fn main() {\n  print(${name});\n}\n`);
  const run = runWithSlowReader('stderr', file);
  assert.is(run.stdout, '');
  assert.ok(run.stderr.startsWith(`${file}:2:9: `), `the message starts with file:line:column, got: ${run.stderr.slice(0, 80)}`);
  assert.ok(run.stderr.includes(name), `the whole name is in the message (${run.stderr.length} characters arrived)`);
  assert.ok(run.stderr.endsWith('\n'), 'the message ends with its newline');
  assert.is(run.status, 1, 'a compile error exits with status 1');
});

test.run();
