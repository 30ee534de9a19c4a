/**
 * The chapters, in order. One slug names a chapter's folder in chapters/, solutions/,
 * checks/ and book/ alike (`01-executable-memory`), and package.json maps `#ch01/*` to
 * the learner's folder or, under the `solution-ch01` condition, to the reference.
 * A chapter without a checks/ folder yet is listed but not runnable.
 */
export interface Chapter {
  /** Two digits: '01'. */
  readonly number: string;
  readonly slug: string;
  readonly title: string;
  /**
   * A chapter still being written: its checks run against the reference in the workbook's
   * own tests, but learners, grading and the pristine and planted-bug proofs skip it, and
   * the tools show it as in preparation.
   */
  readonly draft?: boolean;
}

export const CHAPTERS: readonly Chapter[] = [
  { number: '01', slug: 'executable-memory', title: 'Executable memory' },
  { number: '02', slug: 'add-four', title: 'The add-four JIT' },
  { number: '03', slug: 'encoders', title: 'Instruction encoders' },
  { number: '04', slug: 'assembler', title: 'A macro-assembler' },
  { number: '05', slug: 'parser', title: 'A Pratt parser' },
  { number: '06', slug: 'interpreter', title: 'A bytecode interpreter' },
  { number: '07', slug: 'template-jit', title: 'A template JIT' },
  { number: '08', slug: 'ssa-optimizer', title: 'An SSA optimizer' },
  { number: '09', slug: 'register-allocator', title: 'A linear-scan register allocator' },
  { number: '10', slug: 'exceptions', title: 'Exceptions' },
  { number: '11', slug: 'garbage-collector', title: 'A copying garbage collector' },
  { number: '12', slug: 'tiers-and-tools', title: 'Tiers and tools' },
];

/** `01-executable-memory` */
export function chapterDir(chapter: Chapter): string {
  return `${chapter.number}-${chapter.slug}`;
}

/** The package.json condition that points `#chNN/*` at the reference solution. */
export function solutionCondition(chapter: Chapter): string {
  return `solution-ch${chapter.number}`;
}

/**
 * Finds a chapter from what a person types: `chapter-01`, `chapter-1`, `01`, `1`,
 * `executable-memory` or `01-executable-memory`.
 */
export function findChapter(text: string): Chapter | undefined {
  const cleaned = text.trim().toLowerCase().replace(/^chapters?[-_ ]?/, '');
  const number = /^\d+$/.test(cleaned) ? cleaned.padStart(2, '0') : undefined;
  return CHAPTERS.find((c) => c.number === number || c.slug === cleaned || chapterDir(c) === cleaned);
}

/** Parses `1-6`, `1,3`, `2-4,7` or `all` into chapters. */
export function parseChapterRanges(text: string): Chapter[] {
  if (text.trim() === 'all') return [...CHAPTERS];
  const chosen = new Set<Chapter>();
  for (const part of text.split(',')) {
    const [low, high = low] = part.split('-').map((s) => s.trim());
    const first = findChapter(low ?? '');
    const last = findChapter(high ?? '');
    if (!first || !last) throw new Error(`not a chapter or range of chapters: '${part}' (try 1-6 or 1,3)`);
    for (const c of CHAPTERS) if (c.number >= first.number && c.number <= last.number) chosen.add(c);
  }
  return CHAPTERS.filter((c) => chosen.has(c));
}
