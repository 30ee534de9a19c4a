/**
 * Grading against submissions built to hurt the grader rather than to pass: each attack
 * (checks/selftest/fixtures/hostile/red-team/) goes into a copy of the chapter 01 reference,
 * as sandbox.test.ts does with its roster, and a few students bring hostile files instead of
 * code. Each earns nothing, and what it aimed at held: the grader's disk and memory, the
 * grade files an instructor opens in a spreadsheet or a terminal, the grader's compiled-code
 * caches, the grader itself (a hint record that is a pipe or a device, a flood of its event
 * or crash channel, a load error naming its own files), and the references a staged copy
 * holds for other chapters' checks, which a student's worker could copy.
 * Chapter 01 and 06, x86-64.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availability } from '#native/platform.ts';
import { CHAPTERS } from '../manifest.ts';
import { grade, gradesCsv, gradesJson, MESSAGE_CHARS, readRoster, studentHints, type StudentGrade } from '../tools/grade.ts';
import { DEFAULT_LIMITS, probeSandbox, referenceHiddenFrom, sandboxGroup, sandboxedLauncher, sandboxedWorkerPid, signalFromExitCode, treeCpuTimeMs } from '../harness/sandbox.ts';
import { stageWorkspace } from '../harness/session.ts';
import { MAX_EVENT_LINE, readEvents, runChapter } from '../harness/runner.ts';
import { explainLoadErrors } from '../harness/load-error.ts';
import type { CheckResult, ListedCheck, ReportedOutcome } from '../harness/protocol.ts';
import { expectationKey, judgeFor, type ExpectedOutcomes } from '../harness/verdicts.ts';
import { survivors } from './processes.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const chapter01 = CHAPTERS[0]!;
const dir01 = '01-executable-memory';
const attacksDir = join(root, 'checks', 'selftest', 'fixtures', 'hostile', 'red-team');
const MiB = 1024 * 1024;
/** A /tmp (and room to write in chapters/) far smaller than the default, so filling it costs little. */
const TMP_MIB = 48;

/** What each attack's note (or its results' messages) must say: the attack was stopped. */
const STOPPED: Record<string, RegExp> = {
  // Many files, each within the size limit: chapters/ and /var/tmp are memory of a bounded size, never the grader's disk.
  'fill-many': new RegExp(`hostile fill-many: chapters (\\d+) MiB then ENOSPC, /var/tmp (\\d+) MiB then ENOSPC`),
  // A process of its own session holding the result channels: it dies with its sandbox, and the grader does not wait for it.
  daemon: /hostile daemon: started \d+/,
  // The grader's compiled-code caches are not in the sandbox: what it writes lands in its private /tmp.
  'cache-poison': /hostile cache-poison: \/tmp\/tsx-\d+ written, \/tmp\/tsx-0 written, \/tmp\/workbook-compile-cache-0 written, \/tmp\/compile-cache written/,
  'huge-message': /hostile huge-message/,
  'forge-names': /HYPERLINK/,
  // A load error naming a file of the grader's (chapter 06's reference, found through the mounts): its lines are not shown.
  'leak-frame': /hostile leak-frame/,
  // An event line without end: refused once it passes the limit on one line, the worker stopped there.
  'channel-flood': /result channel carried a line of more than 16 MiB/,
  // The crash channel poured full: read to the end and dropped past its first MiB, so the attack ends of its own accord.
  'crash-flood': /hostile crash-flood: poured 768 MiB/,
  // Well-formed events under a stolen seal, without end: the runner keeps a bounded amount of one worker's events, then stops it.
  'sealed-flood': /result channel carried more than 32 MiB of events/,
};
/** The most memory the grader (this process) may have held at once, through every attack. */
const GRADER_MAX_RSS = 768 * MiB;

const usable = probeSandbox();

// SHOW_NOTES=1 also shows what each test costs.
let testStarted = 0;
test.before.each(() => {
  testStarted = performance.now();
});
test.after.each((context) => {
  if (process.env.SHOW_NOTES) console.log(`${((performance.now() - testStarted) / 1000).toFixed(1)} s: ${context.__test__}`);
});


