/**
 * Grading in the sandbox: a roster of hostile submissions (checks/selftest/fixtures/hostile/),
 * each a chapter 01 reference with an attack that runs when the checks load it, graded next
 * to an honest student. Every hostile student earns nothing and its note shows the attack did
 * not get through; the honest student earns everything, on both architectures; and nothing
 * the attacks aimed at outside their sandbox changed. Chapter 01, x86-64 (AArch64 for the
 * honest student only).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS } from '../manifest.ts';
import { grade, gradesCsv, readRoster, type StudentGrade } from '../tools/grade.ts';
import { DEFAULT_LIMITS, probeSandbox } from '../harness/sandbox.ts';
import { stageWorkspace } from '../harness/session.ts';
import { listChecks } from '../tools/listing.ts';
import { survivors } from './processes.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const chapter = CHAPTERS[0]!;
const dir = '01-executable-memory';
const hostile = join(root, 'checks', 'selftest', 'fixtures', 'hostile');
const MiB = 1024 * 1024;

/** What each attack's note must say: the attack was stopped. */
const STOPPED: Record<string, RegExp> = {
  abort: /stopped before listing its checks \(SIGABRT\)/,
  secrets: /hostile secrets: ~\/\.ssh ENOENT, \/etc\/shadow ENOENT, \/usr\/local (?:0 files|ENOENT), \/usr\/lib\/node_modules (?:0 files|ENOENT)/,
  'write-outside': /hostile write-outside: escaped-\S+ (?:ENOENT|EROFS), planted-\S+ EROFS/,
  network: /hostile network: (?:ECONNREFUSED|ENETUNREACH)/,
  'fork-bomb': /hostile fork-bomb: started \d+, then EAGAIN/,
  memory: /hostile memory: stopped after \d+ MiB/,
  'disk-fill': /SIGXFSZ|EFBIG|stopped at \d+ MiB/,
  sleeper: /did not start in time/,
  'kill-parent': /hostile kill-parent: parent pid [01] not reachable, grader ESRCH/,
  forge: /result channel carried/,
  'patch-library': /hostile patch-library: check\.ts (?:EROFS|EACCES), uvu\/assert (?:EROFS|EACCES), registry REFUSED, Object\.is TypeError/,
  'edit-checks': /hostile edit-checks: (?:\S+\.check\.ts (?:EROFS|EACCES)(?:, )?)+$/,
};

const usable = probeSandbox();

