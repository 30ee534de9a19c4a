/**
 * A check session: which chapters, on which architectures, against whose code. The
 * command line (checks/cli.ts), the self-test and the grader all run checks through here.
 */
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ARCHES, type Arch } from '#native/arch.ts';
import { availability, type Launcher } from '#native/platform.ts';
import { CHAPTERS, chapterDir, solutionCondition, type Chapter } from '../manifest.ts';
import type { CheckResult, ReportedOutcome } from './protocol.ts';
import { hideExpectations, hideVectorBytes, type Judge } from './verdicts.ts';
import { runChapter } from './runner.ts';
import type { Lanes } from './lanes.ts';
import { explainLoadErrors } from './load-error.ts';
import { hideWrittenExpectations } from './written.ts';
import { DEFAULT_LIMITS, referenceHiddenFrom, sandboxGroup, sandboxedLauncher, sandboxedWorkerPid, sandboxUserFor, signalFromExitCode, treeCpuTimeMs, type SandboxGroup, type SandboxLimits } from './sandbox.ts';

export interface SessionOptions {
  chapters: Chapter[];
  arches: Arch[];
  /** Run every chapter against solutions/ instead of chapters/. */
  solutions?: boolean;
  /** Chapters whose reference code stands in for the learner's. */
  useRef?: Chapter[];
  /** The workbook folder whose checks/, native/ and solutions/ are used. */
  root: string;
  /** Someone else's workbook folder whose chapters/ is checked (grading); default: root's own. */
  workspace?: string;
  /** Worker processes at once; default 2. */
  parallel?: number;
  /** Lanes shared with other sessions (the self-test's steps): each worker takes one, and `parallel` is not used. */
  lanes?: Lanes;
  /** With `lanes`: the lane time of this session's workers is added here. */
  account?: { ms: number };
  /**
   * Start the longest jobs first: the emulated architecture's, the later chapters' (which run
   * the most code) before the earlier ones, so that no long job is left to run alone at the end.
   */
  longestFirst?: boolean;
  /**
   * Stop at the first failure (or todo): a chapter's report ends with its first failing
   * check, and no chapter or architecture starts after one has failed.
   */
  failfast?: boolean;
  /** Lower level than failfast: stop each chapter at its first failure ('fail') or failure or todo. */
  stopAt?: 'fail' | 'fail-or-todo';
  /**
   * Run only the checks with these exact names; no other check's body runs. A name that
   * none of the chapters has fails the run with the list of names it does have.
   */
  only?: readonly string[];
  onGroupDone?: (chapter: Chapter, arch: Arch, results: CheckResult[]) => void;
  onResult?: (result: CheckResult) => void;
  /** With `workspace`: what staging it refused or found suspicious (see stageWorkspace). */
  onWorkspaceFlags?: (flags: WorkspaceFlag[]) => void;
  /** The judge of each chapter's reported program outcomes, outside the workers (verdicts.ts). */
  judge?: (chapter: Chapter, arch: Arch) => Judge | undefined;
  /** Called with every program outcome a check reports (to collect the reference's). */
  onOutcome?: (chapter: Chapter, arch: Arch, check: string, outcome: ReportedOutcome) => void;
  /** With `workspace`: run every worker in a sandbox around the staged copy (sandbox.ts). */
  sandbox?: SandboxSettings;
}

export interface SandboxSettings {
  limits?: SandboxLimits;
  /** A wall-clock ceiling on a worker's start-up and on each check (see runner.ts wallCeilingMs). */
  wallCeilingMs?: number;
}

export function hasChecks(root: string, chapter: Chapter): boolean {
  return existsSync(join(root, 'checks', chapterDir(chapter)));
}

/** Something in a staged workspace that reaches, or tries to reach, code that is not the student's own. */
export interface WorkspaceFlag {
  /** The file, relative to the workspace (chapters/…). */
  file: string;
  line?: number;
  /** What was found: a symbolic link, or an import of reference code. */
  reason: string;
}

export interface StagedWorkspace {
  root: string;
  remove: () => void;
  /** What the staging refused (symbolic links) or found suspicious (imports of reference code). */
  flags: WorkspaceFlag[];
}

export interface StageOptions {
  /**
   * Stage someone else's work for grading: no solutions/ their code can reach (only the
   * reference files that check files import, behind an import guard), no `solution-chNN`
   * conditions in package.json, symbolic links in chapters/ refused (never followed), and
   * string literals that name reference code flagged. Without it, solutions/ is copied
   * whole (the self-test plants bugs into it).
   */
  isolate?: boolean;
  /**
   * With `isolate`: chapters whose reference the person running the checks chose to lean
   * on (--use-ref). Their solutions/ folders are staged whole, their conditions kept, and
   * the student's code may import them (through `#chNN`), as it would at home.
   */
  reference?: readonly Chapter[];
  /**
   * With `isolate`: blank the `// expect …` comments of checks/programs, the bytes of the
   * encoder vectors and the expectations written beside the checks (`expectations.json`) in the
   * staged copy (verdicts.ts hideExpectations, hideVectorBytes, written.ts
   * hideWrittenExpectations), for code whose outcomes the runner judges itself.
   */
  hideExpectations?: boolean;
}

