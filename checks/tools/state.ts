/**
 * What the workbook remembers between commands, in `.workbook/` (gitignored):
 *
 *   .workbook/results.json    the latest results of `npm run check`, per chapter and architecture
 *   .workbook/hints.json      how many rungs of each check's hint ladder were shown
 *   .workbook/pristine/       the untouched scaffold (see pristine.ts)
 *   .workbook/backups/        what `npm run reset` saved before restoring a chapter
 *
 * Files are written whole and renamed into place, so a command interrupted half-way never
 * leaves a broken file behind; a file that cannot be read counts as empty.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Arch } from '#native/arch.ts';
import { CHAPTERS, chapterDir, type Chapter } from '../manifest.ts';
import type { CheckResult } from '../harness/protocol.ts';

export function stateDir(root: string): string {
  return join(root, '.workbook');
}

function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(value, null, 2) + '\n');
  renameSync(temporary, path);
}

/** The latest run of one chapter on one architecture. */
export interface GroupRecord {
  chapter: string;
  arch: Arch;
  /** ISO time the run finished. */
  at: string;
  /** Chapters that used the reference solution in that run (--use-ref). */
  useRef: string[];
  /** The workbook's version (package.json) the run was made with; absent in results older than 0.2.0. */
  version?: string;
  results: CheckResult[];
}

/** The workbook's version, from its package.json (`unknown` if it cannot be read). */
export function workbookVersion(root: string): string {
  return readJson<{ version?: string }>(join(root, 'package.json'), {}).version ?? 'unknown';
}

interface ResultsFile {
  groups: Record<string, GroupRecord>;
}

const resultsPath = (root: string) => join(stateDir(root), 'results.json');
const groupKey = (chapter: string, arch: Arch) => `${chapter}/${arch}`;

/**
 * Records the results of a run of the learner's own code. Each chapter/architecture group
 * replaces the previous one; groups not in this run are kept. A skipped architecture does
 * not overwrite a real earlier result (it says nothing new about the learner's code).
 */
export function recordResults(root: string, results: CheckResult[], useRef: readonly Chapter[] = []): void {
  const file = readJson<ResultsFile>(resultsPath(root), { groups: {} });
  file.groups ??= {};
  const at = new Date().toISOString();
  const version = workbookVersion(root);
  const groups = new Map<string, CheckResult[]>();
  for (const r of results) groups.set(groupKey(r.chapter, r.arch), [...(groups.get(groupKey(r.chapter, r.arch)) ?? []), r]);
  for (const [key, group] of groups) {
    const first = group[0]!;
    if (useRef.some((c) => c.number === first.chapter)) continue; // the reference's results, not the learner's
    const skipped = group.every((r) => r.status === 'skip');
    if (skipped && file.groups[key] && !file.groups[key]!.results.every((r) => r.status === 'skip')) continue;
    file.groups[key] = { chapter: first.chapter, arch: first.arch, at, useRef: useRef.map((c) => c.number), version, results: group };
  }
  writeJson(resultsPath(root), file);
}

export function latestGroup(root: string, chapter: string, arch: Arch): GroupRecord | undefined {
  return readJson<ResultsFile>(resultsPath(root), { groups: {} }).groups?.[groupKey(chapter, arch)];
}

/** Forgets the recorded results of a chapter (after a reset). */
export function forgetResults(root: string, chapter: string): void {
  const file = readJson<ResultsFile>(resultsPath(root), { groups: {} });
  for (const key of Object.keys(file.groups ?? {})) if (key.startsWith(`${chapter}/`)) delete file.groups[key];
  writeJson(resultsPath(root), file);
}

// ---- hints ----

/** chapter → check name → rungs shown so far. */
export type HintsUsed = Record<string, Record<string, number>>;

const hintsPath = (root: string) => join(stateDir(root), 'hints.json');

export function readHints(root: string): HintsUsed {
  const read = readJson<HintsUsed>(hintsPath(root), {});
  return typeof read === 'object' && read !== null ? read : {};
}

/** Records that `rungs` rungs of a check's hints have now been shown; returns the new count. */
export function recordHint(root: string, chapter: string, check: string, rungs: number): number {
  const hints = readHints(root);
  const chapterHints = (hints[chapter] ??= {});
  chapterHints[check] = Math.max(chapterHints[check] ?? 0, rungs);
  writeJson(hintsPath(root), hints);
  return chapterHints[check]!;
}

/** Sets `hintsUsed` on every result from the hint record of the workbook at `root`. */
export function attachHints(results: CheckResult[], root: string): CheckResult[] {
  const hints = readHints(root);
  for (const r of results) r.hintsUsed = hints[r.chapter]?.[r.check] ?? 0;
  return results;
}

// ---- the learner's files ----

import { listFiles } from '../harness/files.ts';
export { listFiles };

/** The newest modification time (ms) of the chapter's files in chapters/, or 0. */
export function chapterModified(root: string, chapter: Chapter): number {
  const dir = join(root, 'chapters', chapterDir(chapter));
  return Math.max(0, ...listFiles(dir).map((f) => statSync(join(dir, f)).mtimeMs));
}

export function chapterByNumber(number: string): Chapter | undefined {
  return CHAPTERS.find((c) => c.number === number);
}