test('hostile submissions earn nothing and change nothing; the honest student beside them earns everything, on both architectures', async () => {
  if (!usable.ok) {
    assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), 'workbook-hostile-'));
  const mark = `mark${process.pid}x${Date.now()}`;
  let connections = 0;
  const server = createServer((socket) => (connections++, socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const solution = readFileSync(join(root, 'solutions', dir, 'code-region.ts'), 'utf8');
    const afterImports = solution.indexOf('\n', solution.indexOf("from '#native/icache.ts'")) + 1;
    assert.ok(afterImports > 0, 'the reference imports #native/icache.ts');
    const attacks = readdirSync(hostile).filter((f) => f.endsWith('.attack')).map((f) => f.replace(/\.attack$/, '')).sort();
    assert.equal(attacks, Object.keys(STOPPED).sort(), 'one expectation per attack');
    cpSync(join(root, 'solutions', dir), join(base, 'honest', 'chapters', dir), { recursive: true });
    for (const attack of attacks) {
      const code = readFileSync(join(hostile, `${attack}.attack`), 'utf8')
        .replaceAll('__BASE__', base)
        .replaceAll('__HOME__', homedir())
        .replaceAll('__GRADER_PID__', String(process.pid))
        .replaceAll('__PORT__', String(port))
        .replaceAll('__MARK__', mark);
      cpSync(join(root, 'solutions', dir), join(base, attack, 'chapters', dir), { recursive: true });
      writeFileSync(join(base, attack, 'chapters', dir, 'code-region.ts'), solution.slice(0, afterImports) + code + solution.slice(afterImports));
    }
    // A worker that forges a whole passing run: every check of chapter 01 reports what it observed, which the runner holds to the reference's.
    stageForger(join(base, 'forger-pass'), '01', 'code-region.ts');
    writeFileSync(join(base, 'roster.csv'), ['student,path', 'honest,honest', ...attacks.map((a) => `${a},${a}`), 'forger-pass,forger-pass'].join('\n') + '\n');
    const roster = readRoster(join(base, 'roster.csv'));
    // A wall-clock ceiling far below the default, so the sleeper costs seconds, yet far above a native start-up on a busy machine.
    const limits = { ...DEFAULT_LIMITS, memoryBytes: 2048 * MiB, fileBytes: 32 * MiB, processes: 64 };
    const sandbox = { limits, wallCeilingMs: 25_000 };

    const host: Arch = 'x64';
    const { students } = await grade({ root, roster, chapters: [chapter], arches: [host], parallel: 4, sandbox });
    const student = (name: string) => students.find((s) => s.student === name)!;
    const honest = student('honest').rows[0]!;
    assert.ok(honest.possible > 0);
    assert.is(honest.points, honest.possible, `the honest student earns every point: ${honest.note}`);
    assert.is(honest.note, '');
    assert.is(honest.sandbox, 'bwrap');
    for (const attack of attacks) {
      const graded: StudentGrade = student(attack);
      const row = graded.rows[0]!;
      assert.is(row.points, 0, `${attack}: no points (${row.note})`);
      assert.is(row.possible, honest.possible, `${attack}: the chapter is worth what it is worth`);
      assert.ok(row.note !== "", `${attack}: a note says why: ${JSON.stringify(graded.results.slice(0, 3))}`);
      const said = `${row.note}\n${graded.results.map((r) => r.message).join('\n')}`;
      assert.match(said, STOPPED[attack]!, `${attack}: the attack was stopped; it said: ${said.slice(0, 600)}`);
      if (process.env.SHOW_NOTES) console.log(`${attack}: ${row.note}`);
    }
    assert.match(gradesCsv(students), /\nforge,01,x64,0,\d+,0,\d+,0,.*result channel.*,bwrap\n/);
    assertJudgedFail(student('forger-pass'), 18);
    assert.is(student('forger-pass').rows[0]!.points, 0, 'the forger of a passing run earns nothing in chapter 01');

    // Nothing outside the sandboxes changed.
    assert.is(connections, 0, 'no connection reached the server on 127.0.0.1');
    assert.not.ok(existsSync(join(base, `escaped-${mark}`)), 'no file written outside the staged copy');
    assert.not.ok(existsSync(join(tmpdir(), `fill-${mark}.bin`)), 'no disk filled in /tmp');
    assert.is(survivors(mark), 0, 'no process of the fork bomb survives its sandbox');
    assert.not.ok(readFileSync(join(root, 'checks', 'harness', 'check.ts'), 'utf8').includes('// patched'), 'the check library is untouched');
    for (const attack of attacks) assert.equal(readdirSync(join(base, attack, 'chapters', dir)).sort(), readdirSync(join(root, 'solutions', dir)).sort(), `${attack}: the student's own folder is as it was`);

    // The emulated architecture runs in the sandbox too.
    if (availability('arm64', root).available) {
      const { students: emulated } = await grade({ root, roster: roster.slice(0, 1), chapters: [chapter], arches: ['arm64'], sandbox: { limits } });
      const row = emulated[0]!.rows[0]!;
      assert.ok(row.possible > 0);
      assert.is(row.points, row.possible, `the honest student earns every point on AArch64: ${row.note}`);
    }
  } finally {
    server.close();
    rmSync(base, { recursive: true, force: true });
  }
});