/**
 * A private copy of a workbook with another workspace's chapters/ in it, so the checks
 * of `root` (never the student's own) run against the student's code, isolated from
 * everyone else's. Returns the copy's folder and a function that removes it.
 */
export function stageWorkspace(root: string, workspace: string, options: StageOptions = {}): StagedWorkspace {
  const chapters = join(resolve(workspace), 'chapters');
  if (!existsSync(chapters)) throw new Error(`${workspace} has no chapters/ folder`);
  const staged = realpathSync(mkdtempSync(join(tmpdir(), 'workbook-')));
  const flags: WorkspaceFlag[] = [];
  try {
    for (const part of ['checks', 'native']) cpSync(join(root, part), join(staged, part), { recursive: true });
    if (options.isolate) {
      const allowed = (options.reference ?? []).map((c) => `solutions/${chapterDir(c)}`);
      writeFileSync(join(staged, 'package.json'), withoutSolutionConditions(readFileSync(join(root, 'package.json'), 'utf8'), options.reference ?? []));
      for (const dir of allowed) if (existsSync(join(root, dir))) cpSync(join(root, dir), join(staged, dir), { recursive: true });
      for (const file of referenceFilesChecksImport(root, !options.hideExpectations)) {
        mkdirSync(dirname(join(staged, file)), { recursive: true });
        copyFileSync(join(root, file), join(staged, file));
      }
      if (lstatSync(chapters).isSymbolicLink()) {
        mkdirSync(join(staged, 'chapters'));
        flags.push({ file: 'chapters', reason: `a symbolic link (to ${readlinkSync(chapters)}) is not graded: only your own files are` });
      } else copyStudentTree(chapters, join(staged, 'chapters'), 'chapters', flags);
      flags.push(...referencesToReferenceCode(join(staged, 'chapters'), 'chapters', [root, resolve(workspace)]));
      writeFileSync(join(staged, IMPORT_GUARD_MARK), JSON.stringify({ allowed }) + '\n');
      if (options.hideExpectations) {
        hideExpectations(join(staged, 'checks', 'programs'));
        hideVectorBytes(join(staged, 'checks', '03-encoders', 'vectors'));
        hideWrittenExpectations(join(staged, 'checks'));
      }
    } else {
      for (const part of ['package.json', 'solutions']) cpSync(join(root, part), join(staged, part), { recursive: true });
      cpSync(chapters, join(staged, 'chapters'), { recursive: true, dereference: true });
    }
  } catch (error) {
    rmSync(staged, { recursive: true, force: true });
    throw error;
  }
  for (const shared of ['node_modules', '.toolchain']) {
    if (existsSync(join(root, shared))) symlinkSync(join(root, shared), join(staged, shared));
  }
  return { root: staged, flags, remove: () => rmSync(staged, { recursive: true, force: true }) };
}

/**
 * A file in a staged root whose presence makes every worker there guard the student's
 * imports; it holds `{ "allowed": [folders of solutions/ the student's code may import] }`.
 */
export const IMPORT_GUARD_MARK = '.import-guard';

/**
 * package.json with every `#chNN/*` mapped to chapters/ alone, so no condition can select
 * solutions/, except for the chapters in `keep` (the reference the checks were asked to use).
 */
function withoutSolutionConditions(text: string, keep: readonly Chapter[]): string {
  const manifest = JSON.parse(text) as { imports?: Record<string, unknown> };
  for (const [key, target] of Object.entries(manifest.imports ?? {})) {
    if (keep.some((c) => key === `#ch${c.number}/*`)) continue;
    if (target && typeof target === 'object' && 'default' in target) manifest.imports![key] = (target as { default: unknown }).default;
  }
  return JSON.stringify(manifest, null, 2) + '\n';
}

