/**
 * Figure of chapter 11: the two semispaces before, during and after a Cheney collection.
 *
 * The objects are made on a real heap by the reference (in a child process with every
 * chapter's reference, see run-reference.ts): their addresses, headers and slots are what
 * the reference allocator wrote, and the copies' order and addresses after the collection
 * are what the reference collector made. The rows between show the scan as it goes, object
 * by object: which objects are in to-space, where the scan and free pointers are, and which
 * slots still hold from-space addresses. They are worked out from the graph of the objects
 * (breadth first from the root) and must end where the reference ended, or the figure fails
 * to build.
 */
import { Drawing } from '../svg.ts';
import { registerReference, runReference } from './run-reference.ts';

/** The program the objects come from, as the page shows it. */
export const SEMISPACE_SOURCE = `struct Cell { value: int, items: [int] }
struct Pair { left: Cell, right: [int] }

fn make(): Pair {
  let s = new [int](1);
  s[0] = 42;
  let x = new [int](3);                             // garbage once make returns
  let q = new Cell { value: 7, items: s };
  let y = new Cell { value: 8, items: x };          // garbage too
  return new Pair { left: q, right: s };
}`;

/** One object as the figure draws it. */
interface ObjectJson {
  readonly name: string;
  /** Byte offset from its space's start. */
  readonly offset: number;
  readonly shape: string;
  readonly count: number;
  /** Each slot: an int, or the name of the object it refers to. */
  readonly slots: readonly ({ readonly int: string } | { readonly ref: string })[];
}

interface SemispaceJson {
  readonly semispace: number;
  readonly before: readonly ObjectJson[];
  /** Bytes in use before the collection and after it. */
  readonly usedBefore: number;
  readonly usedAfter: number;
  /** The live objects after the collection, by their new offsets in to-space. */
  readonly after: readonly { readonly name: string; readonly offset: number }[];
  /** Whether the space left behind reads as zero after the flip. */
  readonly leftBehindZero: boolean;
}

/** Run in the child: make the objects of SEMISPACE_SOURCE on a reference heap, with P as the one root, and collect. */
export async function semispaceRun(): Promise<SemispaceJson> {
  const { Heap, SHAPE } = await import('../../../solutions/11-garbage-collector/heap.ts');
  const { collect } = await import('../../../solutions/11-garbage-collector/collector.ts');
  const heap = new Heap({ semispaceBytes: 4096 });
  heap.collector = collect;
  try {
    const cell = heap.addShape({ name: 'Cell', references: [1] });
    const pair = heap.addShape({ name: 'Pair', references: [0, 1] });
    const none = () => {};
    const s = heap.allocate(SHAPE.arrayOfValues, 1, none);
    heap.store(s, 0, 42n);
    const x = heap.allocate(SHAPE.arrayOfValues, 3, none);
    const q = heap.allocate(cell, 2, none);
    heap.store(q, 0, 7n);
    heap.store(q, 1, s);
    const y = heap.allocate(cell, 2, none);
    heap.store(y, 0, 8n);
    heap.store(y, 1, x);
    const p = heap.allocate(pair, 2, none);
    heap.store(p, 0, q);
    heap.store(p, 1, s);
    const named = new Map<bigint, string>([[s, 's'], [x, 'x'], [q, 'q'], [y, 'y'], [p, 'p']]);
    const base = heap.current.baseBig;
    const shapeName = (ref: bigint) => ['', '[int]', '[ref]', 'Cell', 'Pair'][heap.shapeOf(ref)] ?? '?';
    const refSlots = new Map<string, readonly number[]>([['Cell', [1]], ['Pair', [0, 1]]]);
    const before: ObjectJson[] = [...named].map(([ref, name]) => ({
      name,
      offset: Number(ref - base),
      shape: shapeName(ref),
      count: heap.count(ref),
      slots: Array.from({ length: heap.count(ref) }, (_, k) => {
        const value = heap.load(ref, k);
        return (refSlots.get(shapeName(ref)) ?? []).includes(k) ? { ref: named.get(value) ?? '?' } : { int: String(value) };
      }),
    }));
    const usedBefore = heap.used;
    const from = heap.current;
    const roots = [p];
    heap.collect((visit) => {
      roots[0] = visit(roots[0]!);
    });
    const toBase = heap.current.baseBig;
    const p2 = roots[0]!;
    const q2 = heap.load(p2, 0);
    const s2 = heap.load(p2, 1);
    if (heap.load(q2, 1) !== s2) throw new Error('the figure\'s collection lost the sharing of s');
    const after = [['p', p2], ['q', q2], ['s', s2]].map(([name, ref]) => ({ name: name as string, offset: Number((ref as bigint) - toBase) }));
    const leftBehind = heap.words.subarray(from.first, from.first + usedBefore / 8);
    return { semispace: heap.semispaceBytes, before, usedBefore, usedAfter: heap.used, after, leftBehindZero: leftBehind.every((w) => w === 0n) };
  } finally {
    heap.dispose();
  }
}