test('a worker that forges a passing run earns nothing on a check whose program outcomes the runner judges, one that reads the staged programs finds no expectations, and a compiler that misses a compile error is failed by the runner alone; the honest student is unchanged', async () => {
  if (!usable.ok) {
    assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
    return;
  }
  const chapter06 = CHAPTERS.find((c) => c.number === '06')!;
  const fixtures = join(root, 'checks', 'selftest', 'fixtures', 'verdicts');
  // A grader's copy of the workbook whose chapter 06 has one more check, one that reports its programs' outcomes.
  const grader = stageWorkspace(root, root);
  const base = mkdtempSync(join(tmpdir(), 'workbook-verdicts-'));
  try {
    copyFileSync(join(fixtures, 'reported-programs.check.ts'), join(grader.root, 'checks', '06-interpreter', 'zz-reported-programs.check.ts'));
    for (const student of ['honest', 'forger', 'reader', 'lenient']) {
      for (const dir of ['05-parser', '06-interpreter']) cpSync(join(root, 'solutions', dir), join(base, student, 'chapters', dir), { recursive: true });
    }
    const interpreter = join(base, 'forger', 'chapters', '06-interpreter', 'interpreter.ts');
    const source = readFileSync(interpreter, 'utf8');
    const afterImports = source.indexOf('\n', source.lastIndexOf('\nimport ')) + 1;
    writeFileSync(interpreter, source.slice(0, afterImports) + forgeryAttack('06-interpreter') + source.slice(afterImports));
    const reader = join(base, 'reader', 'chapters', '06-interpreter', 'interpreter.ts');
    writeFileSync(reader, source.slice(0, afterImports) + readFileSync(join(fixtures, 'read-expectations.attack'), 'utf8') + source.slice(afterImports));
    // A compiler that takes an int for a condition: in the staged copy no program says it should not compile.
    const checker = join(base, 'lenient', 'chapters', '06-interpreter', 'checker.ts');
    const strict = "    if (type !== 'bool') fail(cond.pos, `condition of '${keyword}' must be bool, found ${type}`);\n";
    assert.ok(readFileSync(checker, 'utf8').includes(strict), 'the reference checks the type of a condition');
    writeFileSync(checker, readFileSync(checker, 'utf8').replace(strict, ''));
    const roster = ['honest', 'forger', 'reader', 'lenient'].map((student) => ({ student, path: join(base, student) }));
    const { students } = await grade({ root: grader.root, roster, chapters: [chapter06], arches: ['x64'], parallel: 3, sandbox: { limits: DEFAULT_LIMITS } });
    const [honest, forger, readerGrade, lenient] = students as [StudentGrade, StudentGrade, StudentGrade, StudentGrade];
    const judgedCheck = 'reported programs: each outcome judged by the runner';
    assert.is(honest.rows[0]!.points, honest.rows[0]!.possible, `the honest student earns every point: ${honest.rows[0]!.note}`);
    assert.is(honest.results.find((r) => r.check === judgedCheck)?.status, 'pass');
    // The forged run got through the result channel, but every check of chapter 06 reports what it observed, and the forged run reported nothing.
    assertJudgedFail(forger, 25);
    assert.is(forger.rows[0]!.points, 0, 'the forger earns nothing in chapter 06');
    const judged = forger.results.find((r) => r.check === judgedCheck);
    assert.is(judged?.status, 'fail', 'the check the runner judges fails');
    assert.match(judged!.message, /judged outside the process that ran the code: \d+ of \d+ programs went wrong/);
    assert.match(judged!.message, /no outcome was reported/);
    // The programs staged beside a student's code have their expectations blanked; the grader's own copy keeps them.
    const said = `${readerGrade.rows[0]!.note}\n${readerGrade.results.map((r) => r.message).join('\n')}`;
    assert.match(said, /hostile read-expectations: [1-9]\d* programs, 0 expected lines, 0 error messages, 0 runtime errors, 0 compile errors, 0 vectors with bytes or assembly/, `the staged programs hold no expectations: ${said.slice(0, 400)}`);
    assert.ok(readFileSync(join(grader.root, 'checks', 'programs', 'fib.jot'), 'utf8').includes('// expect: '), "the grader's copy keeps its expectations");
    // Its worker could not tell error_if_int.jot from a program that compiles; the runner could.
    const missed = lenient.results.filter((r) => r.status !== 'pass');
    assert.equal(missed.map((r) => r.check), ['programs that do not compile: the first error, at its line:column'], 'the lenient compiler fails the compile-error check alone');
    assert.match(missed[0]!.message, JUDGED);
    assert.match(missed[0]!.message, /error_if_int\.jot: expected the program to end with\n\s+compile error: 4:6: condition of 'if' must be bool, found int\n\s+but it ended with\n\s+normal exit/);
  } finally {
    grader.remove();
    rmSync(base, { recursive: true, force: true });
  }
});

/**
 * A forger's workspace at `dir`: the reference for chapters 01 up to `chapter`, its `file` of
 * that chapter carrying the seal-stealing attack (fixtures/verdicts/forge-pass.attack), which
 * forges a pass of the checks `names` (without them, of those written with a plain name).
 */