const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js|json)$/;
const RELATIVE_SPECIFIER = /(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
/** An `import type … from '…';` statement (it may span lines): erased, it loads nothing. */
const TYPE_ONLY_IMPORT = /^import\s+type\b[^;]*;/gm;
/** The reference a check loads to make its expectations (written.ts referenceOracle): staged only where the expectations are visible, which is where it runs. */
const ORACLE_SPECIFIER = /\breferenceOracle\b(?:<[^>]*>)?\(\s*import\.meta\.url\s*,\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * The files of solutions/ that check files import by relative path (a check that compares
 * with the reference), with the solutions/ files those import in turn: what a staged copy
 * for grading must hold so that the checks themselves still load. Type-only imports are
 * erased before anything runs, and are not staged. A reference that checks load only to make
 * expectations (written.ts referenceOracle, not an import statement) is staged `withOracles`,
 * where the expectations are visible (grading without the sandbox); where they are hidden it
 * never loads, and is not there for the code under test to read.
 */
function referenceFilesChecksImport(root: string, withOracles: boolean): string[] {
  const found = new Set<string>();
  const pending: string[] = [];
  const visit = (fromFile: string) => {
    const text = readFileSync(join(root, fromFile), 'utf8').replace(TYPE_ONLY_IMPORT, '');
    const specifiers = [...text.matchAll(RELATIVE_SPECIFIER), ...(withOracles ? text.matchAll(ORACLE_SPECIFIER) : [])];
    for (const match of specifiers) {
      const target = relative(root, resolve(root, dirname(fromFile), match[1]!));
      if (target.startsWith(`solutions${sep}`) && !found.has(target) && existsSync(join(root, target))) {
        found.add(target);
        pending.push(target);
      }
    }
  };
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && SOURCE_FILE.test(entry.name)) visit(path);
    }
  };
  walk('checks');
  while (pending.length) visit(pending.pop()!);
  return [...found].sort();
}

/**
 * Copies a student's folder file by file: symbolic links are flagged and left out, never
 * followed; so is a file larger than a sandbox lets a file be, and everything past the most a
 * sandbox holds of a student's folder (sandbox.ts DEFAULT_LIMITS), so a huge repository costs
 * the grader's disk no more than that.
 */
function copyStudentTree(from: string, to: string, shown: string, flags: WorkspaceFlag[], copied = { bytes: 0 }): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const name = `${shown}/${entry.name}`;
    if (entry.isFile()) {
      const { size } = lstatSync(source);
      if (size > DEFAULT_LIMITS.fileBytes) {
        flags.push({ file: name, reason: `${Math.ceil(size / 2 ** 20)} MiB, more than the ${DEFAULT_LIMITS.fileBytes / 2 ** 20} MiB a file may have: not graded` });
        continue;
      }
      if (copied.bytes + size > DEFAULT_LIMITS.studentBytes) {
        flags.push({ file: name, reason: `past the ${DEFAULT_LIMITS.studentBytes / 2 ** 20} MiB a student's chapters/ may hold: not graded` });
        continue;
      }
      copied.bytes += size;
    }
    if (entry.isSymbolicLink()) {
      let target = '';
      try {
        target = readlinkSync(source);
      } catch {
        target = '?';
      }
      flags.push({ file: name, reason: `a symbolic link (to ${target}) is not graded: only your own files are` });
    } else if (entry.isDirectory()) copyStudentTree(source, join(to, entry.name), name, flags, copied);
    else if (entry.isFile()) copyFileSync(source, join(to, entry.name));
  }
}

/**
 * String literals in the student's sources that name reference code: a solutions/ folder,
 * a `solution-chNN` condition, the checks, or a path into the instructor's or the
 * student's own copy of the workbook (outside the staged chapters/).
 */
function referencesToReferenceCode(dir: string, shown: string, roots: string[]): WorkspaceFlag[] {
  const flags: WorkspaceFlag[] = [];
  const literal = /(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g;
  const suspicious = (text: string) =>
    /(?:^|[\\/])solutions(?:[\\/]|$)/.test(text) || /solution-ch\d\d/.test(text) || /(?:^|[\\/])checks[\\/]/.test(text) || roots.some((r) => text.includes(r));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const name = `${shown}/${entry.name}`;
    if (entry.isDirectory()) {
      flags.push(...referencesToReferenceCode(path, name, roots));
      continue;
    }
    if (!entry.isFile() || !SOURCE_FILE.test(entry.name)) continue;
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const match of line.matchAll(literal)) {
          if (suspicious(match[2]!)) flags.push({ file: name, line: i + 1, reason: `refers to code that is not the student's: ${match[0]}` });
        }
      });
  }
  return flags;
}

export function conditionsFor(options: Pick<SessionOptions, 'solutions' | 'useRef'>): string[] {
  const reference = options.solutions ? CHAPTERS : (options.useRef ?? []);
  return reference.map(solutionCondition);
}

