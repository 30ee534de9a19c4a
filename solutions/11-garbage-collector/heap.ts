/**
 * Chapter 11: the heap, where arrays (and the objects of later chapters) live.
 *
 * Two semispaces of one size, one after the other in one data mapping (memory.ts). Objects
 * are made in the current space by bumping a pointer; a collection (collector.ts) copies the
 * live objects into the other space, and the two swap roles. TypeScript reads and writes
 * both through two typed-array views of the whole mapping (`Heap.words`, `Heap.halves`),
 * made once and dropped when the heap is disposed: no call into native code per word.
 *
 * A reference is the address of an object's header: a multiple of 8, never 0. `null` is 0.
 *
 *   word 0   header   bits 0–31: shape id × 2 (bit 0 is clear); bits 32–63: count, the number
 *                     of 8-byte slots after the header (an array's length)
 *   word 1…  slots    64-bit values: ints, bools (0 or 1), references
 *
 * An object takes 8 × (1 + count) bytes, but at least 16: every object has a word 1, where a
 * collection keeps the forwarding address. A copied object's header becomes 1 (bit 0 set:
 * forwarded) and its word 1 the address of the copy.
 *
 * The shape id says which slots hold references, for the collector (`Shape`). Shape 0 is no
 * shape at all, so a zero word is never a valid header.
 *
 * Allocation is a bump of `top` towards `limit`, two addresses kept in a context block in
 * native memory, at fixed offsets (`CONTEXT_TOP`, `CONTEXT_LIMIT`), so that machine code can
 * allocate inline with a compare and an add:
 *
 *   object = [context + CONTEXT_TOP]
 *   end = object + size
 *   if end > [context + CONTEXT_LIMIT]: call the slow path   (collect, retry once, or fail)
 *   [context + CONTEXT_TOP] = end
 *   [object] = header                                          (the slots are zero already)
 *
 * Everything from `top` to `limit` is zero: a new space is zeroed by the OS, and after each
 * collection the space left behind is cleared before it is used again. So a new object
 * needs no clearing, and `new [int](n)` is n zeros.
 */
import { DataMapping, roundToPages } from './memory.ts';

/** The default size of one semispace: 32 MiB (the heap maps two). */
export const DEFAULT_SEMISPACE_BYTES = 32 * 1024 * 1024;
/** Bytes of the header word. */
export const HEADER_BYTES = 8;
/** The fewest bytes an object takes: a header and room for a forwarding address. */
export const MIN_OBJECT_BYTES = 16;
/** Offsets in the context block of the allocation pointer and of the end of the space. */
export const CONTEXT_TOP = 0;
export const CONTEXT_LIMIT = 8;
/** A header word with bit 0 set is a forwarding mark, not a header. */
export const FORWARDED = 1;
/** The most slots one object may have (the count is 32 bits; sizes stay below 2^35). */
export const MAX_COUNT = 0x7fff_ffff;

/** Which slots of an object hold references: all of them (an array of arrays), none, or these. */
export interface Shape {
  readonly name: string;
  readonly references: 'all' | 'none' | readonly number[];
}

/** Shape ids that every heap knows. */
export const SHAPE = { arrayOfValues: 1, arrayOfReferences: 2 } as const;

/** Bytes an object of `count` slots takes. */
export function objectBytes(count: number): number {
  return Math.max(MIN_OBJECT_BYTES, HEADER_BYTES + 8 * count);
}

/**
 * One semispace: a window of the heap's mapping. Both spaces lie in one mapping, one after
 * the other, so one typed-array view reaches both, and a collection copies an object from
 * one space to the other within that view (a large one with one `copyWithin`). Word `first`
 * of the heap's views is the space's first word.
 */
export class Space {
  /** The mapping the space lies in (the heap's: both spaces share it). */
  readonly mapping: DataMapping;
  /** The address of the first byte, as a number (addresses fit in 53 bits) and a bigint. */
  readonly base: number;
  readonly baseBig: bigint;
  readonly size: number;
  /** The index of the space's first word in the heap's views (`Heap.words`, `Heap.halves` at 2 × it). */
  readonly first: number;

  constructor(mapping: DataMapping, offset: number, size: number) {
    this.mapping = mapping;
    this.size = size;
    this.baseBig = mapping.address + BigInt(offset);
    this.base = Number(this.baseBig);
    this.first = offset / 8;
  }

  /** Whether `address` is the address of a word in this space. */
  holds(address: number): boolean {
    return address >= this.base && address < this.base + this.size;
  }
}

/** An allocation that does not fit even after a collection. */
export class OutOfMemory extends Error {
  override readonly name = 'OutOfMemory';
  readonly bytes: number;

