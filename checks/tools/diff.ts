/**
 * A unified diff of two texts (as `diff -u` prints it), for `npm run solution`. The files
 * of a chapter are a few hundred lines, so a plain longest-common-subsequence table will do.
 */
import { color } from '../harness/report.ts';

type Edit = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

function edits(a: string[], b: string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push({ kind: ' ', line: a[i]!, a: i++, b: j++ });
    else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ kind: '-', line: a[i]!, a: i++, b: j });
    else out.push({ kind: '+', line: b[j]!, a: i, b: j++ });
  }
  return out;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** `--- labelA`, `+++ labelB` and hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(textA: string, textB: string, labelA: string, labelB: string, options: { context?: number; colored?: boolean } = {}): string {
  const context = options.context ?? 3;
  const paint = options.colored ? color : { red: (s: string) => s, green: (s: string) => s, cyan: (s: string) => s, bold: (s: string) => s };
  const all = edits(splitLines(textA), splitLines(textB));
  const changed = all.map((e, index) => (e.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return '';
  const hunks: [number, number][] = [];
  for (const index of changed) {
    const from = Math.max(0, index - context);
    const to = Math.min(all.length - 1, index + context);
    const last = hunks.at(-1);
    if (last && from <= last[1] + 1) last[1] = to;
    else hunks.push([from, to]);
  }
  const out = [paint.bold(`--- ${labelA}`), paint.bold(`+++ ${labelB}`)];
  for (const [from, to] of hunks) {
    const slice = all.slice(from, to + 1);
    const aLines = slice.filter((e) => e.kind !== '+').length;
    const bLines = slice.filter((e) => e.kind !== '-').length;
    const aStart = aLines ? slice.find((e) => e.kind !== '+')!.a + 1 : slice[0]!.a;
    const bStart = bLines ? slice.find((e) => e.kind !== '-')!.b + 1 : slice[0]!.b;
    out.push(paint.cyan(`@@ -${aStart},${aLines} +${bStart},${bLines} @@`));
    for (const e of slice) {
      const text = `${e.kind}${e.line}`;
      out.push(e.kind === '-' ? paint.red(text) : e.kind === '+' ? paint.green(text) : text);
    }
  }
  return out.join('\n');
}