/** Runs the session; results come back in chapter order, then architecture order. */
export async function runSession(options: SessionOptions): Promise<CheckResult[]> {
  const reference = options.solutions ? CHAPTERS : (options.useRef ?? []);
  const staged = options.workspace ? stageWorkspace(options.root, options.workspace, { isolate: true, reference, hideExpectations: options.sandbox !== undefined }) : null;
  if (staged) options.onWorkspaceFlags?.(staged.flags);
  const root = staged?.root ?? options.root;
  try {
    const launchers = new Map<Arch, Launcher | string>();
    const user = staged && options.sandbox ? sandboxUserFor(staged.root) : undefined;
    for (const arch of options.arches) {
      const found = availability(arch, options.root);
      launchers.set(arch, found.available ? found.launcher : found.reason);
    }
    // In the sandbox, the reference folders the chapter's checks do not run are empty
    // (sandbox.ts referenceHiddenFrom), for a grader that is not root too.
    // Each job's sandbox in a control group of its own where the grader can make one (sandboxGroup).
    const sandboxed = (launcher: Launcher, chapter: Chapter, group: SandboxGroup | undefined): Launcher =>
      staged && options.sandbox ? sandboxedLauncher(launcher, staged.root, options.root, options.sandbox.limits, user, referenceHiddenFrom(staged.root, chapter), group) : launcher;
    const jobs: { chapter: Chapter; arch: Arch; results?: CheckResult[] }[] = [];
    for (const chapter of options.chapters) for (const arch of ARCHES) if (options.arches.includes(arch)) jobs.push({ chapter, arch });

    const conditions = conditionsFor(options);
    const queue = [...jobs];
    if (options.longestFirst) {
      const emulated = (arch: Arch) => {
        const launcher = launchers.get(arch)!;
        return typeof launcher !== 'string' && launcher.mode === 'emulated';
      };
      queue.sort((a, b) => Number(emulated(b.arch)) - Number(emulated(a.arch)) || b.chapter.number.localeCompare(a.chapter.number));
    }
    let stopped = false;
    const runJob = async (job: (typeof jobs)[number]) => {
      if (stopped) return;
      const launcher = launchers.get(job.arch)!;
      if (typeof launcher === 'string') {
        job.results = [{ chapter: job.chapter.number, check: '(all checks)', arch: job.arch, mode: 'emulated', status: 'skip', message: `skipped: ${launcher}`, ms: 0, points: 0 }];
      } else {
        const group = staged && options.sandbox ? sandboxGroup(options.sandbox.limits ?? DEFAULT_LIMITS) : undefined;
        try {
          job.results = await runChapter({
            chapter: job.chapter,
            launcher: sandboxed(launcher, job.chapter, group),
            root,
            conditions,
            ...(staged && options.sandbox ? { cpuTime: treeCpuTimeMs, workerPid: sandboxedWorkerPid, exitSignal: signalFromExitCode, ...(options.sandbox.wallCeilingMs ? { wallCeilingMs: options.sandbox.wallCeilingMs } : {}) } : {}),
            ...(options.only ? { only: options.only } : {}),
            ...(options.judge?.(job.chapter, job.arch) ? { judge: options.judge(job.chapter, job.arch)! } : {}),
            ...(options.onOutcome ? { onOutcome: (check: string, outcome: ReportedOutcome) => options.onOutcome!(job.chapter, job.arch, check, outcome) } : {}),
            ...(options.onResult ? { onResult: options.onResult } : {}),
            ...(options.stopAt ? { stopAt: options.stopAt } : options.failfast ? { stopAt: 'fail-or-todo' as const } : {}),
          });
        } finally {
          group?.remove();
        }
      }
      if (options.failfast) {
        const failure = job.results.findIndex((r) => r.status === 'fail' || r.status === 'todo');
        if (failure >= 0) {
          job.results = job.results.slice(0, failure + 1);
          stopped = true;
        }
      }
      await explainLoadErrors(job.results, root).catch(() => undefined); // only ever improves a message
      options.onGroupDone?.(job.chapter, job.arch, job.results);
    };
    if (options.lanes) {
      const lanes = options.lanes;
      await Promise.all(queue.map((job) => lanes.run(() => runJob(job), options.account)));
    } else {
      let next = 0;
      const worker = async () => {
        while (next < queue.length && !stopped) await runJob(queue[next++]!);
      };
      await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 2) }, worker));
    }
    if (options.failfast) {
      // A later chapter that ran alongside the failing one is dropped: the report stops at the first failing chapter.
      const failing = jobs.find((j) => j.results?.some((r) => r.status === 'fail' || r.status === 'todo'));
      if (failing) return jobs.filter((j) => j.chapter.number <= failing.chapter.number).flatMap((j) => j.results ?? []);
    }
    return jobs.flatMap((j) => j.results ?? []);
  } finally {
    staged?.remove();
  }
}

export const ALL_ARCHES: Arch[] = [...ARCHES];
