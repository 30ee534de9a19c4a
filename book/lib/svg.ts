/**
 * The book's one drawing helper: boxes, arrows, lines and routes, rows of bit fields and stacks
 * of slots, in one style, as inline SVG. A figure cannot be made without its alt text.
 *
 * Coordinates are in SVG user units (about one CSS pixel); colours come from the page's CSS
 * variables, so figures follow the light and dark themes.
 */
import { escapeHtml } from './highlight.ts';

export interface TextStyle {
  readonly anchor?: 'start' | 'middle' | 'end';
  readonly mono?: boolean;
  readonly size?: number;
  readonly bold?: boolean;
  readonly muted?: boolean;
}

/** One field of a row: its label, how many cells (bits or bytes) wide, and what its cells show. */
export interface Field {
  readonly name: string;
  /** The cells of the field, left to right (bits as '0'/'1', or bytes as hex). */
  readonly cells: readonly string[];
  /** A line under the label: the field's value, its bit numbers, what it means. */
  readonly note?: string;
  /** Draw the field highlighted (the part of an encoding the text is about). */
  readonly accent?: boolean;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", sans-serif';
const MONO = '"JetBrains Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace';

/** A drawing being built. `render` returns the `<figure>` with the SVG, its alt text and caption. */
export class Drawing {
  readonly #width: number;
  readonly #height: number;
  readonly #alt: string;
  readonly #parts: string[] = [];

  constructor(width: number, height: number, alt: string) {
    if (alt.trim().length < 10) throw new Error(`a figure needs alt text that says what it shows, got ${JSON.stringify(alt)}`);
    this.#width = width;
    this.#height = height;
    this.#alt = alt.trim();
  }

  text(x: number, y: number, content: string, style: TextStyle = {}): this {
    const attributes = [
      `x="${round(x)}"`,
      `y="${round(y)}"`,
      `text-anchor="${style.anchor ?? 'middle'}"`,
      `font-family='${style.mono ? MONO : FONT}'`,
      `font-size="${style.size ?? 13}"`,
      style.bold ? 'font-weight="600"' : '',
      `fill="${style.muted ? 'var(--muted)' : 'currentColor'}"`,
    ].filter(Boolean);
    this.#parts.push(`<text ${attributes.join(' ')}>${escapeHtml(content)}</text>`);
    return this;
  }

  /** A rounded box with up to two centred lines of text. */
  box(x: number, y: number, width: number, height: number, label = '', sublabel = '', options: { accent?: boolean; square?: boolean } = {}): this {
    const fill = options.accent ? 'var(--figure-accent)' : 'var(--panel)';
    this.#parts.push(
      `<rect x="${round(x)}" y="${round(y)}" width="${round(width)}" height="${round(height)}" rx="${options.square ? 0 : 6}" fill="${fill}" stroke="currentColor" stroke-width="1.2"/>`,
    );
    const middle = y + height / 2;
    if (label && sublabel) {
      this.text(x + width / 2, middle - 3, label, { bold: true, size: 14 });
      this.text(x + width / 2, middle + 14, sublabel, { mono: true, size: 11, muted: true });
    } else if (label) {
      this.text(x + width / 2, middle + 5, label, { bold: true, size: 14 });
    }
    return this;
  }