function stageForger(dir: string, chapter: string, file: string, names: readonly string[] = []): void {
  const graded = CHAPTERS.find((c) => c.number === chapter)!;
  for (const c of CHAPTERS.filter((c) => c.number <= chapter)) cpSync(join(root, 'solutions', `${c.number}-${c.slug}`), join(dir, 'chapters', `${c.number}-${c.slug}`), { recursive: true });
  const target = join(dir, 'chapters', `${graded.number}-${graded.slug}`, file);
  const source = readFileSync(target, 'utf8');
  // After the last import (a multi-line one too), or before the first export of a file that imports nothing.
  const imports = [...source.matchAll(/^import\b[^;]*;$/gm)];
  const afterImports = imports.length > 0 ? imports.at(-1)!.index! + imports.at(-1)![0].length + 1 : source.search(/^export /m);
  assert.ok(afterImports > 0, `${file} has an import or an export the attack can go before`);
  writeFileSync(target, source.slice(0, afterImports) + forgeryAttack(`${graded.number}-${graded.slug}`, names) + source.slice(afterImports));
}

/** The seal-stealing attack (fixtures/verdicts/forge-pass.attack) on the checks of `chapterDir`, forging a pass of `names` (without them, of the checks written with a plain name). */
function forgeryAttack(chapterDir: string, names: readonly string[] = []): string {
  return readFileSync(join(root, 'checks', 'selftest', 'fixtures', 'verdicts', 'forge-pass.attack'), 'utf8')
    .replaceAll('__CHAPTER__', chapterDir)
    .replaceAll('__NAMES__', () => JSON.stringify(names));
}

/**
 * Grades an honest student and a forger, each with the reference for chapters 01 up to
 * `chapter`, the forger's `file` of that chapter carrying the seal-stealing attack; asserts the
 * honest student earns every point and returns the forger's grade. With `everyName`, the
 * forger forges a pass of every check the runner lists (the grader's own listing), names
 * built in a loop included.
 */