  constructor(bytes: number, semispace: number) {
    super(`out of memory: an object of ${bytes} bytes does not fit in the heap (semispaces of ${semispace} bytes)`);
    this.bytes = bytes;
  }
}

/**
 * Calls `visit` on every root a caller knows of (interpreter frames, machine frames) and
 * stores back what it returns: the object's new address after a move.
 */
export type RootWalker = (visit: (reference: bigint) => bigint) => void;

/**
 * A reference held by TypeScript code across an allocation. Code outside the heap never keeps
 * a raw reference while something may allocate: it keeps a handle, which the collector
 * treats as a root and updates. `release` when done.
 */
export interface Handle {
  value: bigint;
  release(): void;
}

/** Counts a heap keeps, for `--gc-stats`. */
export interface HeapStats {
  collections: number;
  objectsAllocated: number;
  bytesAllocated: number;
  bytesCopied: number;
  /** The most bytes live after any collection. */
  peakLiveBytes: number;
  pauseMs: number;
  maxPauseMs: number;
}

export interface HeapOptions {
  /** Bytes of one semispace (rounded up to pages). */
  readonly semispaceBytes?: number;
  /** Collect at every allocation. */
  readonly stress?: boolean;
  /** Check every reference after each collection. */
  readonly verify?: boolean;
}

/**
 * The heap: its two spaces, the views over them, the context block, the shapes, the handles
 * and the counts.
 *
 * The views (`words`, `halves`) cover the one mapping that holds both spaces, and they live
 * exactly as long as it: a flip only swaps which space is current (the mapping stays, and
 * the space left behind is reused at the next collection), and `dispose` drops the views
 * before it unmaps the memory, so `words` and `halves` throw from then on; on Node.js 22 and
 * later their buffer is detached too, and a view someone kept becomes empty.
 */
export class Heap {
  /** The space objects are made in, and the other one (empty between collections). */
  current: Space;
  other: Space;
  /** Both semispaces, one after the other. */
  readonly mapping: DataMapping;
  /** The address of word 0 of the views (the first byte of the mapping), as a number. */
  readonly base: number;
  /** The context block, where machine code finds top and limit (see CONTEXT_TOP). */
  readonly contextMapping: DataMapping;
  readonly shapes: Shape[] = [
    { name: 'no shape', references: 'none' },
    { name: 'array of values', references: 'none' },
    { name: 'array of references', references: 'all' },
  ];
  readonly handles = new Set<Handle>();
  readonly stats: HeapStats = { collections: 0, objectsAllocated: 0, bytesAllocated: 0, bytesCopied: 0, peakLiveBytes: 0, pauseMs: 0, maxPauseMs: 0 };
  readonly stress: boolean;
  readonly verify: boolean;
  /** Runs a collection (collector.ts installs it; a heap without one cannot collect). */
  collector: ((heap: Heap, roots: RootWalker) => void) | undefined;
  #words: BigInt64Array | null;
  #halves: Int32Array | null;
  #context: BigInt64Array | null;
  /** The context block's top and limit as 32-bit halves: [top low, top high, limit low, limit high]. */
  #contextHalves: Int32Array;

  constructor(options: HeapOptions = {}) {
    const size = roundToPages(options.semispaceBytes ?? DEFAULT_SEMISPACE_BYTES);
    this.mapping = new DataMapping(2 * size);
    this.base = Number(this.mapping.address);
    this.current = new Space(this.mapping, 0, size);
    this.other = new Space(this.mapping, size, size);
    this.#words = new BigInt64Array(this.mapping.buffer);
    this.#halves = new Int32Array(this.mapping.buffer);
    this.contextMapping = new DataMapping(16);
    this.#context = new BigInt64Array(this.contextMapping.buffer, 0, 2);
    this.#contextHalves = new Int32Array(this.contextMapping.buffer, 0, 4);
    this.setTopAndLimit(this.current.base, this.current.base + this.current.size);
    this.stress = options.stress ?? false;
    this.verify = options.verify ?? false;
  }

