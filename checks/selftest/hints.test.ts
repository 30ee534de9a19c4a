/**
 * `npm run hint`: one rung per call, recorded in .workbook/hints.json, and shown as
 * `hintsUsed` in the JSON results of `npm run check`. Also: `npm run check` records the
 * latest results that `hint` and `progress` read. End to end, in a staged copy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch } from '#native/arch.ts';
import type { ListedCheck } from '../harness/protocol.ts';
import { CHAPTERS } from '../manifest.ts';
import { stageWorkspace } from '../harness/session.ts';
import { matchCheck, nextHint } from '../tools/hint.ts';
import { BYTE_REVERSED, NOTHING_EXECUTABLE, classifyError, describeCrash, failureHint, gitStyleDiff } from '../harness/diagnose.ts';
import { commonCause, shownHint } from '../harness/report.ts';
import type { CheckResult } from '../harness/protocol.ts';
import { wordsToBytes } from '#native/arch.ts';
import { readHints } from '../tools/state.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

test('one rung per call, never past the last, recorded per check', () => {
  const temp = mkdtempSync(join(tmpdir(), 'workbook-hints-'));
  try {
    const check: ListedCheck = { name: 'a check', file: 'checks/x.check.ts', points: 1, timeoutMs: 5000, hints: ['concept', 'where', 'answer'] };
    const shown = [1, 2, 3, 4].map(() => nextHint(temp, CHAPTERS[0]!, check)!);
    assert.equal(shown.map((s) => s.rung), [1, 2, 3, 3]);
    assert.equal(shown.map((s) => s.text), ['concept', 'where', 'answer', 'answer']);
    assert.equal(shown[2]!.earlier, ['concept', 'where']);
    assert.equal(readHints(temp), { '01': { 'a check': 3 } });
    assert.is(nextHint(temp, CHAPTERS[0]!, { ...check, hints: [] }), undefined);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

test('a check is found by number, exact name or a unique part of it', () => {
  const checks = ['sizes round up', 'dispose unmaps', 'dispose twice'].map((name): ListedCheck => ({ name, file: '', points: 1, timeoutMs: 1, hints: [] }));
  assert.is((matchCheck(checks, '2') as ListedCheck).name, 'dispose unmaps');
  assert.is((matchCheck(checks, 'Round') as ListedCheck).name, 'sizes round up');
  assert.is((matchCheck(checks, 'dispose') as ListedCheck[]).length, 2);
  assert.is(matchCheck(checks, 'nothing'), undefined);
});

test('check records results; hint picks the first failing check; hintsUsed shows in the JSON', () => {
  const staged = stageWorkspace(root, root);
  const node = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: staged.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  try {
    const arch = hostArch();
    const first = node(['checks/cli.ts', '1', '--arch', arch]);
    assert.is(first.status, 1, 'the pristine chapter fails');
    assert.match(first.stdout, /0 passed, \d+ failed\n$/, 'the closing line stays last');
    const recorded = JSON.parse(readFileSync(join(staged.root, '.workbook', 'results.json'), 'utf8')) as { groups: Record<string, { results: { check: string }[] }> };
    const firstCheck = recorded.groups[`01/${arch}`]!.results[0]!.check;

    const hint1 = node(['checks/tools/hint.ts', 'chapter-01']);
    assert.is(hint1.status, 0, hint1.stderr);
    assert.match(plain(hint1.stdout), new RegExp(`chapter 01 · ${firstCheck}[\\s\\S]*hint 1 of 3 \\(the concept\\)`));
    const hint2 = node(['checks/tools/hint.ts', '1']);
    assert.match(plain(hint2.stdout), /hint 2 of 3 \(where to look\)/);
    assert.equal(readHints(staged.root), { '01': { [firstCheck]: 2 } });

    const json = join(staged.root, 'results.json');
    node(['checks/cli.ts', '1', '--arch', arch, '--json', json]);
    const results = (JSON.parse(readFileSync(json, 'utf8')) as { results: { check: string; hintsUsed: number }[] }).results;
    assert.is(results.find((r) => r.check === firstCheck)?.hintsUsed, 2);
    assert.ok(results.filter((r) => r.check !== firstCheck).every((r) => r.hintsUsed === 0));

    const progress = node(['checks/tools/progress.ts']);
    assert.is(progress.status, 0, progress.stderr);
    assert.match(plain(progress.stdout), /01 Executable memory +not started/);
    assert.match(plain(progress.stdout), /next: chapter 01[\s\S]*npm run check chapter-01/);

    const solution = node(['checks/tools/solution.ts', '1']);
    assert.is(solution.status, 1);
    assert.match(plain(solution.stdout), /does not pass yet[\s\S]*npm run hint chapter-01/);
  } finally {
    staged.remove();
  }
});

const chapter02 = CHAPTERS.find((c) => c.number === '02')!;
const frame = (where: string, fn: string, line: number) => `    at ${fn} (/tmp/workbook-x/${where}:${line}:5)`;

test('a refusal of chapter 01 code called from chapter 02 blames the chapter 02 call, not chapter 01', () => {
  const stack = [
    'RegionStateError: cannot take a function from a writable region (it must be executable)',
    frame('chapters/01-executable-memory/code-region.ts', 'CodeRegion.#require', 165),
    frame('chapters/01-executable-memory/code-region.ts', 'CodeRegion.function', 132),
    frame('chapters/02-add-four/add-four.ts', 'Module.makeAdder', 104),
    frame('checks/02-add-four/add-four.check.ts', 'Object.handler', 55),
  ].join('\n');
  const error = { name: 'RegionStateError', message: 'cannot take a function from a writable region (it must be executable)', stack };
  const classified = classifyError(error, chapter02);
  assert.is(classified.status, 'fail');
  assert.is(classified.fromChapter, undefined, 'not counted against chapter 01');
  assert.match(classified.details!, "refused a call from your chapter 02 code, at Module.makeAdder (chapters/02-add-four/add-four.ts:104:5)");
  assert.not.match(classified.details!, 'This failure comes from your chapter 01 code');
  assert.match(classified.hint!, 'seal()');

  // The reference of chapter 01 (under --use-ref 1) is never the learner's to fix.
  const viaReference = { ...error, name: 'TypeError', message: 'x', stack: stack.replaceAll('chapters/01-', 'solutions/01-') };
  const reference = classifyError(viaReference, chapter02);
  assert.not.match(reference.details!, '--use-ref');
  assert.match(reference.details!, 'from your chapter 02 code, at Module.makeAdder');

  // A bug inside the learner's own chapter 01 code is still sent there.
  const own = classifyError({ ...error, name: 'TypeError', message: 'boom' }, chapter02);
  assert.is(own.fromChapter, '01');
  assert.match(own.details!, 'comes from your chapter 01 code');
});

test('uvu diffs are shown as git shows them: - expected, + actual', () => {
  assert.is(gitStyleDiff('++r-x    (Expected)\n--rw-    (Actual)\n   ^^'), 'diff (- expected, + actual):\n- r-x\n+ rw-\n   ^^');
  assert.is(gitStyleDiff('··a\nActual:\n--b\nExpected:\n++B\n··c\n'), 'diff (- expected, + actual):\n  a\n- B\n+ b\n  c\n');
  assert.is(gitStyleDiff('no diff here'), 'no diff here');
});

const dump = (pc: bigint, faultAddress: bigint) => ({ signal: 4, pc, faultAddress, sp: 0x7000_0000n, registers: {} });

test('a crash on byte-reversed AArch64 words says so first, and gets the byte-order hint', () => {
  const reversed = Uint8Array.from(wordsToBytes([0x91001000, 0xd65f03c0]).reverse());
  // reverse() turned the whole buffer around; put the words back in order, each reversed.
  const code = Uint8Array.from([...reversed.subarray(4), ...reversed.subarray(0, 4)]);
  const crash = describeCrash('SIGILL', null, dump(0x5000n, 0x5000n), [{ address: 0x5000n, bytes: code }], 'arm64');
  assert.match(crash.message, BYTE_REVERSED);
  assert.match(crash.details, '91 00 10 00  →  00 10 00 91 (add x0, x0, #4)');
  const result = { status: 'fail' as const, check: 'x + 4 runs', ...crash };
  assert.match(failureHint(result)!, 'Byte order');

  const correct = describeCrash('SIGILL', null, dump(0x5000n, 0x5000n), [{ address: 0x5000n, bytes: wordsToBytes([0x91001000, 0x00000000]) }], 'arm64');
  assert.not.match(correct.message, BYTE_REVERSED, 'a real udf is not called byte-reversed');
});

test('a call into pages never made executable says that first, and gets the mprotect hint', () => {
  const crash = describeCrash('SIGSEGV', null, { ...dump(0x7f00_0000_0000n, 0x7f00_0000_0000n), signal: 11 }, [], 'x64');
  assert.ok(crash.message.startsWith(NOTHING_EXECUTABLE), crash.message);
  assert.match(failureHint({ status: 'fail', check: 'a sealed region runs code', ...crash })!, 'mprotect');
  // The same on AArch64, where the cache flush routine was made executable elsewhere.
  const flushed = [{ address: 0x5500_0000n, bytes: wordsToBytes([0xd65f03c0]) }];
  assert.ok(describeCrash('SIGSEGV', null, { ...dump(0x5745_5cf000n, 0x5745_5cf000n), signal: 11 }, flushed, 'arm64').message.startsWith(NOTHING_EXECUTABLE));
  // A wild jump into the middle of nowhere is not called a missing seal.
  assert.not.match(describeCrash('SIGSEGV', null, { ...dump(0x1234n, 0x1234n), signal: 11 }, [], 'x64').message, NOTHING_EXECUTABLE);
  // A store into a sealed page from TypeScript (pc in memcpy, not at the fault) is another story.
  const store = describeCrash('SIGSEGV', null, { ...dump(0x7f00_1234_0000n, 0x7f00_0000_0000n), signal: 11 }, [], 'x64');
  assert.not.match(store.message, NOTHING_EXECUTABLE);
  assert.is(failureHint({ status: 'fail', check: 'writing after sealing is refused', ...store }), undefined);
});

test('a file that does not parse gets the "fix the syntax" hint', () => {
  const result = { status: 'fail' as const, check: 'x + 4 runs', message: 'LearnerCodeLoadError: chapters/02-add-four/add-four.ts:12:3: \';\' expected' };
  assert.match(failureHint(result)!, 'Fix the syntax');
  assert.is(shownHint({ ...result, chapter: '02', arch: 'x64', mode: 'native', ms: 0, points: 1, hint: 'rung 1' }), failureHint(result));
  assert.is(failureHint({ status: 'fail', check: 'c', message: 'f(1) returned 4, expected 5' }), undefined, 'other failures keep the check\'s own rung');
  // A SyntaxError that running code throws is no parse error: the file loaded.
  assert.is(failureHint({ status: 'fail', check: 'c', message: 'SyntaxError: Cannot convert 7f3a to a BigInt' }), undefined, 'BigInt() of a string it cannot read');
  assert.is(failureHint({ status: 'fail', check: 'c', message: 'SyntaxError: Unexpected token } in JSON at position 4' }), undefined, 'JSON.parse of text that is not JSON');
  assert.match(failureHint({ status: 'fail', check: 'c', message: 'SyntaxError: Unexpected identifier \'x\'' })!, 'Fix the syntax');
});

test('planted: a file that does not parse shows the syntax rung, not the check\'s first rung', () => {
  const run = plantedRun('02-add-four/add-four.ts', '  const region = CodeRegion.allocate(code.length);', '  const region = CodeRegion.allocate(code.length;', ['2']);
  try {
    assert.match(run.stdout, 'your code could not be loaded: chapters/02-add-four/add-four.ts:');
    assert.match(run.stdout, 'hint: Fix the syntax first');
    assert.not.match(run.stdout, 'hint: The argument arrives in rdi');
    const hint = spawnSync(process.execPath, ['--import', 'tsx', 'checks/tools/hint.ts', '2'], { cwd: run.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.match(hint.stdout, /your code does not load[\s\S]*Fix the syntax first/);
    assert.not.match(hint.stdout, /hint 1 of/, 'no rung of a check that never ran is used up');
  } finally {
    run.remove();
  }
});

test('one cause behind many failures is said once, at the top', () => {
  const base = { chapter: '01', arch: 'x64' as const, mode: 'native' as const, ms: 0, points: 1 };
  const crash: CheckResult = { ...base, check: 'a', status: 'fail', message: `${NOTHING_EXECUTABLE}: the process crashed with SIGSEGV` };
  const maps: CheckResult = { ...base, check: 'b', status: 'fail', message: 'after seal, /proc/self/maps shows rw- (expected r-x)' };
  const other: CheckResult = { ...base, check: 'c', status: 'fail', message: 'sizes do not round' };
  assert.match(commonCause([crash, { ...crash, check: 'd' }, maps, other])!, /^3 of the 4 failures below have one cause: code is called from pages that were never made executable/);
  assert.is(commonCause([crash, other]), undefined, 'one failure is no pattern');
});

test('the first npm run hint after a report starts after the rung the report showed', () => {
  const temp = mkdtempSync(join(tmpdir(), 'workbook-hints-'));
  try {
    const check: ListedCheck = { name: 'a check', file: 'checks/x.check.ts', points: 1, timeoutMs: 5000, hints: ['concept', 'where', 'answer'] };
    assert.is(nextHint(temp, CHAPTERS[0]!, check, 1)!.rung, 2);
    assert.is(nextHint(temp, CHAPTERS[0]!, check, 1)!.rung, 3);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

/** A copy of the reference chapters 01–02 with one mistake planted, checked on this machine. */
function plantedRun(file: string, find: string, replace: string, args: string[]): { stdout: string; root: string; remove: () => void } {
  const workspace = mkdtempSync(join(tmpdir(), 'workbook-planted-'));
  for (const dir of ['01-executable-memory', '02-add-four']) cpSync(join(root, 'solutions', dir), join(workspace, 'chapters', dir), { recursive: true });
  const path = join(workspace, 'chapters', file);
  const source = readFileSync(path, 'utf8');
  assert.ok(source.includes(find), `the mistake can be planted in ${file}`);
  writeFileSync(path, source.replace(find, replace));
  const staged = stageWorkspace(root, workspace);
  rmSync(workspace, { recursive: true, force: true });
  mkdirSync(join(staged.root, 'book'), { recursive: true });
  for (const page of ['01-executable-memory.md', '02-add-four.md']) cpSync(join(root, 'book', page), join(staged.root, 'book', page));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'checks/cli.ts', ...args, '--arch', hostArch()], { cwd: staged.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { stdout: run.stdout, root: staged.root, remove: staged.remove };
}