/** Bytes an object of `count` slots takes (at least 16: room for a forwarding address). */
const bytesOf = (count: number) => Math.max(16, 8 + 8 * count);

/** One row of to-space while the scan goes: the objects copied so far, and the two pointers. */
interface ScanState {
  readonly label: string;
  /** Objects in to-space in copy order, each with the slots already scanned (their references are to-space ones). */
  readonly copied: readonly { readonly name: string; readonly scanned: boolean }[];
  readonly scan: number;
  readonly free: number;
}

/** The rows of the scan, breadth first from `root` over the graph of `objects`. */
function scanStates(objects: readonly ObjectJson[], root: string): ScanState[] {
  const byName = new Map(objects.map((o) => [o.name, o]));
  const order = [root];
  const size = (name: string) => bytesOf(byName.get(name)!.count);
  const end = (n: number) => order.slice(0, n).reduce((sum, name) => sum + size(name), 0);
  const states: ScanState[] = [{ label: `the root forwarded: ${root} copied`, copied: [{ name: root, scanned: false }], scan: 0, free: end(1) }];
  for (let i = 0; i < order.length; i++) {
    const o = byName.get(order[i]!)!;
    const found: string[] = [];
    for (const slot of o.slots) {
      if ('ref' in slot && !order.includes(slot.ref)) {
        order.push(slot.ref);
        found.push(slot.ref);
      }
    }
    const refs = o.slots.filter((slot) => 'ref' in slot).map((slot) => (slot as { ref: string }).ref);
    const what = refs.length === 0
      ? `${o.name} scanned: no references`
      : `${o.name} scanned: ${refs.map((r) => (found.includes(r) ? `${r} copied` : `${r} already forwarded`)).join(', ')}`;
    states.push({ label: what, copied: order.map((name, k) => ({ name, scanned: k <= i })), scan: end(i + 1), free: end(order.length) });
  }
  return states;
}

