/**
 * npm run progress
 *
 * Every chapter with its state on each architecture (not started, in progress N of M,
 * done), from the latest results that `npm run check` recorded in `.workbook/`, and what
 * to do next: the command to run and the book page to read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARCH_NAMES, ARCHES, hostArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS, chapterDir, type Chapter } from '../manifest.ts';
import { hasChecks } from '../harness/session.ts';
import { color, runMain, workbookRoot } from './main.ts';
import { chapterModified, latestGroup } from './state.ts';

export type ArchState =
  | { kind: 'unavailable'; reason: string }
  | { kind: 'not started' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'in progress'; passed: number; total: number; stale: boolean }
  | { kind: 'done'; total: number; stale: boolean };

export interface ChapterProgress {
  chapter: Chapter;
  runnable: boolean;
  arches: Partial<Record<Arch, ArchState>>;
  /** Done on every architecture this machine can run. */
  done: boolean;
  started: boolean;
}

export function archState(root: string, chapter: Chapter, arch: Arch, available: { ok: boolean; reason: string }): ArchState {
  const record = latestGroup(root, chapter.number, arch);
  if (!record) return available.ok ? { kind: 'not started' } : { kind: 'unavailable', reason: available.reason };
  const results = record.results.filter((r) => r.status !== 'skip');
  if (results.length === 0) return { kind: 'skipped', reason: record.results[0]?.message ?? '' };
  const stale = chapterModified(root, chapter) > Date.parse(record.at);
  const passed = results.filter((r) => r.status === 'pass').length;
  if (passed === results.length) return { kind: 'done', total: results.length, stale };
  if (passed === 0 && results.every((r) => r.status === 'todo')) return { kind: 'not started' };
  return { kind: 'in progress', passed, total: results.length, stale };
}

export function chapterProgress(root: string): ChapterProgress[] {
  const available = new Map(
    ARCHES.map((arch) => {
      const found = availability(arch, root);
      return [arch, { ok: found.available, reason: found.available ? '' : found.reason }] as const;
    }),
  );
  return CHAPTERS.map((chapter) => {
    const runnable = hasChecks(root, chapter) && !chapter.draft;
    const arches: Partial<Record<Arch, ArchState>> = {};
    if (runnable) for (const arch of ARCHES) arches[arch] = archState(root, chapter, arch, available.get(arch)!);
    const states = Object.values(arches);
    const relevant = states.filter((s) => s.kind !== 'unavailable' && s.kind !== 'skipped');
    return {
      chapter,
      runnable,
      arches,
      done: relevant.length > 0 && relevant.every((s) => s.kind === 'done'),
      started: states.some((s) => s.kind === 'in progress' || s.kind === 'done'),
    };
  });
}

function describe(state: ArchState | undefined): string {
  if (!state) return color.dim('no checks yet');
  switch (state.kind) {
    case 'unavailable':
      return color.dim('cannot run here');
    case 'not started':
      return color.dim('not started');
    case 'skipped':
      return color.dim('skipped');
    case 'in progress':
      return color.yellow(`in progress ${state.passed} of ${state.total}`) + (state.stale ? color.dim(' (edited since)') : '');
    case 'done':
      return color.green(`done ${state.total}/${state.total}`) + (state.stale ? color.dim(' (edited since)') : '');
  }
}

const visible = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - visible(text)));

/** The progress report, as text. */
export function progressReport(root: string): string {
  const rows = chapterProgress(root);
  const host = hostArch();
  const order: Arch[] = [host, ...ARCHES.filter((a) => a !== host)];
  const header = order.map((arch) => `${ARCH_NAMES[arch]} (${arch === host ? 'native' : 'emulated'})`);
  const nameWidth = Math.max(...rows.map((r) => r.chapter.title.length)) + 6;
  const cells = rows.map((row) => order.map((arch) => describe(row.arches[arch])));
  const width = Math.max(28, ...header.map(visible), ...cells.flat().map(visible)) + 2;
  const lines = [color.bold(pad('chapter', nameWidth) + header.map((h) => pad(h, width)).join('').trimEnd())];
  rows.forEach((row, i) => {
    const name = `${row.chapter.number} ${row.chapter.title}`;
    const states = row.runnable
      ? cells[i]!.map((cell) => pad(cell, width)).join('').trimEnd()
      : color.dim(row.chapter.draft ? 'in preparation: its checks and book page are being written' : 'no checks yet: a later part of the workbook');
    lines.push(`${pad(row.done ? color.green(name) : name, nameWidth)}${states}`);
  });

  const unavailable = order.filter((arch) => !availability(arch, root).available);
  for (const arch of unavailable) {
    const found = availability(arch, root);
    if (!found.available) lines.push(color.dim(`\n${ARCH_NAMES[arch]} cannot run here: ${found.reason} (npm run doctor says more)`));
  }

  const next = rows.find((r) => r.runnable && !r.done);
  lines.push('');
  if (!next) {
    const last = [...rows].reverse().find((r) => r.runnable);
    lines.push(color.green('every chapter that has checks is done.'));
    if (last) lines.push(`compare your code with the reference: npm run solution chapter-${last.chapter.number}`);
    return lines.join('\n');
  }
  const dir = chapterDir(next.chapter);
  const bookText = bookPage(root, next.chapter);
  lines.push(color.bold(`next: chapter ${next.chapter.number} · ${next.chapter.title}`));
  const states = Object.values(next.arches);
  if (!next.started) {
    const previous = rows[rows.indexOf(next) - 1];
    if (previous?.done) lines.push(`  chapter ${previous.chapter.number} is done; compare it with the reference: npm run solution chapter-${previous.chapter.number}`);
    lines.push(`  read     ${bookText}`);
    lines.push(`  write    the TODOs in chapters/${dir}/`);
    lines.push(`  run      npm run check chapter-${next.chapter.number} -- --watch`);
  } else {
    const behind = order.filter((arch) => {
      const s = next.arches[arch];
      return s && s.kind !== 'done' && s.kind !== 'unavailable' && s.kind !== 'skipped';
    });
    const stale = states.some((s) => (s.kind === 'done' || s.kind === 'in progress') && s.stale);
    const arch = behind.length === 1 && behind[0] !== host ? ` -- --arch ${behind[0]}` : ' -- --watch';
    lines.push(`  run      npm run check chapter-${next.chapter.number}${arch}${stale ? color.dim('   (you edited the chapter since the last run)') : ''}`);
    lines.push(`  stuck?   npm run hint chapter-${next.chapter.number}   (one rung at a time: the concept, where to look, nearly the answer)`);
    lines.push(`  read     ${bookText}`);
  }
  return lines.join('\n');
}

/**
 * Where to read a chapter: its page of the built book (`book/out/NN-slug.html`), with the
 * command that builds the book when it is not built yet. The markdown sources are not for
 * reading: their listings are `@include` lines.
 */
export function bookPage(root: string, chapter: Chapter): string {
  const dir = chapterDir(chapter);
  if (!existsSync(join(root, 'book', `${dir}.md`))) return `the book has no page for chapter ${chapter.number} yet`;
  const page = `book/out/${dir}.html`;
  return existsSync(join(root, page)) ? page : `${page} (build the book first: npm run book)`;
}

async function main(): Promise<number> {
  console.log(progressReport(workbookRoot));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main);