test('planted: makeAdder without seal() is blamed on chapter 02, and hint follows', () => {
  const run = plantedRun('02-add-four/add-four.ts', '  region.seal();\n', '', ['2']);
  try {
    assert.match(run.stdout, "refused a call from your chapter 02 code, at Module.makeAdder (chapters/02-add-four/add-four.ts:");
    assert.not.match(run.stdout, 'This failure comes from your chapter 01 code');
    assert.match(run.stdout, 'hint: The message names the state the region was in');
    const hint = spawnSync(process.execPath, ['--import', 'tsx', 'checks/tools/hint.ts', '2'], { cwd: run.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.match(hint.stdout, /the check report's hint for this failure:[\s\S]*hint 1 of \d/, 'the ladder starts at its first rung, after the failure\'s own hint');
    assert.match(hint.stdout, 'book/out/02-add-four.html (build the book first: npm run book)');
    assert.not.match(hint.stdout, 'book/02-add-four.md');
  } finally {
    run.remove();
  }
});

test('planted: seal() without mprotect gives one cause at the top and the mprotect hint', () => {
  const run = plantedRun('01-executable-memory/code-region.ts', '    this.#protect(PROT.READ | PROT.EXEC);\n', '', ['1']);
  try {
    assert.match(run.stdout, /failures below have one cause: code is called from pages that were never made executable/);
    assert.match(run.stdout, `${NOTHING_EXECUTABLE}: the process crashed with SIGSEGV`);
    assert.match(run.stdout, 'hint: The code was called while its pages were still read+write');
  } finally {
    run.remove();
  }
});

test('planted: a check report shows rung 1, so the first npm run hint shows rung 2', () => {
  const run = plantedRun('01-executable-memory/code-region.ts', '  return Math.ceil(size / page) * page;', '  return (Math.floor(size / page) + 1) * page;', ['1']);
  try {
    assert.match(run.stdout, /FAIL {2}sizes round up to whole pages[\s\S]*?hint: /);
    const hint = spawnSync(process.execPath, ['--import', 'tsx', 'checks/tools/hint.ts', '1'], { cwd: run.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.match(hint.stdout, /hint 2 of \d \(where to look\)/, hint.stdout);
  } finally {
    run.remove();
  }
});

test.run();
