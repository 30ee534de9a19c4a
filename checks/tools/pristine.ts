/**
 * The pristine scaffold: the chapters/ files as the workbook hands them out, which
 * `npm run reset` restores.
 *
 * Where it comes from, most trusted first:
 *   1. `.workbook/pristine/chapters/NN-slug/`, a snapshot taken by `npm install`
 *      (postinstall: `node --import tsx checks/tools/pristine.ts`), the first thing a learner
 *      runs, before any edit. A chapter is snapshotted once, when it has no snapshot yet, so a
 *      chapter that arrives later with `git pull` is snapshotted at the next `npm install`.
 *      Each snapshot records the workbook version it belongs to (versions.json beside it).
 *   2. After an update (the snapshot is of an older version than package.json says): git, the
 *      workbook's own commit of the current version that the learner pulled in. Following
 *      the README (commit, then `git pull --no-rebase`), that is the second parent of the
 *      merge; a learner who had nothing to merge has it as the branch's upstream. The
 *      snapshot is then taken again from there.
 *   3. Without a snapshot: git, the version of each file in the commit that first added it. A
 *      learner may commit their work, so neither HEAD nor the first commit of the clone is
 *      trustworthy, but the commit that added a scaffold file is the workbook's own.
 *   4. None of these: a clear error saying where to get a fresh copy.
 * The repository holds no second copy of the scaffold: that would drift from chapters/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHAPTERS, chapterDir, type Chapter } from '../manifest.ts';
import { listFiles, stateDir, workbookVersion } from './state.ts';

/** Snapshots taken before versions were recorded belong to the only version before that. */
const UNRECORDED_VERSION = '0.1.0';

export function snapshotDir(root: string, chapter: Chapter): string {
  return join(stateDir(root), 'pristine', 'chapters', chapterDir(chapter));
}

const versionsPath = (root: string) => join(stateDir(root), 'pristine', 'versions.json');

