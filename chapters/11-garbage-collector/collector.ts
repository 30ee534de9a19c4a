/**
 * Chapter 11: a Cheney copying collector.
 *
 * A collection copies every object reachable from the roots out of the current space
 * ("from-space") into the empty one ("to-space"), packed from its start, and then the two
 * swap roles. What is not copied is garbage: it costs nothing, it is simply left behind.
 *
 *   1. forward each root: copy its object to to-space (unless it was copied already) and
 *      point the root at the copy. Copying leaves a forwarding mark in the old header and
 *      the copy's address in the old word 1, so an object reached twice is copied once and
 *      every reference to it ends at the same copy (sharing and cycles survive);
 *   2. scan to-space from its start: for each reference slot of each copied object, forward
 *      it. Forwarding appends to to-space, behind the scan pointer: the copies are scanned
 *      in the order they were made, breadth first. When the scan pointer meets the free
 *      pointer, every reachable object is copied and every reference updated. There is no
 *      recursion and no mark stack, so a list of a million elements is no harder than one;
 *   3. flip: to-space becomes the current space, allocation continues right after the
 *      copies, and the old space is cleared to zero for its next turn.
 *
 * The loops read and write addresses as two 32-bit halves (numbers), never as BigInts: a
 * copy is one typed-array `set`, and no word of the heap becomes a JavaScript object.
 */
import { CONTEXT_LIMIT, CONTEXT_TOP, FORWARDED, type Heap, type RootWalker, type Space } from './heap.ts';

const TWO_32 = 2 ** 32;

/** A reference that points nowhere an object could be: a bug in a compiler or the collector. */
export class HeapCorruption extends Error {
  override readonly name = 'HeapCorruption';
}

/** Words an object with this many slots takes (at least two: room for a forwarding address). */
function wordsOf(count: number): number {
  return count < 1 ? 2 : 1 + count;
}

/** The 64-bit word at word index `word` of `halves`, as a number. */
function readAddress(halves: Int32Array, word: number): number {
  return halves[2 * word + 1]! * TWO_32 + (halves[2 * word]! >>> 0);
}

function writeAddress(halves: Int32Array, word: number, address: number): void {
  halves[2 * word] = address % TWO_32;
  halves[2 * word + 1] = Math.floor(address / TWO_32);
}

function hex(address: number): string {
  return `0x${address.toString(16)}`;
}

/** Collects `heap` with `roots` (and the heap's handles) as the roots. */
export function collect(heap: Heap, roots: RootWalker): void {
  const started = performance.now();
  const from: Space = heap.current;
  const to: Space = heap.other;
  const fromHalves = from.halves;
  const fromWords = from.words;
  const toHalves = to.halves;
  const toWords = to.words;
  const used = heap.used;
  const fromEnd = from.base + used;
  let free = 0; // the next free word of to-space

  /** The address of the copy of the object at `address`, copying it first if need be. */
  const forward = (address: number): number => {
    if (address < from.base || address >= fromEnd || address % 8 !== 0) {
      throw new HeapCorruption(`a reference ${hex(address)} does not point at an object of the heap (it spans ${hex(from.base)}–${hex(fromEnd)})`);
    }
    const word = (address - from.base) / 8;
    if (fromHalves[2 * word] === FORWARDED) return readAddress(fromHalves, word + 1);
    const size = wordsOf(fromHalves[2 * word + 1]!);
    toWords.set(fromWords.subarray(word, word + size), free);
    const copy = to.base + 8 * free;
    free += size;
    fromHalves[2 * word] = FORWARDED;
    writeAddress(fromHalves, word + 1, copy);
    return copy;
  };

  /** Forwards the reference in to-space's word `slot`, unless it is null. */
  const forwardSlot = (slot: number): void => {
    const address = readAddress(toHalves, slot);
    if (address !== 0) writeAddress(toHalves, slot, forward(address));
  };

  // 1. the roots
  const visit = (reference: bigint): bigint => (reference === 0n ? 0n : BigInt(forward(Number(reference))));
  roots(visit);
  for (const handle of heap.handles) handle.value = visit(handle.value);

  // 2. the scan, breadth first
  const shapes = heap.shapes;
  for (let scan = 0; scan < free;) {
    const header = toHalves[2 * scan]!;
    const count = toHalves[2 * scan + 1]!;
    const shape = shapes[header >> 1];
    if ((header & 1) !== 0 || shape === undefined || header === 0) {
      throw new HeapCorruption(`to-space word ${scan} holds ${header}, which is not an object header`);
    }
    const references = shape.references;
    if (references === 'all') for (let k = 1; k <= count; k++) forwardSlot(scan + k);
    else if (references !== 'none') for (const k of references) forwardSlot(scan + 1 + k);
    scan += wordsOf(count);
  }

  // 3. the flip
  heap.current = to;
  heap.other = from;
  heap.context[CONTEXT_TOP / 8] = to.baseBig + BigInt(8 * free);
  heap.context[CONTEXT_LIMIT / 8] = to.baseBig + BigInt(to.size);
  fromWords.fill(0n, 0, used / 8);

  const pause = performance.now() - started;
  const stats = heap.stats;
  stats.collections++;
  stats.bytesCopied += 8 * free;
  stats.peakLiveBytes = Math.max(stats.peakLiveBytes, 8 * free);
  stats.pauseMs += pause;
  stats.maxPauseMs = Math.max(stats.maxPauseMs, pause);
  if (heap.verify) verifyHeap(heap, roots);
}

/**
 * Checks the heap after a collection: every object in the current space has a valid header
 * and lies below `top`; every reference in an object, in a root and in a handle is null or
 * the address of an object's header in the current space. Throws `HeapCorruption`.
 */
export function verifyHeap(heap: Heap, roots: RootWalker): void {
  const space = heap.current;
  const halves = space.halves;
  const end = heap.used / 8;
  const starts = new Set<number>();
  const slots: number[] = [];
  for (let word = 0; word < end;) {
    const header = halves[2 * word]!;
    const count = halves[2 * word + 1]!;
    const shape = heap.shapes[header >> 1];
    if ((header & 1) !== 0 || header === 0 || shape === undefined || count < 0 || word + wordsOf(count) > end) {
      throw new HeapCorruption(`word ${word} of the heap holds a bad header (shape ${header >> 1}, count ${count})`);
    }
    starts.add(space.base + 8 * word);
    if (shape.references === 'all') for (let k = 1; k <= count; k++) slots.push(word + k);
    else if (shape.references !== 'none') for (const k of shape.references) slots.push(word + 1 + k);
    word += wordsOf(count);
  }
  const check = (address: number, where: string) => {
    if (address !== 0 && !starts.has(address)) throw new HeapCorruption(`${where} holds ${hex(address)}, which is not an object of the heap`);
  };
  for (const slot of slots) check(readAddress(halves, slot), `heap word ${slot}`);
  roots((reference) => {
    check(Number(reference), 'a root');
    return reference;
  });
  for (const handle of heap.handles) check(Number(handle.value), 'a handle');
}