async function gradeForger(chapter: string, file: string, options: { everyName?: boolean } = {}): Promise<StudentGrade> {
  const graded = CHAPTERS.find((c) => c.number === chapter)!;
  const dirs = CHAPTERS.filter((c) => c.number <= chapter).map((c) => `${c.number}-${c.slug}`);
  const base = mkdtempSync(join(tmpdir(), `workbook-forge${chapter}-`));
  try {
    for (const dir of dirs) cpSync(join(root, 'solutions', dir), join(base, 'honest', 'chapters', dir), { recursive: true });
    const names = options.everyName ? (await listChecks(root, graded, 'x64', { solutions: true })).map((c) => c.name) : [];
    stageForger(join(base, 'forger'), chapter, file, names);
    const roster = ['honest', 'forger'].map((student) => ({ student, path: join(base, student) }));
    const { students } = await grade({ root, roster, chapters: [graded], arches: ['x64'], parallel: 2, sandbox: { limits: DEFAULT_LIMITS } });
    const [honest, forger] = students as [StudentGrade, StudentGrade];
    assert.is(honest.rows[0]!.points, honest.rows[0]!.possible, `the honest student earns every point: ${honest.rows[0]!.note}`);
    return forger;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const JUDGED = /^judged outside the process that ran the code: \d+ of \d+ programs went wrong/;

/** The forger's checks judged by the runner: each fails for want of a reported outcome, and costs its points. */
function assertJudgedFail(forger: StudentGrade, atLeast: number): void {
  const judged = forger.results.filter((r) => JUDGED.test(r.message));
  for (const result of judged) {
    assert.is(result.status, 'fail');
    assert.match(result.message, /no outcome was reported/);
  }
  assert.ok(judged.length >= atLeast, `the checks judged by the runner: ${judged.length} of ${forger.results.length}`);
  assert.ok(forger.rows[0]!.points <= forger.rows[0]!.possible - judged.length, `the forger loses every judged check: ${forger.rows[0]!.points} of ${forger.rows[0]!.possible}`);
}

const sandboxUsable = (): boolean => {
  if (!usable.ok) assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
  return usable.ok;
};

test("a worker that forges a passing run of chapter 02 earns nothing: the runner holds what every check observed (values returned, registers changed, which architecture's code and how long) to the reference's", async () => {
  if (!sandboxUsable()) return;
  const forger = await gradeForger('02', 'add-four.ts');
  // Every check reports what it observed; the forged run reported nothing.
  const judged = [
    'x + 4, written by hand, runs',
    'adderCode(k) computes x + k for every edge value of k',
    "the code leaves the caller's registers as it found them",
    'makeAdder(k) runs the machine code it placed in memory',
    'makeAdder(k) is right for every edge value of k',
    'makeAdder(k) is right for random k and x',
    'adderCode rejects a k outside 64 bits',
    'adderCode(k, arch) emits the code of the architecture it is asked for',
    'small constants use the short immediate forms',
  ];
  for (const name of judged) {
    const result = forger.results.find((r) => r.check === name);
    assert.is(result?.status, 'fail', `'${name}' fails for the forger: ${result?.message.slice(0, 200)}`);
    assert.match(result!.message, JUDGED);
    assert.match(result!.message, /no outcome was reported/);
  }
  assert.ok(forger.rows[0]!.points <= forger.rows[0]!.possible - judged.length, `the forger loses every judged check: ${forger.rows[0]!.points} of ${forger.rows[0]!.possible}`);
});

test("a worker that forges a passing run of chapter 04 earns nothing: the runner holds the values assembled code returned, patched branches and what calls returned to the reference's", async () => {
  // Every check reports what it observed; the forged run reported nothing.
  if (sandboxUsable()) assertJudgedFail(await gradeForger('04', 'masm.ts'), 32);
});

test("a worker that forges a passing run of chapter 05 earns nothing: the runner holds the trees, tokens, error positions and extensions' results to the reference's", async () => {
  // Every check reports what it observed; the forged run reported nothing.
  if (sandboxUsable()) assertJudgedFail(await gradeForger('05', 'parser.ts'), 32);
});

test("a worker that forges a passing run of chapter 08 earns nothing: the runner holds what the IR printed before and after each pass, the dominators, the verifier's refusals and what the passes left to the reference's", async () => {
  // Every check reports what it observed; the forged run reported nothing.
  if (sandboxUsable()) assertJudgedFail(await gradeForger('08', 'optimize.ts'), 21);
});

test("a worker that forges a passing run of chapter 11 earns nothing: the runner holds how each heap program ended, the collector's results, the stack maps at allocations and what the compiled tiers' allocations did to the reference's and to the programs' own expectations", async () => {
  // Every check reports what it observed; the forged run, which passes every check the runner
  // lists (those made in a loop over the tiers too), reported nothing.
  if (!sandboxUsable()) return;
  const forger = await gradeForger('11', 'heap.ts', { everyName: true });
  assertJudgedFail(forger, 42);
  assert.is(forger.rows[0]!.points, 0, 'the forger earns nothing in chapter 11');
});

test("a worker that forges a passing run of every check of chapter 12 earns nothing: the runner holds how each tiered run ended, the promotions, counters, statistics and trace lines the checks require, the perf map's functions and facts, the code writes and what each REPL input showed to the reference's", async () => {
  if (!sandboxUsable()) return;
  // Every check reports what it observed; the forged run reported nothing. The forger lists
  // every check as the grader lists them, the three made in a loop over thresholds too.
  const forger = await gradeForger('12', 'run.ts', { everyName: true });
  assertJudgedFail(forger, 44);
  assert.is(forger.rows[0]!.points, 0, 'the forger earns nothing in chapter 12');
});

test("chapter 03's encoder bytes are judged by the runner against its own vectors: a wrong encoding fails there, a forged passing run earns nothing on the checks that execute or refuse, the honest student keeps every point", async () => {
  if (!usable.ok) {
    assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
    return;
  }
  const chapter03 = CHAPTERS.find((c) => c.number === '03')!;
  const base = mkdtempSync(join(tmpdir(), 'workbook-vectors-'));
  try {
    for (const student of ['honest', 'wrong']) {
      for (const dir of ['01-executable-memory', '02-add-four', '03-encoders']) cpSync(join(root, 'solutions', dir), join(base, student, 'chapters', dir), { recursive: true });
    }
    // mov rbx, rbp encoded one ModRM off (48 89 ec, which is mov rsp, rbp): in its worker, with the bytes blanked, nothing notices.
    const x64 = join(base, 'wrong', 'chapters', '03-encoders', 'x64.ts');
    const source = readFileSync(x64, 'utf8');
    const body = "  regs('mov', dst, src);\n";
    assert.ok(source.includes(body), 'the reference movq_rr checks its registers first');
    writeFileSync(x64, source.replace(body, `${body}  if (dst === 3 && src === 5) return [0x48, 0x89, 0xec];\n`));
    // The forger names the checks written with a plain name (those that execute encodings or refuse operands) and passes them.
    stageForger(join(base, 'forger'), '03', 'x64.ts');
    const roster = ['honest', 'wrong', 'forger'].map((student) => ({ student, path: join(base, student) }));
    const { students } = await grade({ root, roster, chapters: [chapter03], arches: ['x64'], parallel: 3, sandbox: { limits: DEFAULT_LIMITS } });
    const [honest, wrong, forger] = students as [StudentGrade, StudentGrade, StudentGrade];
    assertJudgedFail(forger, 15);
    assert.is(honest.rows[0]!.points, honest.rows[0]!.possible, `the honest student earns every point: ${honest.rows[0]!.note}`);
    const failed = wrong.results.filter((r) => r.status !== 'pass');
    assert.is(failed.length, 1, `one check fails: ${failed.map((r) => r.check).join('; ')}`);
    assert.match(failed[0]!.message, /^judged outside the process that ran the code: 1 of \d+ programs went wrong/);
    assert.match(failed[0]!.message, /x64 vector movq_rr\(3, 5\)  →  mov rbx, rbp: printed output differs/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

/** The lines written out in a chapter's expectations.json that are distinctive enough to find again: four characters or more, with a digit or a space (not a word like `true`). */
function writtenLines(dir: string): string[] {
  const leaves = (value: unknown): string[] => (typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? Object.values(value).flatMap(leaves) : []);
  return [...new Set(leaves(JSON.parse(readFileSync(join(dir, 'expectations.json'), 'utf8'))).filter((line) => line.length >= 4 && /[\d ]/.test(line)))];
}

test("the expectations chapters 06 to 10 write out beside their checks are not in the copy staged for a student's code: there the checks only report and the runner judges; the honest student earns every point, a wrong output the worker cannot see fails, a reader finds nothing", async () => {
  if (!sandboxUsable()) return;
  const graded = CHAPTERS.filter((c) => existsSync(join(root, 'checks', `${c.number}-${c.slug}`, 'expectations.json')));
  const dirs = graded.map((c) => `${c.number}-${c.slug}`);
  assert.equal(graded.map((c) => c.number), ['06', '07', '08', '09', '10'], 'the chapters that write expectations out beside their checks');
  // The staged copy, as grading makes it: no expectations.json holds an entry, and no check file
  // (nor anything else staged beside the checks of these chapters) holds a written line as a literal.
  const staged = stageWorkspace(root, root, { isolate: true, hideExpectations: true });
  try {
    let sought = 0;
    for (const dir of dirs) {
      const lines = writtenLines(join(root, 'checks', dir));
      sought += lines.length;
      const entries = Object.keys(JSON.parse(readFileSync(join(staged.root, 'checks', dir, 'expectations.json'), 'utf8')) as object);
      assert.equal(entries, ['EXPECTATIONS-HIDDEN'], `${dir}: the staged expectations.json holds only the note that they were blanked`);
      for (const file of readdirSync(join(staged.root, 'checks', dir))) {
        const text = readFileSync(join(staged.root, 'checks', dir, file), 'utf8');
        const found = lines.filter((line) => ["'", '"', '`'].some((q) => text.includes(`${q}${line}${q}`)));
        assert.equal(found, [], `${dir}/${file}: written lines found in the staged copy`);
      }
    }
    assert.ok(sought >= 50, `the distinctive lines written out in the grader's copy: ${sought}`);
    // The reference interpreters that make the expectations of chapters 07, 09 and 10 are not run, nor staged.
    assert.not.ok(existsSync(join(staged.root, 'solutions', '06-interpreter')), 'the staged copy holds no reference interpreter of chapter 06');
    assert.not.ok(existsSync(join(staged.root, 'solutions', '10-exceptions', 'run.ts')), 'the staged copy holds no reference interpreter of chapter 10');
  } finally {
    staged.remove();
  }

  const base = mkdtempSync(join(tmpdir(), 'workbook-written-'));
  try {
    const earlier = CHAPTERS.filter((c) => c.number <= '10').map((c) => `${c.number}-${c.slug}`);
    // The wrong student and the reader stop at chapter 07 (their later chapters fail as not loading, at little cost).
    for (const student of ['honest', 'wrong', 'reader']) {
      for (const dir of earlier.filter((d) => student === 'honest' || d.slice(0, 2) <= '07')) cpSync(join(root, 'solutions', dir), join(base, student, 'chapters', dir), { recursive: true });
    }
    // A JIT that prints one line wrong: 60000 (the depth-limit program's sum) comes out as 60001.
    // Where the expectations are blanked its worker has nothing to compare with; the runner does.
    const jit = join(base, 'wrong', 'chapters', '07-template-jit', 'jit.ts');
    const print = 'print: options.print ?? ((text) => console.log(text))';
    const source = readFileSync(jit, 'utf8');
    assert.ok(source.includes(print), 'the reference JIT passes its print option to the runtime');
    writeFileSync(jit, source.replace(print, `print: (text) => (options.print ?? console.log)(text === '60000' ? '60001' : text)`));
    // The reader's JIT reads the staged expectations when it loads, and says what it found.
    const reader = join(base, 'reader', 'chapters', '07-template-jit', 'jit.ts');
    const readerSource = readFileSync(reader, 'utf8');
    const afterImports = readerSource.indexOf('\n', readerSource.lastIndexOf('\nimport ')) + 1;
    writeFileSync(reader, readerSource.slice(0, afterImports) + readFileSync(join(root, 'checks', 'selftest', 'fixtures', 'verdicts', 'read-written-expectations.attack'), 'utf8') + readerSource.slice(afterImports));
    const roster = ['honest', 'wrong', 'reader'].map((student) => ({ student, path: join(base, student) }));
    const { students } = await grade({ root, roster, chapters: graded, arches: ['x64'], parallel: 3, sandbox: { limits: DEFAULT_LIMITS } });
    const [honest, wrong, readerGrade] = students as [StudentGrade, StudentGrade, StudentGrade];
    assert.is(honest.rows.length, graded.length);
    for (const row of honest.rows) assert.is(row.points, row.possible, `the honest student earns every point of chapter ${row.chapter}: ${row.note}`);
    const failed = wrong.results.filter((r) => r.chapter === '07' && r.status !== 'pass');
    assert.equal(failed.map((r) => r.check), ['the 10000th active call runs, the 10001st is a stack overflow; calls in a loop give their depth back'], 'only the check of the program that prints 60000 fails');
    assert.match(failed[0]!.message, /^judged outside the process that ran the code: 1 of \d+ programs went wrong/);
    assert.match(failed[0]!.message, /depth-limit/);
    const said = `${readerGrade.rows.map((r) => r.note).join('\n')}\n${readerGrade.results.map((r) => r.message).join('\n')}`;
    assert.match(said, /hostile read-written-expectations: [1-9]\d* files, 0 programs with an expectation, 0 expected lines/, `the staged expectations.json files hold nothing: ${said.slice(0, 400)}`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('grading without the sandbox says so in the results, and an honest student earns every point there too, also where checks run a reference to make their expectations', async () => {
  const base = mkdtempSync(join(tmpdir(), 'workbook-trusted-'));
  try {
    mkdirSync(join(base, 'honest', 'chapters'), { recursive: true });
    for (const c of CHAPTERS.filter((c) => c.number <= '07')) cpSync(join(root, 'solutions', `${c.number}-${c.slug}`), join(base, 'honest', 'chapters', `${c.number}-${c.slug}`), { recursive: true });
    // Chapter 07's checks run chapter 06's reference beside the code where the expectations are visible.
    const chapter07 = CHAPTERS.find((c) => c.number === '07')!;
    const { students } = await grade({ root, roster: [{ student: 'honest', path: join(base, 'honest') }], chapters: [chapter, chapter07], arches: ['x64'], sandbox: false });
    for (const row of students[0]!.rows) {
      assert.is(row.sandbox, 'none');
      assert.is(row.points, row.possible, `chapter ${row.chapter} without the sandbox: ${row.note}`);
      assert.is(row.note, '', `chapter ${row.chapter}: the honest student is not flagged`);
    }
    assert.match(gradesCsv(students), /,none\n$/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
