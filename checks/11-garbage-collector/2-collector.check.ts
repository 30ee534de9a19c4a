/**
 * Chapter 11, second part: the heap and the collector on their own, through the heap's API
 * with handles and root walkers as the roots: objects move and every root follows, cycles
 * and sharing survive, garbage is reclaimed, a list of a million elements is collected
 * without recursion, new objects are zero, out of memory is a clean error, and
 * `--verify-heap` finds a reference that points nowhere.
 */
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import { chapterModule, seen } from './support.ts';

type HeapModule = typeof import('../../solutions/11-garbage-collector/heap.ts');
type CollectorModule = typeof import('../../solutions/11-garbage-collector/collector.ts');

const heaps = await learnerCode(chapterModule<HeapModule>('heap.ts'));
const collector = await learnerCode(chapterModule<CollectorModule>('collector.ts'));

/** A heap of two `bytes`-byte semispaces with the collector installed, and its shapes. */
function newHeap(bytes: number, options: { verify?: boolean } = {}) {
  const heap = new heaps.Heap({ semispaceBytes: bytes, ...options });
  heap.collector = collector.collect;
  return {
    heap,
    /** A record of two references. */
    pair: heap.addShape({ name: 'pair', references: [0, 1] }),
    /** A list cell: slot 0 an int, slot 1 the next cell. */
    cell: heap.addShape({ name: 'cell', references: [1] }),
  };
}

/** A root walker over a JavaScript array of references, which the collector updates. */
function rootsIn(references: bigint[]) {
  return (visit: (reference: bigint) => bigint) => {
    for (let i = 0; i < references.length; i++) references[i] = visit(references[i]!);
  };
}
const NO_ROOTS = () => {};

/** Runs `body` with a heap and disposes of it after. */
function withHeap<T>(bytes: number, body: (h: ReturnType<typeof newHeap>) => T, options: { verify?: boolean } = {}): T {
  const h = newHeap(bytes, options);
  try {
    return body(h);
  } finally {
    h.heap.dispose();
  }
}

check('a collection moves every object it keeps, and every root and handle follows it', () => {
  withHeap(64 * 1024, ({ heap }) => {
    const array = heap.allocate(heaps.SHAPE.arrayOfValues, 3, NO_ROOTS);
    [7n, -8n, 1n << 40n].forEach((v, i) => heap.store(array, i, v));
    const handle = heap.handle(array);
    const roots = [array, 0n];
    heap.collect(rootsIn(roots));
    assert.is.not(seen('the object stayed where it was', handle.value === array), true, 'the object did not move: a copying collector copies every live object to the other space');
    assert.ok(seen('the root and the handle point at one copy', roots[0] === handle.value), 'the root and the handle point at different copies');
    assert.is(seen('the null root', roots[1]), 0n, 'a null root must stay null');
    assert.is(seen('the copy\'s length', heap.count(handle.value)), 3);
    assert.equal(seen('the copy\'s values', [0, 1, 2].map((i) => heap.load(handle.value, i))), [7n, -8n, 1n << 40n], 'the copy has other values than the original');
    const first = handle.value;
    heap.collect(rootsIn(roots));
    assert.is.not(seen('the second collection left it where it was', handle.value === first), true, 'the second collection did not move the object back to the first space');
    assert.is(seen('its last value after two collections', heap.load(handle.value, 2)), 1n << 40n);
  });
}, { hints: ['Copy the object to to-space, leave a forwarding address in the old one, and write the new address back into the root.'] });

check('a cycle survives a collection and is still a cycle, copied once', () => {
  withHeap(64 * 1024, ({ heap, pair }) => {
    const a = heap.allocate(pair, 2, NO_ROOTS);
    const handle = heap.handle(a);
    const b = heap.allocate(pair, 2, NO_ROOTS);
    heap.store(handle.value, 0, b);
    heap.store(b, 0, handle.value);
    heap.store(handle.value, 1, handle.value); // a points at itself too
    for (let i = 0; i < 100; i++) heap.allocate(pair, 2, NO_ROOTS); // garbage
    heap.collect(NO_ROOTS);
    const a2 = handle.value;
    const b2 = heap.load(a2, 0);
    assert.is.not(seen('a stayed where it was', a2 === a), true, 'the object did not move');
    assert.ok(seen('b points at a', heap.load(b2, 0) === a2), 'b no longer points at a: a forwarded reference reached through b was copied again or not updated');
    assert.ok(seen('a points at itself', heap.load(a2, 1) === a2), 'a no longer points at itself');
    assert.ok(seen('the heap holds the two objects of the cycle alone', heap.used === 2 * heaps.objectBytes(2)), 'the heap should hold exactly the two objects of the cycle after the collection');
  });
}, { hints: ['An object reached a second time is already forwarded: return the forwarding address instead of copying it again.'] });

