/**
 * npm run grade -- --roster roster.csv [--chapters 1-2] [--arch x64|arm64|all] [--out DIR] [--parallel N] [--wall-limit S]
 *
 * Runs THIS copy's checks (never a student's own) against each student's chapters/, each in
 * a private staged copy (session.ts stageWorkspace), and writes:
 *   grades.csv   one row per student × chapter × architecture: passed/total checks,
 *                points earned/possible (each check's `points`, so partial credit is exact),
 *                hints used (from the student's .workbook/hints.json)
 *   grades.json  every result of every student, with the check suite's version and hash
 * A student's code cannot lean on the reference: the staged copy holds no solutions/ it can
 * reach (stageWorkspace's isolate), its imports are guarded, and symbolic links are refused.
 * What staging refused or found (a symlink, a string naming solutions/) is flagged in the
 * note column of grades.csv and under `flags` in grades.json.
 * Every student's checks run in a sandbox (checks/harness/sandbox.ts: no network, nothing
 * writable but their own staged chapters/ and a private /tmp, limits on CPU, memory, files),
 * and every event a worker reports must carry a seal code under test cannot know
 * (runner.ts startWorker). `--no-sandbox` grades a trusted class without the sandbox, and
 * says so in the sandbox column of grades.csv and in grades.json.
 * Checks that run programs report each program's outcome, and the runner judges those
 * reports itself against expectations computed here, outside every student's worker
 * (checks/harness/verdicts.ts): a worker that forges a pass does not pass such a check.
 * In the sandbox, the programs staged beside the student's code have their `// expect …`
 * comments blanked (their kind of error kept), so there is no outcome there to copy.
 * The roster is CSV with the header `student,path`; a relative path resolves against the
 * roster's folder. A workspace that is missing, unreadable, full of garbage, crashes or
 * hangs costs only its own student's rows.
 */
import { closeSync, constants as fsConstants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARCH_NAMES, isArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS, parseChapterRanges, type Chapter } from '../manifest.ts';
import type { CheckResult, ListedCheck } from '../harness/protocol.ts';
import { resultRecord, suiteVersion } from '../harness/report.ts';
import { ALL_ARCHES, hasChecks, runSession, type SandboxSettings, type WorkspaceFlag } from '../harness/session.ts';
import { probeSandbox } from '../harness/sandbox.ts';
import { expectationKey, judgeFor, reportsOutcomes, type ExpectedOutcomes } from '../harness/verdicts.ts';
import { listChecks } from './listing.ts';
import { color, optionValue, runMain, UsageError, UserError, workbookRoot } from './main.ts';
import { stateDir, type HintsUsed } from './state.ts';

export interface RosterEntry {
  student: string;
  /** Absolute. */
  path: string;
}

/** Splits one CSV line (double quotes, "" inside quotes). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') fields.push(field.trim()), (field = '');
    else field += ch;
  }
  fields.push(field.trim());
  return fields;
}

export function readRoster(file: string): RosterEntry[] {
  const lines = readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#'));
  const header = csvFields(lines[0] ?? '').map((h) => h.toLowerCase());
  const studentAt = header.indexOf('student');
  const pathAt = header.indexOf('path');
  if (studentAt < 0 || pathAt < 0) throw new UserError(`${file}: the first line must be the header student,path (found: ${lines[0] ?? 'nothing'})`);
  return lines.slice(1).map((line, i) => {
    const fields = csvFields(line);
    const student = fields[studentAt] ?? '';
    const path = fields[pathAt] ?? '';
    if (!student || !path) throw new UserError(`${file}, line ${i + 2}: needs a student and a path: ${line}`);
    return { student, path: resolve(dirname(resolve(file)), path) };
  });
}

/**
 * One CSV cell. Text that a spreadsheet would take for a formula (it begins with =, +, -, @
 * or a tab or carriage return) is kept as text with a leading apostrophe, and control
 * characters (a terminal's escape codes) are shown as \u{…}: the notes carry what a
 * student's code said.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = printable(value).replace(/^[=+\-@\t\r]/, (first) => `'${first}`);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** `text` with its control characters but tab and line feed written as \u{…}. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/** The most of a result's message and details that grades.json keeps: a student's code can throw text of any length. */
export const MESSAGE_CHARS = 4000;
export const DETAILS_CHARS = 16_000;
/** A check's name as a worker reported it (a forged run may name checks at will). */
const NAME_CHARS = 400;

