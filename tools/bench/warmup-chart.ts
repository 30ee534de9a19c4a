/**
 * The warm-up chart of `npm run bench`: SVG written by hand, one panel per program, x the
 * iteration (a run of `main`), y the time of that iteration on a logarithmic scale (the
 * interpreter is tens of times slower than the rest), one line per tier.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One program's warm-up: for each tier, the seconds of iterations 1, 2, ... */
export interface WarmupCurves {
  readonly program: string;
  readonly tiers: readonly { readonly tier: string; readonly seconds: readonly number[] }[];
}

const COLOURS: Readonly<Record<string, string>> = {
  interpreter: '#d62728',
  baseline: '#1f77b4',
  optimizing: '#2ca02c',
  tiered: '#9467bd',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function tickLabel(seconds: number): string {
  if (seconds >= 1) return `${seconds} s`;
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)} ms`;
  return `${Math.round(seconds * 1e6)} µs`;
}

/** One panel: its axes, the decades of its logarithmic y axis, a polyline per tier. */
function panel(curves: WarmupCurves, left: number, top: number, width: number, height: number): string {
  const parts: string[] = [];
  const all = curves.tiers.flatMap((t) => t.seconds).filter((s) => s > 0);
  const iterations = Math.max(2, ...curves.tiers.map((t) => t.seconds.length));
  const low = Math.floor(Math.log10(Math.min(...all)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...all))));
  const x = (i: number) => left + ((i - 1) / (iterations - 1)) * width;
  const y = (s: number) => top + height - ((Math.log10(s) - low) / (high - low)) * height;
  parts.push(`<text x="${left + width / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${escapeXml(curves.program)}</text>`);
  parts.push(`<line x1="${left}" y1="${top + height}" x2="${left + width}" y2="${top + height}" stroke="black"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="black"/>`);
  for (let i = 1; i <= iterations; i++) {
    parts.push(`<line x1="${x(i)}" y1="${top + height}" x2="${x(i)}" y2="${top + height + 4}" stroke="black"/>`);
    parts.push(`<text x="${x(i)}" y="${top + height + 16}" text-anchor="middle">${i}</text>`);
  }
  for (let decade = low; decade <= high; decade++) {
    const at = y(10 ** decade);
    parts.push(`<line x1="${left}" y1="${at}" x2="${left + width}" y2="${at}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${at + 4}" text-anchor="end">${tickLabel(Number((10 ** decade).toPrecision(1)))}</text>`);
  }
  parts.push(`<text x="${left + width / 2}" y="${top + height + 34}" text-anchor="middle">iteration (run of main)</text>`);
  parts.push(`<text x="${left - 58}" y="${top + height / 2}" text-anchor="middle" transform="rotate(-90 ${left - 58} ${top + height / 2})">time per iteration (log scale)</text>`);
  for (const { tier, seconds } of curves.tiers) {
    if (seconds.length === 0) continue;
    const colour = COLOURS[tier] ?? 'black';
    const points = seconds.map((s, i) => `${x(i + 1).toFixed(1)},${y(Math.max(s, 10 ** low)).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const point of points) {
      const [px, py] = point.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${colour}"/>`);
    }
  }
  return parts.join('\n');
}

/** Writes the warm-up curves of every program as one SVG file, panels in two columns, with a legend. */
export function writeWarmupChart(path: string, all: readonly WarmupCurves[], title: string): void {
  const panelWidth = 360;
  const panelHeight = 220;
  const cellWidth = panelWidth + 120;
  const cellHeight = panelHeight + 90;
  const columns = Math.min(2, Math.max(1, all.length));
  const rows = Math.ceil(all.length / columns);
  const width = columns * cellWidth + 20;
  const height = 70 + rows * cellHeight;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="20" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  Object.entries(COLOURS).forEach(([tier, colour], i) => {
    const at = 20 + i * 130;
    parts.push(`<line x1="${at}" y1="42" x2="${at + 24}" y2="42" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${at + 30}" y="46">${tier}</text>`);
  });
  all.forEach((curves, i) => {
    const left = 90 + (i % columns) * cellWidth;
    const top = 90 + Math.floor(i / columns) * cellHeight;
    parts.push(panel(curves, left, top, panelWidth, panelHeight));
  });
  parts.push('</svg>\n');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, parts.join('\n'));
}
