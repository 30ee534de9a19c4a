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
 * Both spaces lie in one mapping, and the collector works on one view of it, `heap.halves`:
 * the 32-bit halves of every word, so a header is two numbers (shape id × 2, count) and an
 * address is two numbers (low and high half). Positions are word indices into that view
 * (word w is halves 2w and 2w + 1). Copying an object moves its halves within the view (a
 * short loop for a small object, one `copyWithin` for a large one); nothing in the copy and
 * scan loops makes a BigInt or any other JavaScript object.
 */
import { FORWARDED, readAddress, type Heap, type RootWalker, type Shape } from './heap.ts';
import { todo } from '#native/todo.ts';

/** A reference that points nowhere an object could be: a bug in a compiler or the collector. */
export class HeapCorruption extends Error {
  override readonly name = 'HeapCorruption';
}

/** One collection under way: where from-space's objects are, and where to-space is filled to. */
export interface Collection {
  /** Both spaces, as 32-bit halves of words (`Heap.halves`). */
  readonly halves: Int32Array;
  /** The address of word 0 of `halves`, as its low half (0 to 2^32 - 1) and its high half. */
  readonly baseLow: number;
  readonly baseHigh: number;
  /** Bytes `halves` covers. */
  readonly bytes: number;
  /** From-space's first word, and the word after its last object (its `top`). */
  readonly fromFirst: number;
  readonly fromEnd: number;
  /** To-space's first word, and its free pointer: the word the next copy goes to. */
  readonly toFirst: number;
  free: number;
}

const TWO_32 = 2 ** 32;

/**
 * Objects of at most this many words are copied half by half in a loop; larger ones with one
 * `copyWithin`, whose fixed cost (a call into the runtime) is then small beside the copy.
 */
const SMALL_OBJECT_WORDS = 8;

/** Words an object with this many slots takes (at least two: room for a forwarding address). */
function wordsOf(count: number): number {
  return count < 1 ? 2 : 1 + count;
}

function hex(address: number): string {
  return `0x${address.toString(16)}`;
}

/**
 * The word of the view that the address with halves `low`, `high` names, or -1 if it names
 * no aligned word of the heap's mapping. Small whole numbers only: no division, no BigInt.
 */
function wordAt(collection: Collection, low: number, high: number): number {
  const offset = (high - collection.baseHigh) * TWO_32 + ((low >>> 0) - collection.baseLow);
  return (low & 7) === 0 && offset >= 0 && offset < collection.bytes ? offset >>> 3 : -1;
}

/** Writes the address of word `word` of the view into word `slot` (both halves). */
function storeAddressOf(collection: Collection, slot: number, word: number): void {
  const low = collection.baseLow + 8 * word; // below 2^33: a carry into the high half at most
  collection.halves[2 * slot] = low | 0;
  collection.halves[2 * slot + 1] = collection.baseHigh + (low >= TWO_32 ? 1 : 0);
}

/**
 * Forwards the object at word `word` of the view (in from-space): copies it to to-space's
 * free pointer, unless it was copied already, and returns the word where its copy starts.
 * The copy moves the object's halves within the view; the old object keeps a forwarding
 * mark in its header and the copy's address in its word 1.
 */
export function forward(collection: Collection, word: number): number {
  // TODO: the word where the copy of the object at from-space word `word` starts.
  //   - a word outside from-space's objects (fromFirst … fromEnd - 1) is a HeapCorruption
  //     that says which word
  //   - a header equal to FORWARDED means the object was copied already: its word 1 holds
  //     the copy's address (two halves); wordAt gives the copy's word
  //   - otherwise copy its words (wordsOf its count: at least two) to collection.free with
  //     one copyWithin on the halves, move free past them, and leave the forwarding mark in
  //     the old header and the copy's address in the old word 1 (storeAddressOf)
  return todo('forward');
}

/** Forwards the reference in word `slot` of the view (a to-space slot), unless it is null. */
function forwardSlot(collection: Collection, slot: number): void {
  const halves = collection.halves;
  const low = halves[2 * slot]!;
  const high = halves[2 * slot + 1]!;
  if ((low | high) === 0) return;
  const word = wordAt(collection, low, high);
  if (word < 0) throw new HeapCorruption(`to-space word ${slot - collection.toFirst} holds ${hex(high * TWO_32 + (low >>> 0))}, which does not point into the heap`);
  storeAddressOf(collection, slot, forward(collection, word));
}

