/**
 * The book's figures, by name. A page draws one with a line of its own: `@figure NAME`.
 * Each chapter's figures live in book/lib/figures/NN-slug.ts and are listed here; figures of
 * encodings and frames are made from what the reference code produces, so they cannot drift.
 */
import { FIGURES_01 } from './figures/01-executable-memory.ts';
import { FIGURES_02 } from './figures/02-add-four.ts';
import { FIGURES_03 } from './figures/03-encoders.ts';
import { FIGURES_04 } from './figures/04-assembler.ts';
import { FIGURES_05 } from './figures/05-parser.ts';
import { FIGURES_06 } from './figures/06-interpreter.ts';
import { FIGURES_07 } from './figures/07-template-jit.ts';
import { FIGURES_08 } from './figures/08-ssa-optimizer.ts';
import { FIGURES_09 } from './figures/09-register-allocator.ts';
import { FIGURES_10 } from './figures/10-exceptions.ts';
import { FIGURES_11 } from './figures/11-garbage-collector.ts';
import { FIGURES_12 } from './figures/12-tiers-and-tools.ts';

/** Every figure a page may name; each returns the figure's HTML, on one line. */
export const FIGURES: Readonly<Record<string, () => string>> = {
  ...FIGURES_01,
  ...FIGURES_02,
  ...FIGURES_03,
  ...FIGURES_04,
  ...FIGURES_05,
  ...FIGURES_06,
  ...FIGURES_07,
  ...FIGURES_08,
  ...FIGURES_09,
  ...FIGURES_10,
  ...FIGURES_11,
  ...FIGURES_12,
};

export function expandFigures(markdown: string, pageName: string): { markdown: string; figures: string[]; problems: string[] } {
  const figures: string[] = [];
  const problems: string[] = [];
  let fence: string | undefined;
  const lines = markdown.split('\n').map((line, index) => {
    const fenceMatch = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) fence = fence === undefined ? fenceMatch[1] : line.trim().startsWith(fence) ? undefined : fence;
    const match = fence === undefined ? /^@figure\s+(\S+)\s*$/.exec(line) : null;
    if (!match) return line;
    const draw = FIGURES[match[1]!];
    if (!draw) {
      problems.push(`${pageName}:${index + 1}: no figure '${match[1]}' (figures: ${Object.keys(FIGURES).join(', ')})`);
      return line;
    }
    figures.push(match[1]!);
    return draw();
  });
  return { markdown: lines.join('\n'), figures, problems };
}
