/**
 * `npm run grade`: each student runs in isolation with this copy's checks. A complete, a
 * partial, a crashing (SIGSEGV in every check), a garbage and a missing workspace are graded
 * together; the crash and the garbage cost only their own rows. Chapter 01, host only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch } from '#native/arch.ts';
import { CHAPTERS } from '../manifest.ts';
import { grade, gradesCsv, gradesJson, readRoster } from '../tools/grade.ts';
import { stageWorkspace } from '../harness/session.ts';
import { loadPrograms, mayCompile, mayEndWith } from '../harness/programs.ts';
import { hideExpectations } from '../harness/verdicts.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const chapter = CHAPTERS[0]!;
const dir = '01-executable-memory';
const solution = readFileSync(join(root, 'solutions', dir, 'code-region.ts'), 'utf8');

function workspace(base: string, name: string, source: string | Buffer): void {
  mkdirSync(join(base, name, 'chapters', dir), { recursive: true });
  writeFileSync(join(base, name, 'chapters', dir, 'code-region.ts'), source);
}

test('grades every student; a crashing, garbage or missing workspace costs only its own row', async () => {
  const base = mkdtempSync(join(tmpdir(), 'workbook-grade-'));
  try {
    cpSync(join(root, 'solutions', dir), join(base, 'complete', 'chapters', dir), { recursive: true });
    const partialSource = solution.replace('this.#protect(PROT.READ | PROT.EXEC);', 'this.#protect(PROT.READ | PROT.WRITE | PROT.EXEC);');
    assert.is.not(partialSource, solution, 'the planted bug applies');
    workspace(base, 'partial', partialSource);
    mkdirSync(join(base, 'partial', '.workbook'), { recursive: true });
    writeFileSync(join(base, 'partial', '.workbook', 'hints.json'), JSON.stringify({ '01': { 'a sealed region runs code': 2, 'dispose unmaps the pages': 1 } }));
    const crashing = solution.replace('const rounded = roundToPages(size);', 'copyIn(8n, new Uint8Array(64)); // SIGSEGV\n    const rounded = roundToPages(size);');
    assert.is.not(crashing, solution, 'the crash applies');
    workspace(base, 'crashing', crashing);
    workspace(base, 'garbage', Buffer.from([0x00, 0xff, 0x7b, 0x7b, 0x3c, 0x0a, 0x88]));
    writeFileSync(
      join(base, 'roster.csv'),
      'student,path\ncomplete,complete\npartial,./partial\n"crash, the",crashing\ngarbage,garbage\nmissing,does-not-exist\n',
    );

    const roster = readRoster(join(base, 'roster.csv'));
    assert.equal(roster.map((r) => r.student), ['complete', 'partial', 'crash, the', 'garbage', 'missing']);
    assert.is(roster[1]!.path, join(base, 'partial'), 'relative paths resolve against the roster folder');

    const { students } = await grade({ root, roster, chapters: [chapter], arches: [hostArch()], parallel: 3 });
    const row = (name: string) => students.find((s) => s.student === name)!.rows[0]!;
    const possible = row('complete').possible;
    assert.ok(possible > 0);
    assert.is(row('complete').points, possible, 'the complete workspace earns every point');
    assert.is(row('complete').passed, row('complete').total);
    assert.ok(row('partial').points > 0 && row('partial').points < possible, `partial credit: ${row('partial').points} of ${possible}`);
    assert.is(row('partial').hintsUsed, 3, 'hints come from the student workspace');
    assert.is(row('crash, the').points, 0);
    assert.is(row('crash, the').possible, possible, 'a crash does not change what the chapter is worth');
    const crash = students.find((s) => s.student === 'crash, the')!;
    assert.ok(crash.results.some((r) => /SIGSEGV/.test(r.message)), 'the crash is reported as SIGSEGV');
    assert.is(row('garbage').points, 0);
    assert.is(row('garbage').possible, possible);
    assert.is(row('missing').points, 0);
    assert.is(row('missing').possible, possible);
    assert.match(students.find((s) => s.student === 'missing')!.error ?? '', /does not exist/);

    const csv = gradesCsv(students);
    assert.match(csv, /^student,chapter,arch,passed,total,points,possible,hints_used,note,sandbox\n/);
    assert.match(csv, new RegExp(`\\ncomplete,01,${hostArch()},${row('complete').total},${row('complete').total},${possible},${possible},0,,bwrap\\n`));
    assert.match(csv, /\n"crash, the",01,/);
    const json = JSON.parse(gradesJson(root, students, [chapter], [hostArch()])) as {
      suite: { checksHash: string };
      students: { student: string; results: { check: string; hintsUsed: number }[] }[];
    };
    assert.match(json.suite.checksHash, /^[0-9a-f]{16}$/);
    const partial = json.students.find((s) => s.student === 'partial')!;
    assert.is(partial.results.find((r) => r.check === 'a sealed region runs code')?.hintsUsed, 2);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a student who leans on the reference earns nothing and is flagged; an honest one beside them earns everything', async () => {
  const base = mkdtempSync(join(tmpdir(), 'workbook-grade-cheat-'));
  const reference = join(root, 'solutions', dir, 'code-region.ts');
  try {
    cpSync(join(root, 'solutions', dir), join(base, 'honest', 'chapters', dir), { recursive: true });
    // Every student's clone has solutions/ next to chapters/: a relative re-export reaches it there.
    workspace(base, 'relative', `export * from '../../solutions/${dir}/code-region.ts';\n`);
    cpSync(join(root, 'solutions'), join(base, 'relative', 'solutions'), { recursive: true });
    workspace(base, 'absolute', `export * from '${reference}';\n`);
    // No string names the reference: only the guard at import time can stop this one.
    const pieces = JSON.stringify(root.split('/'));
    workspace(
      base,
      'dynamic',
      `const where = ${pieces}.join('/') + '/sol' + 'utions/${dir}/code-region.ts';\nconst m = await import(where);\nexport const { CodeRegion, roundToPages, SystemCallError, RegionStateError } = m;\n`,
    );
    // A data: module that re-exports the reference, and require(), which import hooks
    // registered off the main thread never see.
    workspace(
      base,
      'data',
      `const where = ${pieces}.join('/') + '/sol' + 'utions/${dir}/code-region.ts';\nconst m = await import('data:text/javascript,export * from ' + JSON.stringify('file://' + where));\nexport const { CodeRegion, roundToPages, SystemCallError, RegionStateError } = m;\n`,
    );
    workspace(
      base,
      'required',
      `import { createRequire } from 'node:module';\nconst where = ${pieces}.join('/') + '/sol' + 'utions/${dir}/code-region.ts';\nexport const { CodeRegion, roundToPages, SystemCallError, RegionStateError } = createRequire(import.meta.url)(where);\n`,
    );
    mkdirSync(join(base, 'symlink', 'chapters', dir), { recursive: true });
    symlinkSync(reference, join(base, 'symlink', 'chapters', dir, 'code-region.ts'));
    writeFileSync(join(base, 'roster.csv'), 'student,path\nhonest,honest\nrelative,relative\nabsolute,absolute\ndynamic,dynamic\ndata,data\nrequired,required\nsymlink,symlink\n');

    // The staged copy itself: no solutions/ for chapter 01, no solution conditions, the symlink left out.
    const staged = stageWorkspace(root, join(base, 'symlink'), { isolate: true });
    try {
      assert.not.ok(existsSync(join(staged.root, 'solutions', dir)), 'no solutions/ of chapter 01 in the staged copy');
      assert.not.match(readFileSync(join(staged.root, 'package.json'), 'utf8'), /solution-ch/, 'no solution-chNN condition in the staged package.json');
      assert.equal(readdirSync(join(staged.root, 'chapters', dir)), [], 'the symlink is not copied');
      assert.match(staged.flags.map((f) => `${f.file} ${f.reason}`).join('\n'), /code-region\.ts a symbolic link/);
    } finally {
      staged.remove();
    }
    // A chapters/ folder that is itself a link to the reference is refused as a whole.
    mkdirSync(join(base, 'linked'));
    symlinkSync(join(root, 'solutions'), join(base, 'linked', 'chapters'));
    const linked = stageWorkspace(root, join(base, 'linked'), { isolate: true });
    try {
      assert.equal(readdirSync(join(linked.root, 'chapters')), []);
      assert.match(linked.flags[0]?.reason ?? '', /symbolic link/);
    } finally {
      linked.remove();
    }

    const roster = readRoster(join(base, 'roster.csv'));
    const { students } = await grade({ root, roster, chapters: [chapter], arches: [hostArch()], parallel: 3 });
    const student = (name: string) => students.find((s) => s.student === name)!;
    const honest = student('honest').rows[0]!;
    assert.ok(honest.possible > 0);
    assert.is(honest.points, honest.possible, 'the honest student earns every point');
    assert.is(honest.note, '', 'the honest student is not flagged');
    assert.equal(student('honest').flags, []);
    for (const name of ['relative', 'absolute', 'dynamic', 'data', 'required', 'symlink']) {
      const row = student(name).rows[0]!;
      assert.is(row.points, 0, `${name}: a student whose code is the reference earns no point`);
      assert.ok(student(name).flags.length > 0, `${name}: flagged`);
      const file = { data: /^flagged: a data: module imports/, required: /^flagged: chapters\/ / }[name] ?? /^flagged: chapters\/01-executable-memory\/code-region\.ts/;
      assert.match(row.note, file, `${name}: the note says which file: ${row.note}`);
    }
    for (const name of ['dynamic', 'data', 'required']) assert.match(student(name).rows[0]!.note, /grading refused/, `${name}: the import refused at run time is flagged`);
    // Without the sandbox (a trusted class) the grader's own copy is there to import: the
    // guard alone refuses it, by import, through a data: module and by require().
    const trusted = await grade({ root, roster: roster.filter((r) => ['dynamic', 'data', 'required'].includes(r.student)), chapters: [chapter], arches: [hostArch()], parallel: 3, sandbox: false });
    for (const { student: name, rows } of trusted.students) {
      assert.is(rows[0]!.points, 0, `${name}, without the sandbox: no point`);
      assert.match(rows[0]!.note, /which grading refused/, `${name}, without the sandbox: the guard refused the import: ${rows[0]!.note}`);
    }
    const csv = gradesCsv(students);
    assert.match(csv, /\nabsolute,01,[a-z0-9]+,0,\d+,0,\d+,0,"?flagged: /);
    const json = JSON.parse(gradesJson(root, students, [chapter], [hostArch()])) as { students: { student: string; flags: unknown[] }[] };
    assert.ok(json.students.find((s) => s.student === 'symlink')!.flags.length > 0, 'grades.json lists the flags');
    assert.equal(json.students.find((s) => s.student === 'honest')!.flags, []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("staging copies no file larger than a sandbox lets a file be, and no more of a student's folder than a sandbox holds: each file left out is flagged", () => {
  const base = mkdtempSync(join(tmpdir(), 'workbook-grade-huge-'));
  try {
    const folder = join(base, 'chapters', dir);
    cpSync(join(root, 'solutions', dir), folder, { recursive: true });
    // Sparse files: their sizes are what staging reads, and they take no disk here.
    for (const [name, mib] of [['huge.bin', 65], ['a.bin', 60], ['b.bin', 60], ['c.bin', 60], ['d.bin', 60], ['e.bin', 60]] as const) {
      writeFileSync(join(folder, name), '');
      truncateSync(join(folder, name), mib * 2 ** 20);
    }
    const staged = stageWorkspace(root, base, { isolate: true });
    try {
      const copied = readdirSync(join(staged.root, 'chapters', dir));
      assert.ok(copied.includes('code-region.ts'), 'the student\'s code is staged');
      assert.not.ok(copied.includes('huge.bin'), 'a 65 MiB file is not staged');
      assert.is(copied.filter((f) => f.endsWith('.bin')).length, 4, 'four 60 MiB files fit in 256 MiB, the fifth does not');
      const said = staged.flags.map((f) => `${f.file} ${f.reason}`).join('\n');
      assert.match(said, /huge\.bin 65 MiB, more than the 64 MiB a file may have/);
      assert.match(said, /past the 256 MiB a student's chapters\/ may hold/);
    } finally {
      staged.remove();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('--wall-limit takes seconds above 0, and only with the sandbox', () => {
  const base = mkdtempSync(join(tmpdir(), 'workbook-wall-'));
  try {
    writeFileSync(join(base, 'roster.csv'), 'student,path\n');
    const run = (...extra: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'checks', 'tools', 'grade.ts'), '--roster', join(base, 'roster.csv'), ...extra], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const zero = run('--wall-limit', '0');
    assert.is.not(zero.status, 0);
    assert.match(`${zero.stdout}${zero.stderr}`, /--wall-limit takes a number of seconds above 0, not '0'/);
    const trusted = run('--wall-limit', '30', '--no-sandbox');
    assert.is.not(trusted.status, 0);
    assert.match(`${trusted.stdout}${trusted.stderr}`, /--wall-limit applies to the sandbox/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('the programs staged for grading keep no expectation, not even that of a compile error, and every program a check chooses by its expectations is chosen there too', () => {
  const base = mkdtempSync(join(tmpdir(), 'workbook-blanked-'));
  try {
    cpSync(join(root, 'checks', 'programs'), base, { recursive: true });
    hideExpectations(base);
    const mine = new Map(loadPrograms().map((p) => [p.name, p]));
    const staged = loadPrograms(base);
    assert.is(staged.length, mine.size);
    for (const program of staged) {
      const own = mine.get(program.name)!;
      assert.equal(program.expectedOutput, [], `${program.name}: no expected output is left`);
      assert.is(program.expectedError, undefined, `${program.name}: no expected error is left, of either kind`);
      assert.not.match(program.source, /\/\/\s*expect/, `${program.name}: no expect comment is left`);
      assert.is(program.source.split('\n').length, own.source.split('\n').length, `${program.name}: every line keeps its number`);
      for (const [ending, runtimeClass] of [['normal'], ['runtime'], ['compile'], ['runtime', 'division'], ['runtime', 'stack overflow']] as const) {
        if (mayEndWith(own, ending, runtimeClass)) assert.ok(mayEndWith(program, ending, runtimeClass), `${program.name} may end as ${ending} ${runtimeClass ?? ''}: it is chosen in the staged copy too`);
      }
      if (mayCompile(own)) assert.ok(mayCompile(program), `${program.name} may compile: it is chosen in the staged copy too`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