/**
 * The scan loop: walks to-space from its first word to the free pointer, object by object,
 * forwarding every reference slot (the object's shape says which). Forwarding moves the free
 * pointer on, so the loop ends only when every copy has been scanned.
 */
export function scan(collection: Collection, shapes: readonly Shape[]): void {
  // TODO: the scan loop. From to-space's first word, object by object, while the scan
  // position is below collection.free (which forwarding moves on as you go):
  //   - read the header: shape id × 2 in the low half, the count in the high half. A header
  //     that is 0, has bit 0 set or names no shape is a HeapCorruption
  //   - forward each reference slot (forwardSlot): the shape's `references` are 'all' (slots
  //     0 … count - 1, at words word + 1 …), 'none', or a list of slot numbers
  //   - go on to the next object: wordsOf(count) words on
  return todo('scan');
}

/**
 * The flip: to-space becomes the current space, allocation continues after the copies up to
 * its end, and from-space, all garbage now, is cleared to zero for its next turn. The mapping
 * stays: the two spaces only swap roles, so the views over them stay valid.
 */
export function flip(heap: Heap, collection: Collection): void {
  // TODO: the flip. The two spaces swap roles (heap.current and heap.other); allocation
  // continues right after the copies, up to the end of the new current space
  // (heap.setTopAndLimit, with addresses: word w of the views is at heap.base + 8 × w); and
  // the words from-space's objects took (fromFirst … fromEnd) are cleared to zero, so that
  // the next objects made there are zero.
  return todo('flip');
}

/** Collects `heap` with `roots` (and the heap's handles) as the roots. */
export function collect(heap: Heap, roots: RootWalker): void {
  const started = performance.now();
  const from = heap.current;
  const to = heap.other;
  const collection: Collection = {
    halves: heap.halves,
    baseLow: heap.base % TWO_32,
    baseHigh: Math.floor(heap.base / TWO_32),
    bytes: heap.mapping.size,
    fromFirst: from.first,
    fromEnd: from.first + heap.used / 8,
    toFirst: to.first,
    free: to.first,
  };

  // 1. the roots (few: a BigInt each is no cost)
  const visit = (reference: bigint): bigint => {
    if (reference === 0n) return 0n;
    const word = wordAt(collection, Number(reference & 0xffff_ffffn), Number(reference >> 32n));
    if (word < 0) throw new HeapCorruption(`a root holds 0x${reference.toString(16)}, which does not point into the heap`);
    return heap.mapping.address + BigInt(8 * forward(collection, word));
  };
  roots(visit);
  for (const handle of heap.handles) handle.value = visit(handle.value);

  // 2. the scan, breadth first
  scan(collection, heap.shapes);

  // 3. the flip
  flip(heap, collection);

  const copied = 8 * (collection.free - collection.toFirst);
  const pause = performance.now() - started;
  const stats = heap.stats;
  stats.collections++;
  stats.bytesCopied += copied;
  stats.peakLiveBytes = Math.max(stats.peakLiveBytes, copied);
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
  const halves = heap.halves;
  const end = space.first + heap.used / 8;
  const starts = new Set<number>();
  const slots: number[] = [];
  for (let word = space.first; word < end;) {
    const header = halves[2 * word]!;
    const count = halves[2 * word + 1]!;
    const shape = heap.shapes[header >> 1];
    if ((header & 1) !== 0 || header === 0 || shape === undefined || count < 0 || word + wordsOf(count) > end) {
      throw new HeapCorruption(`word ${word - space.first} of the heap holds a bad header (shape ${header >> 1}, count ${count})`);
    }
    starts.add(heap.base + 8 * word);
    if (shape.references === 'all') for (let k = 1; k <= count; k++) slots.push(word + k);
    else if (shape.references !== 'none') for (const k of shape.references) slots.push(word + 1 + k);
    word += wordsOf(count);
  }
  const check = (address: number, where: string) => {
    if (address !== 0 && !starts.has(address)) throw new HeapCorruption(`${where} holds ${hex(address)}, which is not an object of the heap`);
  };
  for (const slot of slots) check(readAddress(halves, slot), `heap word ${slot - space.first}`);
  roots((reference) => {
    check(Number(reference), 'a root');
    return reference;
  });
  for (const handle of heap.handles) check(Number(handle.value), 'a handle');
}