  /** An arrow from (x1, y1) to (x2, y2), with an optional label above its middle. */
  arrow(x1: number, y1: number, x2: number, y2: number, label = ''): this {
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const head = (turn: number) => `${round(x2 - 8 * Math.cos(angle + turn))},${round(y2 - 8 * Math.sin(angle + turn))}`;
    this.#parts.push(
      `<line x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" stroke="currentColor" stroke-width="1.4"/>`,
      `<polygon points="${round(x2)},${round(y2)} ${head(0.45)} ${head(-0.45)}" fill="currentColor"/>`,
    );
    if (label) this.text((x1 + x2) / 2, Math.min(y1, y2) - 7, label, { mono: true, size: 12 });
    return this;
  }

  /** A plain line (a tree's edge, a rule between columns); `dashed` for what is only implied. */
  line(x1: number, y1: number, x2: number, y2: number, options: { dashed?: boolean; muted?: boolean } = {}): this {
    this.#parts.push(`<line x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" ${stroke(options)}/>`);
    return this;
  }

  /**
   * A route through `points` (at least two) with an arrowhead at the last one: a jump drawn
   * around a listing, a back edge around a graph. An optional label sits after the first point.
   */
  route(points: readonly (readonly [number, number])[], label = '', options: { dashed?: boolean } = {}): this {
    if (points.length < 2) throw new Error(`a route needs at least two points, got ${points.length}`);
    const [x1, y1] = points.at(-2)!;
    const [x2, y2] = points.at(-1)!;
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const head = (turn: number) => `${round(x2 - 8 * Math.cos(angle + turn))},${round(y2 - 8 * Math.sin(angle + turn))}`;
    const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${round(x)},${round(y)}`).join(' ');
    this.#parts.push(
      `<path d="${d}" fill="none" ${stroke(options)}/>`,
      `<polygon points="${round(x2)},${round(y2)} ${head(0.45)} ${head(-0.45)}" fill="currentColor"/>`,
    );
    if (label) this.text(points[0]![0] + 6, points[0]![1] - 5, label, { anchor: 'start', mono: true, size: 11, muted: true });
    return this;
  }

  /**
   * A row of fields, each a run of equal cells with its name and note below. Returns the
   * x of each field's left edge and the row's right edge, for arrows and braces.
   */
  fields(x: number, y: number, cellWidth: number, row: readonly Field[], cellHeight = 26): number[] {
    const edges: number[] = [];
    let at = x;
    for (const field of row) {
      edges.push(at);
      const width = cellWidth * field.cells.length;
      this.box(at, y, width, cellHeight, '', '', { accent: field.accent, square: true });
      field.cells.forEach((cell, i) => {
        if (i > 0) this.#parts.push(`<line x1="${round(at + i * cellWidth)}" y1="${round(y + 4)}" x2="${round(at + i * cellWidth)}" y2="${round(y + cellHeight - 4)}" stroke="var(--rule)" stroke-width="1"/>`);
        this.text(at + (i + 0.5) * cellWidth, y + cellHeight / 2 + 5, cell, { mono: true, size: cellWidth < 16 ? 12 : 14 });
      });
      if (field.name) this.text(at + width / 2, y + cellHeight + 16, field.name, { size: 12, bold: true });
      // A note wider than its field is left out of the picture (the alt text still has it).
      if (field.note && field.note.length * 6.7 <= width + 6) this.text(at + width / 2, y + cellHeight + 31, field.note, { size: 11, mono: true, muted: true });
      at += width;
    }
    edges.push(at);
    return edges;
  }

  /** A vertical stack of labelled slots, top to bottom, with a note to the left of each. */
  slots(x: number, y: number, width: number, entries: readonly { label: string; note?: string; accent?: boolean }[], slotHeight = 26): this {
    entries.forEach((entry, i) => {
      this.box(x, y + i * slotHeight, width, slotHeight, '', '', { accent: entry.accent, square: true });
      this.text(x + width / 2, y + i * slotHeight + slotHeight / 2 + 5, entry.label, { mono: true, size: 12 });
      if (entry.note) this.text(x - 8, y + i * slotHeight + slotHeight / 2 + 5, entry.note, { anchor: 'end', size: 11, muted: true, mono: true });
    });
    return this;
  }

  /** A bracket under a run from x1 to x2 at height y, with a label below it. */
  brace(x1: number, x2: number, y: number, label: string): this {
    this.#parts.push(`<path d="M${round(x1 + 2)},${round(y)} v6 H${round(x2 - 2)} v-6" fill="none" stroke="currentColor" stroke-width="1.2"/>`);
    this.text((x1 + x2) / 2, y + 21, label, { size: 12 });
    return this;
  }

  /** The finished figure, on one line: the SVG (its alt text as aria-label and <title>), and a caption. */
  render(caption: string): string {
    const alt = escapeHtml(this.#alt);
    return [
      '<figure class="drawing">',
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${this.#width} ${this.#height}" width="${this.#width}" height="${this.#height}" role="img" aria-label="${alt}">`,
      `<title>${alt}</title>`,
      ...this.#parts,
      '</svg>',
      `<figcaption>${caption}</figcaption>`,
      '</figure>',
    ].join('');
  }
}

function stroke(options: { dashed?: boolean; muted?: boolean }): string {
  return `stroke="${options.muted ? 'var(--muted)' : 'currentColor'}" stroke-width="1.4"${options.dashed ? ' stroke-dasharray="5 4"' : ''}`;
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}
