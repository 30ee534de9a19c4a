/**
 * A check session: which chapters, on which architectures, against whose code. The
 * command line (checks/cli.ts), the self-test and the grader all run checks through here.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARCHES, type Arch } from '#native/arch.ts';
import { availability, type Launcher } from '#native/platform.ts';
import { CHAPTERS, chapterDir, solutionCondition, type Chapter } from '../manifest.ts';
import type { CheckResult } from './protocol.ts';
import { runChapter } from './runner.ts';
import { explainLoadErrors } from './load-error.ts';

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
}

export function hasChecks(root: string, chapter: Chapter): boolean {
  return existsSync(join(root, 'checks', chapterDir(chapter)));
}

/**
 * A private copy of a workbook with another workspace's chapters/ in it, so the checks
 * of `root` (never the student's own) run against the student's code, isolated from
 * everyone else's. Returns the copy's folder and a function that removes it.
 */
export function stageWorkspace(root: string, workspace: string): { root: string; remove: () => void } {
  const chapters = join(resolve(workspace), 'chapters');
  if (!existsSync(chapters)) throw new Error(`${workspace} has no chapters/ folder`);
  const staged = mkdtempSync(join(tmpdir(), 'workbook-'));
  try {
    for (const part of ['package.json', 'checks', 'native', 'solutions']) cpSync(join(root, part), join(staged, part), { recursive: true });
    cpSync(chapters, join(staged, 'chapters'), { recursive: true, dereference: true });
  } catch (error) {
    rmSync(staged, { recursive: true, force: true });
    throw error;
  }
  for (const shared of ['node_modules', '.toolchain']) {
    if (existsSync(join(root, shared))) symlinkSync(join(root, shared), join(staged, shared));
  }
  return { root: staged, remove: () => rmSync(staged, { recursive: true, force: true }) };
}

export function conditionsFor(options: Pick<SessionOptions, 'solutions' | 'useRef'>): string[] {
  const reference = options.solutions ? CHAPTERS : (options.useRef ?? []);
  return reference.map(solutionCondition);
}

/** Runs the session; results come back in chapter order, then architecture order. */
export async function runSession(options: SessionOptions): Promise<CheckResult[]> {
  const staged = options.workspace ? stageWorkspace(options.root, options.workspace) : null;
  const root = staged?.root ?? options.root;
  try {
    const launchers = new Map<Arch, Launcher | string>();
    for (const arch of options.arches) {
      const found = availability(arch, options.root);
      launchers.set(arch, found.available ? found.launcher : found.reason);
    }
    const jobs: { chapter: Chapter; arch: Arch; results?: CheckResult[] }[] = [];
    for (const chapter of options.chapters) for (const arch of ARCHES) if (options.arches.includes(arch)) jobs.push({ chapter, arch });

    const conditions = conditionsFor(options);
    let next = 0;
    let stopped = false;
    const worker = async () => {
      while (next < jobs.length && !stopped) {
        const job = jobs[next++]!;
        const launcher = launchers.get(job.arch)!;
        if (typeof launcher === 'string') {
          job.results = [{ chapter: job.chapter.number, check: '(all checks)', arch: job.arch, mode: 'emulated', status: 'skip', message: `skipped: ${launcher}`, ms: 0, points: 0 }];
        } else {
          job.results = await runChapter({
            chapter: job.chapter,
            launcher,
            root,
            conditions,
            ...(options.only ? { only: options.only } : {}),
            ...(options.onResult ? { onResult: options.onResult } : {}),
            ...(options.stopAt ? { stopAt: options.stopAt } : options.failfast ? { stopAt: 'fail-or-todo' as const } : {}),
          });
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
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 2) }, worker));
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