function snapshotVersions(root: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(versionsPath(root), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** The workbook version a chapter's snapshot was taken at. */
export function snapshotVersion(root: string, chapter: Chapter): string {
  return snapshotVersions(root)[chapter.number] ?? UNRECORDED_VERSION;
}

function recordSnapshotVersion(root: string, chapter: Chapter, version: string): void {
  const versions = { ...snapshotVersions(root), [chapter.number]: version };
  mkdirSync(dirname(versionsPath(root)), { recursive: true });
  writeFileSync(`${versionsPath(root)}.tmp`, JSON.stringify(versions, null, 2) + '\n');
  renameSync(`${versionsPath(root)}.tmp`, versionsPath(root));
}

/** Replaces the chapter's snapshot with `write(folder)`'s files, all at once. */
function replaceSnapshot(root: string, chapter: Chapter, write: (folder: string) => void): void {
  const target = snapshotDir(root, chapter);
  const partial = `${target}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  write(partial);
  rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
  recordSnapshotVersion(root, chapter, workbookVersion(root));
}

/**
 * Snapshots every chapter of chapters/ that has no snapshot yet, and takes again, from git,
 * the snapshot of a chapter that is of an older workbook version (see 2. above; chapters/
 * itself holds the learner's work by then). Returns the chapters snapshotted.
 */
export function snapshotPristine(root: string): Chapter[] {
  const taken: Chapter[] = [];
  const version = workbookVersion(root);
  for (const chapter of CHAPTERS) {
    const source = join(root, 'chapters', chapterDir(chapter));
    if (!existsSync(source)) continue;
    if (!existsSync(snapshotDir(root, chapter))) {
      replaceSnapshot(root, chapter, (folder) => cpSync(source, folder, { recursive: true }));
      taken.push(chapter);
    } else if (snapshotVersion(root, chapter) !== version) {
      const updated = fromUpdate(root, chapter, version);
      if (!updated) continue;
      replaceSnapshot(root, chapter, (folder) => writeFiles(folder, updated.files));
      taken.push(chapter);
    }
  }
  return taken;
}

function writeFiles(folder: string, files: Map<string, Buffer>): void {
  for (const [file, contents] of files) {
    mkdirSync(dirname(join(folder, file)), { recursive: true });
    writeFileSync(join(folder, file), contents);
  }
}

export interface PristineFiles {
  /** Where they came from, in words. */
  source: string;
  /** Relative path inside the chapter's folder → contents. */
  files: Map<string, Buffer>;
}

function git(root: string, args: string[]): { ok: boolean; out: Buffer } {
  const run = spawnSync('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  return { ok: run.status === 0 && !run.error, out: run.stdout ?? Buffer.alloc(0) };
}

/** The chapter's scaffold files as first added to git, or undefined if git cannot tell. */
function fromGit(root: string, chapter: Chapter): PristineFiles | undefined {
  if (!existsSync(join(root, '.git')) || !git(root, ['rev-parse', '--git-dir']).ok) return undefined;
  const folder = `chapters/${chapterDir(chapter)}`;
  const added = git(root, ['log', '--diff-filter=A', '--format=%H %s', '--name-only', '--', folder]);
  if (!added.ok) return undefined;
  // Newest first: commit lines, then the files it added. Keep, per file, the oldest commit that added it.
  const firstAdded = new Map<string, string>();
  let commit = '';
  for (const line of added.out.toString('utf8').split('\n')) {
    const header = /^([0-9a-f]{40}) /.exec(line);
    if (header) commit = header[1]!;
    else if (line.startsWith(`${folder}/`) && commit) firstAdded.set(line, commit);
  }
  if (firstAdded.size === 0) return undefined;
  const files = new Map<string, Buffer>();
  for (const [path, at] of firstAdded) {
    const shown = git(root, ['show', `${at}:${path}`]);
    if (!shown.ok) return undefined;
    files.set(path.slice(folder.length + 1), shown.out);
  }
  return { source: `git (the commits that added ${folder}/)`, files };
}

/** The chapter's files in the commit `at`, or undefined if it has none. */
function filesAt(root: string, at: string, chapter: Chapter): Map<string, Buffer> | undefined {
  const folder = `chapters/${chapterDir(chapter)}`;
  const listed = git(root, ['ls-tree', '-r', '--name-only', at, '--', folder]);
  if (!listed.ok) return undefined;
  const files = new Map<string, Buffer>();
  for (const path of listed.out.toString('utf8').split('\n').filter(Boolean)) {
    const shown = git(root, ['show', `${at}:${path}`]);
    if (!shown.ok) return undefined;
    files.set(path.slice(folder.length + 1), shown.out);
  }
  return files.size > 0 ? files : undefined;
}

/** The workbook version in package.json at commit `at`. */
function versionAt(root: string, at: string): string | undefined {
  const shown = git(root, ['show', `${at}:package.json`]);
  if (!shown.ok) return undefined;
  try {
    return (JSON.parse(shown.out.toString('utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * The chapter's scaffold as the workbook's commit of `version` has it: the second parent of
 * the newest merge on this branch that brought that version in, else the branch's upstream
 * if it is at that version. Undefined when git cannot tell.
 */
function fromUpdate(root: string, chapter: Chapter, version: string): PristineFiles | undefined {
  if (!existsSync(join(root, '.git')) || !git(root, ['rev-parse', '--git-dir']).ok) return undefined;
  const merges = git(root, ['log', '--first-parent', '--merges', '--format=%P', 'HEAD']);
  const candidates: { at: string; said: string }[] = [];
  if (merges.ok) {
    for (const parents of merges.out.toString('utf8').split('\n')) {
      const second = parents.split(' ')[1];
      if (second) candidates.push({ at: second, said: `git (commit ${second.slice(0, 10)}, the workbook ${version} you merged)` });
    }
  }
  const upstream = git(root, ['rev-parse', '--verify', '-q', '@{upstream}']);
  if (upstream.ok) {
    const at = upstream.out.toString('utf8').trim();
    candidates.push({ at, said: `git (the branch's upstream ${at.slice(0, 10)}, workbook ${version})` });
  }
  for (const { at, said } of candidates) {
    if (versionAt(root, at) !== version) continue;
    const files = filesAt(root, at, chapter);
    if (files) return { source: said, files };
  }
  return undefined;
}

/** The pristine files of a chapter; throws an Error that says what to do when there are none. */
export function pristineFiles(root: string, chapter: Chapter): PristineFiles {
  const snapshot = snapshotDir(root, chapter);
  const version = workbookVersion(root);
  if (existsSync(snapshot) && snapshotVersion(root, chapter) === version) {
    const files = new Map<string, Buffer>();
    for (const f of listFiles(snapshot)) files.set(f, readFileSync(join(snapshot, f)));
    return { source: `the snapshot taken at npm install (.workbook/pristine/chapters/${chapterDir(chapter)}/)`, files };
  }
  if (existsSync(snapshot)) {
    const updated = fromUpdate(root, chapter, version);
    if (updated) return updated;
    throw new Error(
      `there is no pristine copy of chapter ${chapter.number} for workbook ${version}: the snapshot in .workbook/pristine/ is of workbook ${snapshotVersion(root, chapter)}, ` +
        `and git shows no commit of ${version} that you pulled in (merge the workbook's update with git pull --no-rebase). ` +
        `Or copy chapters/${chapterDir(chapter)}/ from a fresh download of workbook ${version}.`,
    );
  }
  const tracked = fromGit(root, chapter);
  if (tracked) return tracked;
  throw new Error(
    `there is no pristine copy of chapter ${chapter.number}: no snapshot in .workbook/pristine/ (npm install takes one) and no git history that added chapters/${chapterDir(chapter)}/. ` +
      `Copy chapters/${chapterDir(chapter)}/ from a fresh download of the workbook instead.`,
  );
}

// `node --import tsx checks/tools/pristine.ts` (postinstall): snapshot what is not yet snapshotted.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
    const taken = snapshotPristine(root);
    if (taken.length) console.log(`[setup] kept a pristine copy of chapter ${taken.map((c) => c.number).join(', ')} in .workbook/pristine/ (npm run reset restores it)`);
  } catch (error) {
    console.log(`[setup] could not keep a pristine copy of chapters/ (${error instanceof Error ? error.message : String(error)}); npm run reset will fall back to git`);
  }
}
