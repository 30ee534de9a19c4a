/**
 * The pristine scaffold: the chapters/ files as the workbook hands them out, which
 * `npm run reset` restores.
 *
 * Where it comes from, most trusted first:
 *   1. `.workbook/pristine/chapters/NN-slug/`, a snapshot taken by `npm install`
 *      (postinstall: `node --import tsx checks/tools/pristine.ts`), the first thing a learner
 *      runs, before any edit. A chapter is snapshotted once, when it has no snapshot yet, so a
 *      chapter that arrives later with `git pull` is snapshotted at the next `npm install`.
 *   2. git: the version of each file in the commit that first added it. A learner may commit
 *      their work, so neither HEAD nor the first commit of the clone is trustworthy, but the
 *      commit that added a scaffold file is the workbook's own.
 *   3. Neither: a clear error saying where to get a fresh copy.
 * The repository holds no second copy of the scaffold: that would drift from chapters/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHAPTERS, chapterDir, type Chapter } from '../manifest.ts';
import { listFiles, stateDir } from './state.ts';

export function snapshotDir(root: string, chapter: Chapter): string {
  return join(stateDir(root), 'pristine', 'chapters', chapterDir(chapter));
}

/** Snapshots every chapter of chapters/ that has no snapshot yet; returns the chapters snapshotted. */
export function snapshotPristine(root: string): Chapter[] {
  const taken: Chapter[] = [];
  for (const chapter of CHAPTERS) {
    const source = join(root, 'chapters', chapterDir(chapter));
    const target = snapshotDir(root, chapter);
    if (!existsSync(source) || existsSync(target)) continue;
    const partial = `${target}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    cpSync(source, partial, { recursive: true });
    renameSync(partial, target);
    taken.push(chapter);
  }
  return taken;
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

/** The pristine files of a chapter; throws an Error that says what to do when there are none. */
export function pristineFiles(root: string, chapter: Chapter): PristineFiles {
  const snapshot = snapshotDir(root, chapter);
  if (existsSync(snapshot)) {
    const files = new Map<string, Buffer>();
    for (const f of listFiles(snapshot)) files.set(f, readFileSync(join(snapshot, f)));
    return { source: `the snapshot taken at npm install (.workbook/pristine/chapters/${chapterDir(chapter)}/)`, files };
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