function clip(text: string, most: number): string {
  return text.length <= most ? text : `${text.slice(0, most)}… (${text.length - most} characters more)`;
}

/**
 * A load error explained by the source lines it names (load-error.ts): a message a student's
 * code threw can name any file on the grader's machine, whose lines the explanation would
 * show. Only a file of the student's own chapters/ is shown.
 */
const EXPLAINED_LOAD_ERROR = /^your code could not be loaded: (.+?):\d+:\d+: /;

/**
 * `result` with its texts bounded, so one student's output cannot swell the grade files or the
 * grader's memory, and without the lines of a file that is not the student's.
 */
function bounded(result: CheckResult): CheckResult {
  const kept: CheckResult = { ...result, check: clip(String(result.check), NAME_CHARS), message: clip(String(result.message), MESSAGE_CHARS) };
  const named = EXPLAINED_LOAD_ERROR.exec(kept.message)?.[1];
  if (named !== undefined && (named.split('/')[0] !== 'chapters' || named.split('/').includes('..'))) {
    kept.details = `(not shown: the message names ${clip(named, 200)}, a file outside your chapters/)`;
    return kept;
  }
  if (result.details !== undefined) kept.details = clip(String(result.details), DETAILS_CHARS);
  if (result.hint !== undefined) kept.hint = clip(String(result.hint), MESSAGE_CHARS);
  return kept;
}

/** The largest hint record grading reads. */
const HINTS_BYTES = 1024 * 1024;

/**
 * The hint rungs a student revealed, from their `.workbook/hints.json`, read the way a file
 * a stranger wrote must be: a real file (not a symbolic link to someone else's file, a
 * device or a pipe that would hold the grader forever), of a bounded size, and only counts
 * (whole numbers of at least 0) kept. Anything else counts as no record.
 */
export function studentHints(workspace: string): HintsUsed {
  const dir = stateDir(workspace);
  const file = join(dir, 'hints.json');
  let text: string;
  try {
    if (!lstatSync(dir).isDirectory() || !lstatSync(file).isFile()) return {};
    const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    try {
      const size = fstatSync(fd).size;
      if (!fstatSync(fd).isFile() || size > HINTS_BYTES) return {};
      const bytes = Buffer.alloc(size);
      let read = 0;
      while (read < size) {
        const got = readSync(fd, bytes, read, size - read, read);
        if (got === 0) break;
        read += got;
      }
      text = bytes.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const hints: HintsUsed = {};
  if (typeof parsed !== 'object' || parsed === null) return hints;
  for (const [chapter, checks] of Object.entries(parsed)) {
    if (!/^\d\d$/.test(chapter) || typeof checks !== 'object' || checks === null) continue;
    const counts: Record<string, number> = {};
    for (const [check, rungs] of Object.entries(checks)) if (Number.isSafeInteger(rungs) && (rungs as number) >= 0) counts[check] = rungs as number;
    hints[chapter] = counts;
  }
  return hints;
}

/** Sets `hintsUsed` on every result from `hints` (own entries only: a check's name is no key of Object's). */
function attachStudentHints(results: CheckResult[], hints: HintsUsed): void {
  for (const r of results) {
    const chapter = Object.hasOwn(hints, r.chapter) ? hints[r.chapter]! : {};
    r.hintsUsed = Object.hasOwn(chapter, r.check) ? chapter[r.check]! : 0;
  }
}

export interface GradeRow {
  student: string;
  chapter: string;
  arch: Arch;
  passed: number;
  total: number;
  points: number;
  possible: number;
  hintsUsed: number;
  note: string;
  /** What the checks ran in: 'bwrap', or 'none' (--no-sandbox). */
  sandbox: string;
}

export interface StudentGrade {
  student: string;
  path: string;
  error?: string;
  /** Symbolic links refused and references to code that is not the student's (see stageWorkspace). */
  flags: WorkspaceFlag[];
  rows: GradeRow[];
  results: CheckResult[];
}

/** Imports the grading guard (checks/harness/import-guard.mjs) refused while the checks ran, once each. */
function refusedImports(results: CheckResult[]): WorkspaceFlag[] {
  const seen = new Map<string, WorkspaceFlag>();
  for (const r of results) {
    const text = `${r.message}\n${r.details ?? ''}`;
    const found = /(chapters\/[^\s]+|a data: module) imports '([^']+)' \(([^)]*)\): when work is graded/.exec(text);
    if (found) seen.set(`${found[1]} ${found[2]}`, { file: found[1]!, reason: `imports '${found[2]}' (${found[3]}), which grading refused` });
    // In the sandbox a path into another copy of the workbook does not exist at all.
    const missing =
      /Cannot find module '([^']*\/(?:solutions|checks)\/[^']*)' imported from (chapters\/\S+|data:)/.exec(text) ??
      // require() names no importer: the first of the student's files on the stack, if any.
      /Cannot find module '([^']*\/(?:solutions|checks)\/[^']*)'(?! imported from)(?:[^]*?(chapters\/[^\s:]+))?/.exec(text);
    const importer = missing?.[2] === 'data:' ? 'a data: module' : (missing?.[2] ?? 'chapters/');
    if (missing) seen.set(`${importer} ${missing[1]}`, { file: importer, reason: `imports '${missing[1]}', code that is not the student's, which grading refused` });
  }
  return [...seen.values()];
}