check('garbage is reclaimed: a heap of 64 KiB allocates megabytes while little stays alive', () => {
  withHeap(64 * 1024, ({ heap, cell }) => {
    const live = heap.handle(heap.allocate(cell, 2, NO_ROOTS));
    heap.store(live.value, 0, 42n);
    for (let i = 0; i < 100_000; i++) {
      const junk = heap.allocate(cell, 2, NO_ROOTS);
      heap.store(junk, 0, BigInt(i));
    }
    assert.ok(seen('at least 30 collections', heap.stats.collections >= 30), `only ${heap.stats.collections} collections for 2.4 MB of garbage in a 64 KiB space`);
    heap.collect(NO_ROOTS);
    assert.ok(seen('the live cell alone remains', heap.used === heaps.objectBytes(2)), 'after a collection only the live cell should remain');
    assert.is(seen('the live cell\'s value', heap.load(live.value, 0)), 42n);
  });
}, { timeoutMs: 20000, hints: ['Nothing unreachable is copied: after the flip, allocation continues right after the last copy.'] });

check('a list of a million elements is collected without recursion, its order and values kept', () => {
  withHeap(64 * 1024 * 1024, ({ heap, cell }) => {
    const head = heap.handle(0n);
    const count = 1_000_000;
    for (let i = 0; i < count; i++) {
      const node = heap.allocate(cell, 2, NO_ROOTS);
      heap.store(node, 0, BigInt(i));
      heap.store(node, 1, head.value);
      head.value = node;
    }
    heap.collect(NO_ROOTS);
    let n = 0;
    let expected = count - 1;
    let misplaced: string | undefined;
    for (let node = head.value; node !== 0n; node = heap.load(node, 1)) {
      if (heap.load(node, 0) !== BigInt(expected)) {
        misplaced = `element ${n} holds ${heap.load(node, 0)}, expected ${expected}`;
        break; // a list the collection broke may even loop
      }
      n++;
      expected--;
    }
    assert.ok(seen('every element holds its value, in its order', misplaced === undefined), misplaced);
    assert.is(seen('elements of the list', n), count, 'the list lost elements in the collection');
    assert.ok(seen('the heap holds the list alone', heap.used === count * heaps.objectBytes(2)), `the heap holds ${heap.used} bytes, the list ${count * heaps.objectBytes(2)}`);
  });
}, { timeoutMs: 60000, hints: ['Scan to-space with a pointer that chases the free pointer (breadth first): no recursion, no stack that grows with the list.'] });

check('forwarding keeps sharing: references to one object all end at one copy', () => {
  withHeap(64 * 1024, ({ heap, pair }) => {
    const shared = heap.allocate(heaps.SHAPE.arrayOfValues, 1, NO_ROOTS);
    heap.store(shared, 0, 5n);
    const holder = heap.allocate(pair, 2, NO_ROOTS);
    heap.store(holder, 0, shared);
    heap.store(holder, 1, shared);
    const array = heap.allocate(heaps.SHAPE.arrayOfReferences, 4, NO_ROOTS);
    for (let i = 0; i < 4; i++) heap.store(array, i, i === 2 ? holder : shared);
    const roots = [array, shared];
    heap.collect(rootsIn(roots));
    const copy = roots[1]!;
    const holder2 = heap.load(roots[0]!, 2);
    assert.ok(seen('the array\'s references to the shared object are the root', [0, 1, 3].every((i) => heap.load(roots[0]!, i) === copy)), 'the array\'s references to the shared object differ from the root');
    assert.ok(seen('the holder\'s references are the root', heap.load(holder2, 0) === copy && heap.load(holder2, 1) === copy), 'the holder\'s references to the shared object differ from the root');
    assert.ok(seen('each object copied once', heap.used === heaps.objectBytes(1) + heaps.objectBytes(2) + heaps.objectBytes(4)), 'the shared object was copied more than once');
    heap.store(copy, 0, 6n);
    assert.is(seen('the value stored through the root, read through the holder', heap.load(heap.load(holder2, 1), 0)), 6n);
  });
}, { hints: ['The forwarding address lives in the old object: every later reference to it finds the copy there.'] });