  /**
   * Both spaces as 64-bit words: word `space.first + k` is word k of `space`. For values
   * (`load`, `store`); the collector uses `halves`, which holds no BigInt.
   */
  get words(): BigInt64Array {
    if (this.#words === null) throw new Error('this heap was disposed: its memory is unmapped');
    return this.#words;
  }

  /**
   * Both spaces as 32-bit halves of words, low half first (little-endian): word w is
   * halves 2w (its low 32 bits) and 2w + 1 (its high 32 bits). A header is then its shape id
   * × 2 at 2w and its count at 2w + 1, and an address is two numbers.
   */
  get halves(): Int32Array {
    if (this.#halves === null) throw new Error('this heap was disposed: its memory is unmapped');
    return this.#halves;
  }

  /** The context block's two words, top and limit, as bigints (see CONTEXT_TOP). */
  get context(): BigInt64Array {
    if (this.#context === null) throw new Error('this heap was disposed: its context block is unmapped');
    return this.#context;
  }

  /** Bytes of one semispace. */
  get semispaceBytes(): number {
    return this.current.size;
  }

  /** The allocation pointer, as a number. */
  get top(): number {
    return readAddress(this.#contextHalves, CONTEXT_TOP / 8);
  }

  /** Bytes in use in the current space. */
  get used(): number {
    return this.top - this.current.base;
  }

  /** Sets the allocation pointer and the end of the space allocation may reach (after a flip). */
  setTopAndLimit(top: number, limit: number): void {
    writeAddress(this.#contextHalves, CONTEXT_TOP / 8, top);
    writeAddress(this.#contextHalves, CONTEXT_LIMIT / 8, limit);
  }

  /** Registers a shape; returns its id. */
  addShape(shape: Shape): number {
    this.shapes.push(shape);
    return this.shapes.length - 1;
  }

  /**
   * A new object of `count` zeroed slots: the fast path bumps `top`; the slow path collects
   * (with `roots` and the handles as roots) and tries once more, or throws `OutOfMemory`.
   * Every reference the caller holds is stale after this returns, except through `roots`.
   */
  allocate(shape: number, count: number, roots: RootWalker): bigint {
    const bytes = objectBytes(count);
    if (count > MAX_COUNT || bytes > this.current.size) throw new OutOfMemory(bytes, this.current.size);
    if (this.stress) this.collect(roots);
    let object = this.#bump(bytes);
    if (object < 0) {
      this.collect(roots);
      object = this.#bump(bytes);
      if (object < 0) throw new OutOfMemory(bytes, this.current.size);
    }
    const half = (object - this.base) / 4;
    const halves = this.halves;
    halves[half] = shape * 2;
    halves[half + 1] = count;
    this.stats.objectsAllocated++;
    this.stats.bytesAllocated += bytes;
    return BigInt(object);
  }

  /** The fast path: the object's address, or -1 if it does not fit before `limit`. */
  #bump(bytes: number): number {
    const context = this.#contextHalves;
    const object = readAddress(context, CONTEXT_TOP / 8);
    const end = object + bytes;
    if (end > readAddress(context, CONTEXT_LIMIT / 8)) return -1;
    writeAddress(context, CONTEXT_TOP / 8, end);
    return object;
  }

  /** Collects now: `roots` and the handles are the roots. */
  collect(roots: RootWalker): void {
    if (this.collector === undefined) throw new Error('this heap has no collector installed');
    this.collector(this, roots);
  }

  /** A handle on `reference`, a root until released. */
  handle(reference: bigint): Handle {
    const handles = this.handles;
    const handle: Handle = { value: reference, release: () => void handles.delete(handle) };
    handles.add(handle);
    return handle;
  }

  // ── reading and writing objects (references must be valid, non-null) ───────────

  /** The index in the heap's views (`words`) of the header of the object at `reference`. */
  wordOf(reference: bigint): number {
    return this.current.first + (Number(reference - this.current.baseBig) >> 3);
  }

  /** An object's slot count (an array's length). */
  count(reference: bigint): number {
    return this.halves[(this.wordOf(reference) << 1) + 1]!;
  }

  /** An object's shape id. */
  shapeOf(reference: bigint): number {
    return this.halves[this.wordOf(reference) << 1]! >> 1;
  }

  load(reference: bigint, slot: number): bigint {
    return this.words[this.wordOf(reference) + 1 + slot]!;
  }

  store(reference: bigint, slot: number, value: bigint): void {
    this.words[this.wordOf(reference) + 1 + slot] = value;
  }

  /** Drops the views and unmaps both spaces and the context block. */
  dispose(): void {
    this.#words = null;
    this.#halves = null;
    this.#context = null;
    this.#contextHalves = new Int32Array(4);
    this.mapping.dispose();
    this.contextMapping.dispose();
  }
}

const TWO_32 = 2 ** 32;

/**
 * The 64-bit word at word index `word` of `halves`, as a number: an address (below 2^53, so
 * exact). No BigInt is made.
 */
export function readAddress(halves: Int32Array, word: number): number {
  return halves[2 * word + 1]! * TWO_32 + (halves[2 * word]! >>> 0);
}

/** Writes `address` (a whole number from 0 to 2^53) as the word at word index `word` of `halves`. */
export function writeAddress(halves: Int32Array, word: number, address: number): void {
  halves[2 * word] = address % TWO_32; // stored modulo 2^32: the low half's bits
  halves[2 * word + 1] = (address / TWO_32) | 0;
}