/** `flagged: chapters/01-…/x.ts:3 refers to …` for the chapters in `chapter`'s folder. */
function flagNote(flags: WorkspaceFlag[], chapter: Chapter): string {
  const mine = flags.filter((f) => f.file.startsWith(`chapters/${chapter.number}-`) || !/^chapters\/\d\d-/.test(f.file));
  return mine.length ? `flagged: ${mine.map((f) => `${f.file}${f.line ? `:${f.line}` : ''} ${f.reason}`).join('; ')}` : '';
}

export interface GradeOptions {
  root: string;
  roster: RosterEntry[];
  chapters: Chapter[];
  arches: Arch[];
  /** Students graded at once; default 1. */
  parallel?: number;
  /** Run each student in a sandbox (the default: DEFAULT_LIMITS), or not (false: a trusted class). */
  sandbox?: SandboxSettings | false;
  onStudent?: (grade: StudentGrade) => void;
}

/** Why a workspace cannot be graded at all, or undefined if it can be tried. */
function unusable(path: string): string | undefined {
  try {
    if (!existsSync(path)) return `the workspace ${path} does not exist`;
    if (!statSync(path).isDirectory()) return `${path} is not a folder`;
    const chapters = join(path, 'chapters');
    if (!existsSync(chapters) || !statSync(chapters).isDirectory()) return `${path} has no chapters/ folder`;
  } catch (error) {
    return `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}

export async function grade(options: GradeOptions): Promise<{ students: StudentGrade[]; listings: Map<string, ListedCheck[]> }> {
  const { root, chapters } = options;
  // What each chapter is worth on each architecture: the suite's own list, with the reference standing in.
  const listings = new Map<string, ListedCheck[]>();
  const skipped = new Map<Arch, string>();
  for (const arch of options.arches) {
    const found = availability(arch, root);
    if (!found.available) skipped.set(arch, found.reason);
  }
  await Promise.all(
    chapters.flatMap((chapter) =>
      options.arches.filter((a) => !skipped.has(a)).map(async (arch) => listings.set(`${chapter.number}/${arch}`, await listChecks(root, chapter, arch, { solutions: true }))),
    ),
  );

  // The program outcomes each check must report, from the reference run here, outside every
  // student's worker; the runner judges each student's reports against them (verdicts.ts).
  const expected: ExpectedOutcomes = new Map();
  const judged = chapters.filter((c) => reportsOutcomes(root, c));
  const runnable = options.arches.filter((a) => !skipped.has(a));
  if (judged.length > 0 && runnable.length > 0) {
    await runSession({
      root,
      chapters: judged,
      arches: runnable,
      solutions: true,
      onOutcome: (chapter, arch, check, outcome) => {
        const key = expectationKey(chapter, arch, check);
        expected.set(key, [...(expected.get(key) ?? []), outcome]);
      },
    });
  }

  const gradeOne = async (entry: RosterEntry): Promise<StudentGrade> => {
    let results: CheckResult[] = [];
    let flags: WorkspaceFlag[] = [];
    let error = unusable(entry.path);
    if (!error) {
      try {
        results = await runSession({
          root,
          workspace: entry.path,
          chapters,
          arches: options.arches.filter((a) => !skipped.has(a)),
          onWorkspaceFlags: (found) => (flags = found),
          judge: (chapter, arch) => judgeFor(root, expected, chapter, arch),
          ...(options.sandbox === false ? {} : { sandbox: options.sandbox ?? {} }),
        });
        results = results.map(bounded);
        attachStudentHints(results, studentHints(entry.path));
        flags = [...flags, ...refusedImports(results)];
      } catch (caught) {
        error = `the checks could not run on this workspace: ${caught instanceof Error ? oneLine(caught.message) : String(caught)}`;
        results = [];
      }
    }
    const hints = error ? {} : studentHints(entry.path);
    const rows: GradeRow[] = [];
    for (const chapter of chapters) {
      const recorded = Object.hasOwn(hints, chapter.number) ? hints[chapter.number]! : {};
      for (const arch of options.arches) {
        const listed = listings.get(`${chapter.number}/${arch}`) ?? [];
        // The chapter's own checks' hints: a record may name others.
        const chapterHints = listed.reduce((sum, c) => sum + (Object.hasOwn(recorded, c.name) ? recorded[c.name]! : 0), 0);
        const mine = results.filter((r) => r.chapter === chapter.number && r.arch === arch);
        const passing = listed.filter((c) => mine.some((r) => r.check === c.name && r.status === 'pass'));
        // A failure that is not one of the listed checks (a file that would not load, a forged result), or, where nothing passed, the first failure.
        const unexplained =
          mine.find((r) => r.status === 'fail' && !listed.some((c) => c.name === r.check)) ??
          (passing.length === 0 ? mine.find((r) => r.status === 'fail') : undefined);
        const note = [
          flagNote(flags, chapter),
          skipped.has(arch) ? `skipped: ${skipped.get(arch)}` : (error ?? (unexplained ? `${unexplained.check}: ${oneLine(unexplained.message)}` : '')),
        ]
          .filter(Boolean)
          .join(' | ');
        rows.push({
          student: entry.student,
          chapter: chapter.number,
          arch,
          passed: passing.length,
          total: listed.length,
          points: passing.reduce((sum, c) => sum + c.points, 0),
          possible: listed.reduce((sum, c) => sum + c.points, 0),
          hintsUsed: chapterHints,
          note,
          sandbox: options.sandbox === false ? 'none' : 'bwrap',
        });
      }
    }
    return { student: entry.student, path: entry.path, ...(error ? { error } : {}), flags, rows, results };
  };

  const students: StudentGrade[] = new Array(options.roster.length);
  let next = 0;
  const worker = async () => {
    while (next < options.roster.length) {
      const index = next++;
      const graded = await gradeOne(options.roster[index]!);
      students[index] = graded;
      options.onStudent?.(graded);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 1) }, worker));
  return { students, listings };
}

export function gradesCsv(students: StudentGrade[]): string {
  const header = ['student', 'chapter', 'arch', 'passed', 'total', 'points', 'possible', 'hints_used', 'note', 'sandbox'];
  const lines = [header.join(',')];
  for (const s of students) {
    for (const r of s.rows) lines.push([r.student, r.chapter, r.arch, r.passed, r.total, r.points, r.possible, r.hintsUsed, r.note, r.sandbox].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function gradesJson(root: string, students: StudentGrade[], chapters: Chapter[], arches: Arch[], sandbox = 'bwrap'): string {
  return JSON.stringify(
    {
      suite: suiteVersion(root),
      sandbox,
      graded: new Date().toISOString(),
      chapters: chapters.map((c) => c.number),
      arches,
      students: students.map((s) => ({
        student: s.student,
        path: s.path,
        ...(s.error ? { error: s.error } : {}),
        flags: s.flags,
        grades: s.rows.map(({ student: _student, ...row }) => row),
        results: s.results.map(resultRecord),
      })),
    },
    null,
    2,
  );
}

const USAGE = `usage: npm run grade -- --roster roster.csv [options]

  --roster FILE        CSV with the header student,path; each path is a copy of a student's
                       workbook (relative paths resolve against the roster's folder)
  --chapters RANGE     which chapters, e.g. 1-2 or 1,3 (default: every chapter with checks)
  --arch x64|arm64|all which architectures (default all)
  --out DIR            where grades.csv and grades.json go (default: the roster's folder)
  --parallel N         students graded at once (default 1; each runs 2 workers)
  --no-sandbox         run the checks without the sandbox (a class you trust; it says so
                       in grades.csv and grades.json)
  --wall-limit SECONDS the most wall-clock time a worker's start-up or one check may take
                       in the sandbox, however little CPU it uses (default: 20 times the
                       check's CPU budget)

The checks are this copy's, never the student's own; every student runs in a private copy.`;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) throw new UsageError('');
  const known = new Set(['--roster', '--chapters', '--arch', '--out', '--parallel', '--wall-limit']);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-sandbox') continue;
    if (!known.has(argv[i]!)) throw new UsageError(`unknown argument ${argv[i]}`);
    i++;
  }
  const trusted = argv.includes('--no-sandbox');
  if (!trusted) {
    const tool = probeSandbox();
    if (!tool.ok) throw new UserError(`grading runs every student in a sandbox, and ${tool.reason}; fix: ${tool.fix}\n(or, for a class you trust, grade with --no-sandbox)`);
  }
  const rosterFile = optionValue(argv, '--roster');
  if (!rosterFile) throw new UsageError('--roster is required');
  if (!existsSync(rosterFile)) throw new UserError(`no roster at ${rosterFile}`);
  const root = workbookRoot;
  let chapters: Chapter[];
  try {
    chapters = parseChapterRanges(optionValue(argv, '--chapters') ?? 'all').filter((c) => hasChecks(root, c) && !c.draft);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (chapters.length === 0) throw new UsageError(`none of those chapters has checks (chapters with checks: ${CHAPTERS.filter((c) => hasChecks(root, c)).map((c) => c.number).join(', ')})`);
  const archText = optionValue(argv, '--arch') ?? 'all';
  if (archText !== 'all' && !isArch(archText)) throw new UsageError(`--arch takes x64, arm64 or all, not '${archText}'`);
  const arches: Arch[] = archText === 'all' ? ALL_ARCHES : [archText as Arch];
  const parallel = Number(optionValue(argv, '--parallel') ?? 1);
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError('--parallel takes a whole number of at least 1');
  const wallText = optionValue(argv, '--wall-limit');
  const wallLimit = wallText === undefined ? undefined : Number(wallText);
  if (wallLimit !== undefined && !(Number.isFinite(wallLimit) && wallLimit > 0)) throw new UsageError(`--wall-limit takes a number of seconds above 0, not '${wallText}'`);
  if (wallLimit !== undefined && trusted) throw new UsageError('--wall-limit applies to the sandbox; without it (--no-sandbox) each check keeps its own limits');
  const out = resolve(optionValue(argv, '--out') ?? dirname(resolve(rosterFile)));
  const roster = readRoster(rosterFile);

  console.log(color.dim(`grading ${roster.length} student${roster.length === 1 ? '' : 's'}: chapters ${chapters.map((c) => c.number).join(', ')} on ${arches.map((a) => ARCH_NAMES[a]).join(' and ')}, with this copy's checks, ${trusted ? 'without a sandbox (--no-sandbox)' : 'each in a sandbox'}\n`));
  const started = performance.now();
  const { students } = await grade({
    root,
    roster,
    chapters,
    arches,
    parallel,
    sandbox: trusted ? false : wallLimit === undefined ? {} : { wallCeilingMs: wallLimit * 1000 },
    onStudent: (s) => {
      const points = s.rows.reduce((sum, r) => sum + r.points, 0);
      const possible = s.rows.reduce((sum, r) => sum + r.possible, 0);
      const hints = [...new Map(s.rows.map((r) => [r.chapter, r.hintsUsed])).values()].reduce((a, b) => a + b, 0);
      const mark = s.error || s.flags.length ? color.red('✗') : points === possible ? color.green('✓') : color.yellow('·');
      const flagged = s.flags.length ? color.red(`  flagged: ${s.flags.length} reference${s.flags.length === 1 ? '' : 's'} to code that is not the student's (see grades.csv)`) : '';
      console.log(`  ${mark} ${printable(s.student).padEnd(20)} ${String(points).padStart(4)} / ${possible} points, ${hints} hint${hints === 1 ? '' : 's'}${s.error ? color.red(`  ${printable(s.error)}`) : ''}${flagged}`);
    },
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'grades.csv'), gradesCsv(students));
  writeFileSync(join(out, 'grades.json'), gradesJson(root, students, chapters, arches, trusted ? 'none' : 'bwrap') + '\n');
  console.log(`\nwrote ${join(out, 'grades.csv')} and grades.json (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main, USAGE);