check('new objects are zero, also in a space that held objects before', () => {
  withHeap(16 * 1024, ({ heap }) => {
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 100; i++) {
        const junk = heap.allocate(heaps.SHAPE.arrayOfValues, 10, NO_ROOTS);
        for (let k = 0; k < 10; k++) heap.store(junk, k, -1n);
      }
      heap.collect(NO_ROOTS);
    }
    const fresh = heap.allocate(heaps.SHAPE.arrayOfValues, 500, NO_ROOTS);
    const slots = Array.from({ length: 500 }, (_, k) => heap.load(fresh, k));
    const first = slots.findIndex((value) => value !== 0n);
    assert.ok(seen('every slot of the new array is zero', first < 0), `slot ${first} of a new array is not zero`);
  });
}, { hints: ['Clear the space a collection leaves behind before it is used again: the bump allocator does not clear.'] });

check('out of memory is a clean error, and the heap stays usable after it', () => {
  withHeap(64 * 1024, ({ heap }) => {
    let tooLarge: unknown;
    try {
      heap.allocate(heaps.SHAPE.arrayOfValues, 10_000, NO_ROOTS);
    } catch (error) {
      tooLarge = error;
    }
    assert.ok(seen('an array larger than a semispace is out of memory', tooLarge instanceof heaps.OutOfMemory), `an array larger than a semispace must be OutOfMemory, got ${tooLarge === undefined ? 'no error' : String(tooLarge)}`);
    const kept: bigint[] = [];
    const roots = rootsIn(kept);
    let failed: unknown;
    try {
      for (let i = 0; i < 10_000; i++) kept.push(heap.allocate(heaps.SHAPE.arrayOfValues, 14, roots));
    } catch (error) {
      failed = error;
    }
    assert.ok(seen('filling the heap ends in out of memory', failed instanceof heaps.OutOfMemory), `filling the heap with live objects must end in OutOfMemory, got ${String(failed)}`);
    const fit = Math.floor(heap.semispaceBytes / heaps.objectBytes(14));
    assert.ok(seen('as many objects as fit were made', kept.length === fit), `${fit} objects of ${heaps.objectBytes(14)} bytes fit in a semispace, ${kept.length} were made`);
    collector.verifyHeap(heap, roots);
    heap.collect(roots);
    assert.is(seen('the first object\'s length after a collection', heap.count(kept[0]!)), 14);
  });
}, { hints: ['After a collection the allocation is tried once more; if it still does not fit, throw OutOfMemory instead of writing past the limit.'] });

check('--verify-heap finds a root or a field that does not point at an object', () => {
  withHeap(64 * 1024, ({ heap, pair }) => {
    const a = heap.allocate(pair, 2, NO_ROOTS);
    const b = heap.allocate(pair, 2, NO_ROOTS);
    const roots = [a, b];
    collector.verifyHeap(heap, rootsIn(roots)); // a sound heap passes
    heap.store(roots[0]!, 1, roots[1]! + 8n); // into the middle of b
    assert.ok(seen('a field into the middle of an object is found', corruptionFound(() => collector.verifyHeap(heap, rootsIn(roots)))), 'a field pointing into the middle of an object was not found');
    heap.store(roots[0]!, 1, 0n);
    roots.push(12345n * 8n);
    assert.ok(seen('a root outside the heap is found', corruptionFound(() => collector.verifyHeap(heap, rootsIn(roots)))), 'a root that points outside the heap was not found');
  }, { verify: true });
}, { hints: ['Walk the space object by object to learn where objects start; then every reference must be null or one of those starts.'] });

check('the semispaces and the context block are data: mapped readable and writable, never executable', () => {
  withHeap(64 * 1024, ({ heap }) => {
    const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
    const mappings = [heap.current.mapping, heap.other.mapping, heap.contextMapping];
    for (const mapping of mappings) {
      const line = maps.find((row) => {
        const [range] = row.split(' ');
        const [low, high] = (range ?? '').split('-').map((hex) => BigInt(`0x${hex || '0'}`));
        return low !== undefined && high !== undefined && low <= mapping.address && mapping.address < high;
      });
      assert.ok(line !== undefined, `no mapping at 0x${mapping.address.toString(16)} in /proc/self/maps`);
      const perms = line.split(' ')[1]!;
      assert.ok(seen('mapped read and write, not execute', perms.startsWith('rw') && !perms.includes('x')), `the heap's memory at 0x${mapping.address.toString(16)} is mapped ${perms}: it must be rw-, never executable`);
    }
  });
}, { hints: ['Map the semispaces with PROT_READ | PROT_WRITE only: no object on the heap is ever code.'] });

/** Whether `verify` throws HeapCorruption. */
function corruptionFound(verify: () => void): boolean {
  try {
    verify();
  } catch (error) {
    return error instanceof collector.HeapCorruption;
  }
  return false;
}