function semispaces(): string {
  const run = runReference<SemispaceJson>(import.meta.url, 'semispaceRun');
  const states = scanStates(run.before, 'p');
  const last = states.at(-1)!;
  const expected = last.copied.map((c, k) => ({ name: c.name, offset: last.copied.slice(0, k).reduce((sum, o) => sum + bytesOf(run.before.find((b) => b.name === o.name)!.count), 0) }));
  if (JSON.stringify(expected) !== JSON.stringify(run.after)) {
    throw new Error(`the figure's scan order ${JSON.stringify(expected)} is not the reference collector's ${JSON.stringify(run.after)}`);
  }
  if (last.free !== run.usedAfter) throw new Error(`the figure ends the scan at ${last.free} bytes, the reference heap uses ${run.usedAfter}`);
  if (!run.leftBehindZero) throw new Error('the reference left the old space uncleared');

  const byName = new Map(run.before.map((o) => [o.name, o]));
  const cell = 46;
  const left = 150;
  const rowHeight = 30;
  const words = run.usedBefore / 8;
  const width = left + cell * words + 40;
  const rowGap = 80;
  const top = 84;
  const height = top + rowGap * (states.length + 1) + 60;
  const labelX = left + (last.free / 8 + 1) * cell;
  const garbage = run.before.filter((o) => !last.copied.some((c) => c.name === o.name)).map((o) => o.name);
  const alt = `Two semispaces of ${run.semispace} bytes. Before the collection, from-space holds ${run.before.length} objects in allocation order: ` +
    run.before.map((o) => `${o.name} (${o.shape}, ${o.count} slots, at +${o.offset}: ${o.slots.map((s) => ('ref' in s ? `→${s.ref}` : s.int)).join(', ')})`).join('; ') +
    `; the root is p. The collection copies into to-space breadth first: ` +
    states.map((s) => `${s.label}, scan at +${s.scan}, free at +${s.free}`).join('; ') +
    `. The scan pointer meets the free pointer at +${last.free}: ${last.copied.map((c) => c.name).join(', ')} are packed at the start of to-space, ` +
    `${garbage.join(' and ')} are left behind as garbage, and the flip makes to-space the current space with top at +${last.free}.`;
  const drawing = new Drawing(width, height, alt);

  /** One object's cells at `y`, from byte `offset`; `refs` says how a reference slot reads. */
  const drawObject = (o: ObjectJson, offset: number, y: number, options: { muted?: boolean; refs: (target: string) => string; accent?: boolean }) => {
    const x = left + (offset / 8) * cell;
    const cells = [`${o.shape}·${o.count}`, ...o.slots.map((s) => ('ref' in s ? options.refs(s.ref) : s.int))];
    while (cells.length < bytesOf(o.count) / 8) cells.push('—');
    cells.forEach((text, k) => {
      drawing.box(x + k * cell, y, cell, rowHeight, '', '', { square: true, accent: options.accent === true && k === 0 });
      drawing.text(x + k * cell + cell / 2, y + rowHeight / 2 + 4, text, { mono: true, size: k === 0 ? 10 : 11, muted: options.muted });
    });
    drawing.text(x + (cells.length * cell) / 2, y - 6, options.muted ? `${o.name} (garbage)` : o.name, { bold: !options.muted, size: 11, muted: options.muted });
  };
  const pointer = (label: string, offset: number, y: number, below: boolean) => {
    const x = left + (offset / 8) * cell;
    const tip = below ? y + rowHeight + 2 : y - 2;
    const tail = below ? y + rowHeight + 18 : y - 18;
    drawing.arrow(x, tail, x, tip);
    drawing.text(below ? x - 4 : x + 4, below ? tail - 2 : tail + 4, label, { anchor: below ? 'end' : 'start', mono: true, size: 10, bold: true });
  };

  // Row 0: from-space before the collection.
  drawing.text(left, 22, 'a Cheney collection, one row per step (offsets in bytes from each space\'s start)', { anchor: 'start', bold: true, size: 13 });
  let y = top;
  drawing.text(left - 10, y + rowHeight / 2 + 4, 'from-space', { anchor: 'end', bold: true, size: 12 });
  drawing.text(left - 10, y + rowHeight / 2 + 18, 'before', { anchor: 'end', size: 11, muted: true });
  for (const o of run.before) drawObject(o, o.offset, y, { muted: garbage.includes(o.name), refs: (target) => `→${target}` });
  for (let w = 0; w <= words; w += 2) drawing.text(left + w * cell, y + rowHeight + 14, `+${w * 8}`, { size: 9, muted: true, mono: true });
  const p = byName.get('p')!;
  const rootX = left + (p.offset / 8) * cell + cell / 2;
  drawing.arrow(rootX, y - 40, rootX, y - 18);
  drawing.text(rootX - 6, y - 30, 'the root: a local', { anchor: 'end', size: 11, muted: true });

  // The scan, one row per step, in to-space.
  states.forEach((state, i) => {
    y = top + rowGap * (i + 1);
    drawing.text(left - 10, y + rowHeight / 2 + 4, 'to-space', { anchor: 'end', bold: true, size: 12 });
    drawing.text(left - 10, y + rowHeight / 2 + 18, `step ${i + 1}`, { anchor: 'end', size: 11, muted: true });
    let offset = 0;
    for (const c of state.copied) {
      const o = byName.get(c.name)!;
      drawObject(o, offset, y, { refs: (target) => (c.scanned ? `→${target}′` : `→${target}₀`), accent: !c.scanned });
      offset += bytesOf(o.count);
    }
    drawing.text(labelX, y + rowHeight / 2 + 4, state.label, { anchor: 'start', size: 12 });
    pointer(state.scan === state.free ? 'scan = free' : 'scan', state.scan, y, false);
    if (state.scan !== state.free) pointer('free', state.free, y, true);
  });

  // After the flip.
  y = top + rowGap * (states.length + 1);
  drawing.text(left - 10, y + rowHeight / 2 + 4, 'old space', { anchor: 'end', bold: true, size: 12 });
  drawing.text(left - 10, y + rowHeight / 2 + 18, 'after the flip', { anchor: 'end', size: 11, muted: true });
  drawing.box(left, y, cell * words, rowHeight, '', '', { square: true });
  drawing.text(left + (cell * words) / 2, y + rowHeight / 2 + 4, `cleared to zero: the next collection copies into it`, { size: 11, muted: true });
  drawing.text(left, y + rowHeight + 20, `to-space is the current space now; allocation goes on at top = +${last.free}`, { anchor: 'start', size: 11 });

  return drawing.render(
    `The objects of the listing above on a reference heap, the root <code>p</code> a local of the caller of <code>make</code>. ` +
      `A name with ₀ is a from-space address still in a copy that has not been scanned (its header shaded); a name with ′ is the address of the copy. ` +
      `Each scan step reads one copied object's reference slots (the shape says which): a referent not yet copied is copied to <em>free</em>, one already copied (its old header says forwarded) only has its new address written back. ` +
      `<code>s</code> is reached twice and copied once; <code>${garbage.join('</code> and <code>')}</code> are never reached and cost nothing.`,
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'semispaceRun');

export const FIGURES_11: Readonly<Record<string, () => string>> = {
  semispaces,
};