/** The files named `*mark*` in the grader's own cache folders under /tmp. */
function poisoned(mark: string): string[] {
  return readdirSync(tmpdir())
    .filter((d) => d.startsWith('tsx-') || d.startsWith('workbook-compile-cache'))
    .flatMap((d) => {
      try {
        return readdirSync(join(tmpdir(), d)).filter((f) => f.includes(mark)).map((f) => join(d, f));
      } catch {
        return [];
      }
    });
}

test('submissions aimed at the grader earn nothing and leave its disk, memory, caches and grade files as they should be; the honest student beside them earns everything', async () => {
  if (!usable.ok) {
    assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), 'workbook-red-team-'));
  const mark = `red${process.pid}x${Date.now()}`;
  try {
    const solution = readFileSync(join(root, 'solutions', dir01, 'code-region.ts'), 'utf8');
    const afterImports = solution.indexOf('\n', solution.indexOf("from '#native/icache.ts'")) + 1;
    assert.ok(afterImports > 0, 'the reference imports #native/icache.ts');
    const attacks = readdirSync(attacksDir).filter((f) => f.endsWith('.attack')).map((f) => f.replace(/\.attack$/, '')).sort();
    assert.equal(attacks, Object.keys(STOPPED).sort(), 'one expectation per attack');
    for (const student of ['honest', 'hints-pipe', 'hints-device', 'hints-forged', 'too-large', ...attacks]) cpSync(join(root, 'solutions', dir01), join(base, student, 'chapters', dir01), { recursive: true });
    for (const attack of attacks) {
      const code = readFileSync(join(attacksDir, `${attack}.attack`), 'utf8').replaceAll('__MARK__', mark);
      writeFileSync(join(base, attack, 'chapters', dir01, 'code-region.ts'), solution.slice(0, afterImports) + code + solution.slice(afterImports));
    }
    // Hint records that are not files: a named pipe (read, it would hold the grader forever) and a link to a device without end.
    for (const student of ['hints-pipe', 'hints-device', 'hints-forged']) mkdirSync(join(base, student, '.workbook'));
    const made = spawnSync('mkfifo', [join(base, 'hints-pipe', '.workbook', 'hints.json')]);
    assert.is(made.status, 0, `mkfifo makes a named pipe: ${made.stderr}`);
    symlinkSync('/dev/zero', join(base, 'hints-device', '.workbook', 'hints.json'));
    // A record of hints the student wrote to pay for fewer: negative counts, text, and names of Object's own.
    const aCheck = 'a sealed region runs code';
    writeFileSync(join(base, 'hints-forged', '.workbook', 'hints.json'), JSON.stringify({ '01': { [aCheck]: 2, other: -50, text: '=1+1', constructor: 7 }, toString: { x: 1 } }));
    assert.equal(studentHints(join(base, 'hints-forged')), { '01': { [aCheck]: 2, constructor: 7 } }, 'only counts are kept');

    // A folder larger than a worker's chapters/ may hold (it is memory): 12 MiB where 8 fit.
    writeFileSync(join(base, 'too-large', 'chapters', dir01, 'padding.bin'), Buffer.alloc(12 * MiB, 0x50));
    const students = ['honest', 'hints-pipe', 'hints-device', 'hints-forged', 'too-large', ...attacks];
    writeFileSync(join(base, 'roster.csv'), ['student,path', ...students.map((s) => `${s},${s}`)].join('\n') + '\n');
    const roster = readRoster(join(base, 'roster.csv'));
    const limits = { ...DEFAULT_LIMITS, tmpBytes: TMP_MIB * MiB, studentBytes: 8 * MiB, fileBytes: 16 * MiB, processes: 64 };
    const { students: graded } = await grade({ root, roster, chapters: [chapter01], arches: ['x64'], parallel: 4, sandbox: { limits, wallCeilingMs: 25_000 } });
    const student = (name: string): StudentGrade => graded.find((s) => s.student === name)!;

    const honest = student('honest').rows[0]!;
    assert.ok(honest.possible > 0);
    for (const name of ['honest', 'hints-pipe', 'hints-device', 'hints-forged']) {
      const row = student(name).rows[0]!;
      assert.is(row.points, honest.possible, `${name}: the reference earns every point: ${row.note}`);
      assert.is(row.note, '', `${name}: nothing to note`);
    }
    assert.is(student('hints-pipe').rows[0]!.hintsUsed, 0, 'a pipe is no hint record');
    assert.is(student('hints-device').rows[0]!.hintsUsed, 0, 'a device is no hint record');
    assert.is(student('hints-forged').rows[0]!.hintsUsed, 2, 'only the whole counts of at least 0 count');
    assert.is(student('hints-forged').results.find((r) => r.check === aCheck)?.hintsUsed, 2);
    assert.ok(student('hints-forged').results.every((r) => typeof r.hintsUsed === 'number'), "a check's hint count is a number, never Object's own");

    for (const attack of attacks) {
      const row = student(attack).rows[0]!;
      assert.is(row.points, 0, `${attack}: no points (${row.note})`);
      assert.is(row.possible, honest.possible, `${attack}: the chapter is worth what it is worth`);
      const said = `${row.note}\n${student(attack).results.map((r) => `${r.check}: ${r.message}`).join('\n')}`;
      assert.match(said, STOPPED[attack]!, `${attack}: the attack was stopped; it said: ${said.slice(0, 600)}`);
      if (process.env.SHOW_NOTES) console.log(`${attack}: ${row.note.slice(0, 300)}`);
    }
    const tooLarge = student('too-large');
    assert.is(tooLarge.rows[0]!.points, 0, 'a folder too large for the sandbox earns nothing');
    assert.match(`${tooLarge.rows[0]!.note}\n${tooLarge.results.map((r) => r.details ?? '').join('\n')}`, /more than the 8.0 MiB a sandbox holds/, `it says why: ${tooLarge.rows[0]!.note}`);
    const filled = STOPPED['fill-many']!.exec(student('fill-many').rows[0]!.note)!;
    assert.ok(Number(filled[1]) <= TMP_MIB && Number(filled[2]) <= TMP_MIB, `chapters/ and /var/tmp hold at most ${TMP_MIB} MiB: ${filled[0]}`);

    // The grade files: bounded whatever the students threw, no formula a spreadsheet would run, no terminal escape codes.
    const csv = gradesCsv(graded);
    const json = gradesJson(root, graded, [chapter01], ['x64']);
    assert.ok(json.length < 4 * MiB, `grades.json stays small: ${json.length} bytes`);
    for (const r of graded.flatMap((s) => s.results)) assert.ok(r.message.length <= MESSAGE_CHARS + 40, `a message is bounded: ${r.message.length} characters`);
    assert.not.match(csv, /\u001b|\u0007|\r/, 'no control characters in grades.csv');
    const cells = csv.split('\n').flatMap((line) => line.split(',')).map((cell) => cell.replace(/^"/, ''));
    assert.ok(cells.every((cell) => !/^[=+\-@]/.test(cell)), `no cell a spreadsheet would read as a formula: ${cells.filter((c) => /^[=+\-@]/.test(c)).join(' | ')}`);
    assert.match(csv, /'=HYPERLINK/, 'the forged name is kept, as text');
    assert.not.match(csv, /\nmallory,/, 'a line of CSV inside a name is no row');
    assert.is(csv.trim().split('\n').length, 1 + students.length, 'one row per student');

    // The grader read no line of a file that is not the student's into the results.
    const referenceLine = readFileSync(join(root, 'solutions', '06-interpreter', 'interpreter.ts'), 'utf8').split('\n')[29]!.trim();
    assert.ok(referenceLine.length > 10, `line 30 of the reference interpreter is code: ${referenceLine}`);
    const leaked = student('leak-frame').results.filter((r) => `${r.message}\n${r.details ?? ''}`.includes(referenceLine));
    assert.is(leaked.length, 0, `no result shows the reference's lines: ${leaked[0]?.details?.slice(0, 300)}`);
    assert.match(student('leak-frame').results[0]!.details ?? '', /not shown: the message names .+, a file outside your chapters\//);

    // The floods cost the grader bounded memory: its peak of resident memory over the whole run.
    const peak = process.resourceUsage().maxRSS * 1024;
    if (process.env.SHOW_NOTES) console.log(`grader's peak resident memory: ${(peak / MiB).toFixed(0)} MiB`);
    assert.ok(peak < GRADER_MAX_RSS, `the grader held at most ${GRADER_MAX_RSS / MiB} MiB at once: ${(peak / MiB).toFixed(0)} MiB`);

    // Nothing of the attacks reached the grader's machine.
    assert.is(survivors(mark), 0, 'no process of the daemon survives its sandbox');
    assert.equal(poisoned(mark), [], "the grader's compiled-code caches are untouched");
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("the event channel's reader refuses a line past its limit as it arrives, or one it would build too much of, and joins a line cut inside a character", async () => {
  const { PassThrough } = await import('node:stream');
  const seal = 'f'.repeat(32);
  const stream = new PassThrough();
  const events: unknown[] = [];
  const refused: string[] = [];
  readEvents(stream, (event) => events.push(event), seal, (why) => refused.push(why));
  // A sealed event (the seal last, as worker.ts sends it) whose text holds a character of 3 bytes, cut between two chunks.
  const line = Buffer.from(JSON.stringify({ t: 'hello', name: 'a€b', k: seal }) + '\n');
  const cut = line.indexOf(Buffer.from('€')) + 1;
  stream.write(line.subarray(0, cut));
  stream.write(line.subarray(cut));
  // Then a line without end, a MiB at a time: refused at the first chunk past the limit, the rest not read.
  const chunk = Buffer.alloc(MiB, 0x61);
  let written = 0;
  while (refused.length === 0 && written <= MAX_EVENT_LINE + MiB) {
    stream.write(chunk);
    written += MiB;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(events, [{ t: 'hello', name: 'a€b', k: seal }], 'the cut character is whole');
  assert.equal(refused, [`a line of more than ${MAX_EVENT_LINE / MiB} MiB`]);
  assert.ok(written <= MAX_EVENT_LINE + MiB, `refused as it passed the limit: after ${written / MiB} MiB`);
  stream.destroy();

  // Lines within the limit, sealed as a stolen seal would seal them, that JSON.parse would make hundreds of megabytes of: refused unparsed.
  const shapes: [string, string][] = [
    [`{"t":"hello","x":${'['.repeat(4 * MiB)}${']'.repeat(4 * MiB)},"k":"${seal}"}`, 'a line nested more than 16 deep'],
    [`{"t":"hello","x":[${'[],'.repeat(2 * MiB)}[]],"k":"${seal}"}`, 'a line of more than 100000 arrays and objects'],
    ['{"t":"hello"}', "a line without this run's seal"],
  ];
  for (const [text, why] of shapes) {
    const shaped = new PassThrough();
    const said: string[] = [];
    readEvents(shaped, () => undefined, seal, (reason) => said.push(reason));
    shaped.write(text + '\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(said.length === 1 && said[0]!.startsWith(why), `refused as ${why}: ${said.join('; ').slice(0, 120)}`);
    shaped.destroy();
  }
  // Brackets inside a string are text: a sealed event whose text is all brackets is taken.
  const quoted = new PassThrough();
  const taken: unknown[] = [];
  readEvents(quoted, (event) => taken.push(event), seal, (why) => assert.unreachable(why));
  quoted.write(JSON.stringify({ t: 'hello', x: `\\"${'['.repeat(1000)}`, k: seal }) + '\n');
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(taken.length, 1, 'brackets in a string are not counted');
  quoted.destroy();
});

test('a load error that names a file outside chapters/ (by a path with .., or through a link) is explained without its lines', async () => {
  const staged = mkdtempSync(join(tmpdir(), 'workbook-frame-'));
  try {
    const secret = 'export const answer = 42; // a line of the grader';
    mkdirSync(join(staged, 'solutions', '06-interpreter'), { recursive: true });
    writeFileSync(join(staged, 'solutions', '06-interpreter', 'interpreter.ts'), secret + '\n');
    mkdirSync(join(staged, 'chapters', dir01), { recursive: true });
    symlinkSync(join(staged, 'solutions', '06-interpreter', 'interpreter.ts'), join(staged, 'chapters', dir01, 'linked.ts'));
    writeFileSync(join(staged, 'chapters', dir01, 'broken.ts'), 'export const x = ;\n');
    const named = [
      `${staged}/solutions/06-interpreter/interpreter.ts`,
      `/../../..${staged}/solutions/06-interpreter/interpreter.ts`,
      `${staged}/chapters/../solutions/06-interpreter/interpreter.ts`,
      `${staged}/chapters/${dir01}/linked.ts`,
    ];
    const results: CheckResult[] = named.map((file) => ({ chapter: '01', check: file, arch: 'x64', mode: 'native', status: 'fail', points: 1, ms: 0, message: `your code could not be loaded: Error: ${file}:1:1: hostile` }));
    await explainLoadErrors(results, staged);
    for (const r of results) assert.not.ok(`${r.message}\n${r.details ?? ''}`.includes(secret), `${r.check}: the grader's line is not shown: ${r.details}`);
    // A file of the student's own chapters/ is still shown, line and caret.
    const own: CheckResult = { chapter: '01', check: 'own', arch: 'x64', mode: 'native', status: 'fail', points: 1, ms: 0, message: `your code could not be loaded: ${staged}/chapters/${dir01}/broken.ts:1:18: ERROR: Unexpected ";"` };
    await explainLoadErrors([own], staged);
    assert.match(own.details ?? '', /> 1 \| export const x = ;/, `the learner's own line is shown: ${own.details}`);
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
});

test("chapter 06's reference is not there for a worker of chapter 06 to copy (staged, if at all, for a later chapter's checks), nor any chapter's own reference for its worker", async () => {
  if (!usable.ok) {
    assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
    return;
  }
  const found = availability('x64', root);
  if (!found.available) return;
  const chapter06 = CHAPTERS.find((c) => c.number === '06')!;
  const chapter07 = CHAPTERS.find((c) => c.number === '07')!;
  const base = mkdtempSync(join(tmpdir(), 'workbook-thief-'));
  const staged: { remove: () => void }[] = [];
  try {
    for (const student of ['honest', 'thief']) {
      for (const dir of ['05-parser', '06-interpreter']) cpSync(join(root, 'solutions', dir), join(base, student, 'chapters', dir), { recursive: true });
    }
    // The thief's interpreter is the reference's, read from the staged copy and imported from its own folder.
    copyFileSync(join(root, 'checks', 'selftest', 'fixtures', 'hostile', 'red-team', 'steal-reference.source'), join(base, 'thief', 'chapters', '06-interpreter', 'interpreter.ts'));
    const run = async (student: string) => {
      const copy = stageWorkspace(root, join(base, student), { isolate: true, hideExpectations: true });
      staged.push(copy);
      const emptied = referenceHiddenFrom(copy.root, chapter06);
      // A staged copy holds chapter 06's reference only where a check of a later chapter runs it; then only that chapter's worker sees it.
      if (existsSync(join(copy.root, 'solutions', '06-interpreter', 'interpreter.ts'))) {
        assert.ok(emptied.includes(join(copy.root, 'solutions', '06-interpreter')), "a worker of chapter 06 does not see chapter 06's reference");
        assert.not.ok(referenceHiddenFrom(copy.root, chapter07).includes(join(copy.root, 'solutions', '06-interpreter')), 'a worker of chapter 07 sees it');
      }
      // No chapter's worker sees its own reference where it is staged (the whole of chapter 12's is, for types the checks name),
      // but chapters 10 and 11, whose checks run their own reference in the worker.
      for (const c of CHAPTERS.filter((c) => !['10', '11'].includes(c.number))) {
        const own = join(copy.root, 'solutions', `${c.number}-${c.slug}`);
        if (existsSync(own)) assert.ok(referenceHiddenFrom(copy.root, c).includes(own), `a worker of chapter ${c.number} does not see its reference`);
      }
      // A worker that owns what bwrap made (no user of its own, as for a grader that is not root): the launcher empties the folders.
      const launcher = sandboxedLauncher(found.launcher, copy.root, root, DEFAULT_LIMITS, undefined, emptied);
      const reported: ExpectedOutcomes = new Map();
      const onOutcome = (check: string, outcome: ReportedOutcome) => {
        const key = expectationKey(chapter06, 'x64', check);
        reported.set(key, [...(reported.get(key) ?? []), outcome]);
      };
      const results = await runChapter({ chapter: chapter06, launcher, root: copy.root, conditions: [], cpuTime: treeCpuTimeMs, workerPid: sandboxedWorkerPid, exitSignal: signalFromExitCode, onOutcome });
      return { results, reported };
    };
    /** The thief's checks that run its interpreter fail, for want of the reference to copy; its compiler is the reference's too, and passes. */
    const assertCaught = (thief: { check: string; file?: string; status: string; message: string; details?: string }[], honestCount: number, how: string) => {
      const interpreting = thief.filter((r) => /interpreter\.check\.ts$/.test(r.file ?? ''));
      assert.ok(interpreting.length >= 5, `${how}: the checks that run the interpreter: ${interpreting.length}`);
      assert.ok(thief.filter((r) => r.status === 'pass').length <= honestCount - interpreting.length, `${how}: the thief loses every check of its interpreter`);
      for (const r of interpreting) assert.is(r.status, 'fail', `${how}: ${r.check} fails for the thief`);
      const said = thief.map((r) => `${r.message}\n${r.details ?? ''}`).join('\n');
      assert.match(said, /ENOENT[^\n]*solutions\/06-interpreter\/interpreter\.ts/, `${how}: the reference is not there to read: ${said.slice(0, 300)}`);
    };
    const [honestRun, thiefRun] = await Promise.all([run('honest'), run('thief')]);
    // Judged as grading judges (verdicts.ts): the honest run stands for the reference, whose outcomes the thief's must match.
    const judge = judgeFor(root, honestRun.reported, chapter06, 'x64');
    const honest = honestRun.results;
    const thief = thiefRun.results.map((r) => {
      const judged = r.status === 'pass' ? judge({ name: r.check } as ListedCheck, thiefRun.reported.get(expectationKey(chapter06, 'x64', r.check)) ?? []) : null;
      return judged === null ? r : { ...r, status: 'fail', message: judged };
    });
    assert.ok(honest.length > 10 && honest.every((r) => r.status === 'pass'), `the honest student passes every check of chapter 06: ${honest.filter((r) => r.status !== 'pass').map((r) => `${r.check}: ${r.message.slice(0, 120)}`).join('; ')}`);
    assertCaught(thief, honest.length, 'emptied by the launcher');
    // Graded as root: each worker drops to a user of its own, and the sandbox mounts over the references before it does.
    if (usable.ownUsers) {
      const roster = ['honest', 'thief'].map((student) => ({ student, path: join(base, student) }));
      const { students } = await grade({ root, roster, chapters: [chapter06], arches: ['x64'], parallel: 2, sandbox: { limits: DEFAULT_LIMITS } });
      const [gradedHonest, gradedThief] = students as [StudentGrade, StudentGrade];
      assert.is(gradedHonest.rows[0]!.points, gradedHonest.rows[0]!.possible, `graded, the honest student earns every point: ${gradedHonest.rows[0]!.note}`);
      assertCaught(gradedThief.results, gradedHonest.rows[0]!.passed, 'graded');
    }
  } finally {
    for (const copy of staged) copy.remove();
    rmSync(base, { recursive: true, force: true });
  }
});

test("a worker's CPU budget counts the work of processes that have ended: short-lived children cannot spend it unseen", async () => {
  // A shell that runs three processes one after another, each spending 400 ms of CPU and ending, then waits.
  const burn = `${JSON.stringify(process.execPath)} -e "const t = process.cpuUsage(); while (process.cpuUsage(t).user < 400000);"`;
  const child = spawn('/bin/sh', ['-c', `${burn}; ${burn}; ${burn}; sleep 5`], { stdio: 'ignore' });
  try {
    const started = performance.now();
    let spent = 0;
    // Until the three have ended (the shell waits in sleep) or 20 s have passed.
    while (performance.now() - started < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const below = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && parentOf(Number(e)) === child.pid);
      if (below.length === 1 && commandOf(Number(below[0])) === 'sleep') break;
    }
    spent = treeCpuTimeMs(child.pid) ?? 0;
    assert.ok(spent >= 1100, `the tree spent at least 1.2 s of CPU, all of it in processes that ended: counted ${spent} ms`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('in a sandbox whose worker owns what bwrap made (a grader that is not root), nothing is writable but the bounded /tmp and chapters/', () => {
  if (!usable.ok) {
    assert.unreachable(`the sandbox does not work here: ${usable.reason}; fix: ${usable.fix}`);
    return;
  }
  const found = availability('x64', root);
  if (!found.available) return;
  const staged = mkdtempSync(join(tmpdir(), 'workbook-owned-'));
  try {
    mkdirSync(join(staged, 'chapters'));
    // No user of its own: the worker is root of a user namespace, as a grader that is not root would be.
    const launcher = sandboxedLauncher(found.launcher, staged, root, { ...DEFAULT_LIMITS, tmpBytes: 8 * MiB }, undefined);
    const probe = `
      const { writeFileSync } = require('node:fs');
      const seen = [];
      for (const dir of ['/', '/etc', '/var', '/run', '/dev', '/dev/shm', '/usr/local', '/tmp', '/var/tmp', process.cwd() + '/chapters']) {
        try { writeFileSync(dir + '/probe', Buffer.alloc(16 * 1024 * 1024)); seen.push(dir + ' 16 MiB'); } catch (error) { seen.push(dir + ' ' + error.code); }
      }
      console.log(seen.join(', ').replace(process.cwd(), '.'));`;
    const ran = spawnSync(launcher.command, [...launcher.prefix, '-e', probe], { encoding: 'utf8', timeout: 60_000 });
    assert.is(ran.status, 0, `the probe ran: ${ran.stderr}`);
    assert.is(ran.stdout.trim(), '/ EROFS, /etc EROFS, /var EROFS, /run EROFS, /dev EROFS, /dev/shm EROFS, /usr/local EROFS, /tmp ENOSPC, /var/tmp ENOSPC, ./chapters ENOSPC');
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
});

/** The command name of process `pid`, from /proc. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The parent of process `pid`, from /proc. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

test("a sandbox's processes together use no more memory than its limit: children that each stay under the per-process limit are killed once they hold more between them", () => {
  const group = sandboxGroup({ ...DEFAULT_LIMITS, memoryBytes: 256 * MiB, processes: 64 });
  if (group === undefined) return; // not root, or no control groups: the per-process limits stand alone
  try {
    // Three children of 120 MiB each, held until all have written it (or died): 360 MiB where 256 fit.
    const child = `const b = Buffer.alloc(120 * 1024 * 1024, 1); process.stdout.write('held '); setTimeout(() => b.length, 3000);`;
    const parent = `const { spawn } = require('node:child_process'); let killed = 0, ended = 0;
      for (let i = 0; i < 3; i++) spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'inherit' }).on('exit', (code, signal) => { if (signal === 'SIGKILL') killed++; if (++ended === 3) console.log('killed ' + killed); });`;
    const joined = group.dirs.map((dir) => `echo $$ > ${dir}/cgroup.procs`).join(' && ');
    const run = spawnSync('/bin/sh', ['-c', `${joined} && exec "$@"`, 'sh', process.execPath, '-e', parent], { encoding: 'utf8', timeout: 30_000 });
    assert.match(run.stdout, /killed [1-3]/, `the group's limit killed a child: ${run.stdout} ${run.stderr}`);
  } finally {
    group.remove();
  }
});

test.run();
