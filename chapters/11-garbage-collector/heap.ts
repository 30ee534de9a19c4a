/**
 * Chapter 11: the heap, where arrays (and the objects of later chapters) live.
 *
 * Two semispaces of one size, each a data mapping (memory.ts). Objects are made in the
 * current space by bumping a pointer; a collection (collector.ts) copies the live objects
 * into the other space, and the two swap roles.
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
import { DataMapping } from './memory.ts';

/** The default size of one semispace: 8 MiB (the heap maps two). */
export const DEFAULT_SEMISPACE_BYTES = 8 * 1024 * 1024;
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

/** One semispace and its views: whole words (values) and 32-bit halves (headers, addresses). */
export class Space {
  readonly mapping: DataMapping;
  /** The address of the first byte, as a number (addresses fit in 53 bits) and a bigint. */
  readonly base: number;
  readonly baseBig: bigint;
  readonly size: number;
  readonly words: BigInt64Array;
  readonly halves: Int32Array;

  constructor(size: number) {
    this.mapping = new DataMapping(size);
    this.size = this.mapping.size;
    this.baseBig = this.mapping.address;
    this.base = Number(this.baseBig);
    this.words = new BigInt64Array(this.mapping.buffer);
    this.halves = new Int32Array(this.mapping.buffer);
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

/** The heap: its two spaces, the context block, the shapes, the handles and the counts. */
export class Heap {
  /** The space objects are made in, and the other one (empty between collections). */
  current: Space;
  other: Space;
  /** The context block: top and limit, as addresses (see CONTEXT_TOP). */
  readonly contextMapping: DataMapping;
  readonly context: BigInt64Array;
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

  constructor(options: HeapOptions = {}) {
    const size = options.semispaceBytes ?? DEFAULT_SEMISPACE_BYTES;
    this.current = new Space(size);
    this.other = new Space(size);
    this.contextMapping = new DataMapping(16);
    this.context = new BigInt64Array(this.contextMapping.buffer, 0, 2);
    this.context[CONTEXT_TOP / 8] = this.current.baseBig;
    this.context[CONTEXT_LIMIT / 8] = this.current.baseBig + BigInt(this.current.size);
    this.stress = options.stress ?? false;
    this.verify = options.verify ?? false;
  }

  /** Bytes of one semispace. */
  get semispaceBytes(): number {
    return this.current.size;
  }

  /** Bytes in use in the current space. */
  get used(): number {
    return Number(this.context[CONTEXT_TOP / 8]! - this.current.baseBig);
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
    if (object === undefined) {
      this.collect(roots);
      object = this.#bump(bytes);
      if (object === undefined) throw new OutOfMemory(bytes, this.current.size);
    }
    const index = Number(object - this.current.baseBig) >> 2;
    this.current.halves[index] = shape * 2;
    this.current.halves[index + 1] = count;
    this.stats.objectsAllocated++;
    this.stats.bytesAllocated += bytes;
    return object;
  }

  /** The fast path: the object's address, or undefined if it does not fit before `limit`. */
  #bump(bytes: number): bigint | undefined {
    const context = this.context;
    const object = context[CONTEXT_TOP / 8]!;
    const end = object + BigInt(bytes);
    if (end > context[CONTEXT_LIMIT / 8]!) return undefined;
    context[CONTEXT_TOP / 8] = end;
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

  /** The word index in the current space of the object at `reference`. */
  wordOf(reference: bigint): number {
    return Number(reference - this.current.baseBig) >> 3;
  }

  /** An object's slot count (an array's length). */
  count(reference: bigint): number {
    return this.current.halves[(this.wordOf(reference) << 1) + 1]!;
  }

  /** An object's shape id. */
  shapeOf(reference: bigint): number {
    return this.current.halves[this.wordOf(reference) << 1]! >> 1;
  }

  load(reference: bigint, slot: number): bigint {
    return this.current.words[this.wordOf(reference) + 1 + slot]!;
  }

  store(reference: bigint, slot: number, value: bigint): void {
    this.current.words[this.wordOf(reference) + 1 + slot] = value;
  }

  /** Unmaps both spaces and the context block. */
  dispose(): void {
    this.current.mapping.dispose();
    this.other.mapping.dispose();
    this.contextMapping.dispose();
  }
}
