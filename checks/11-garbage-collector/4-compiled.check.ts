/**
 * Chapter 11, fourth part: the heap in compiled code. Allocation is inline: on a heap with
 * room, a loop of allocations calls into TypeScript not once (only its prints do), and under
 * --gc-stress every allocation takes the slow path, a call that collects. Objects move while
 * machine frames hold them: every reference slot the stack maps name follows, also in caller
 * frames several calls up and across frames of the optimizing tier. Bounds and null errors
 * are exceptions at their line, caught by the handler around them.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import { runInterpreter as referenceRun } from '../../solutions/11-garbage-collector/run.ts';
import { chapterModule, seen } from './support.ts';

const jitRun = await learnerCode(chapterModule<typeof import('../../solutions/11-garbage-collector/jit-run.ts')>('jit-run.ts'));

/** n records and n arrays, the records kept in a list; prints the sum of 0…n-1. */
const allocatingLoop = (n: number) => `struct Cell { value: int, next: Cell }

fn main() {
  let list: Cell = null;
  let i = 0;
  while i < ${n} {
    list = new Cell { value: i, next: list };
    let a = new [int](i % 7);
    i = i + 1;
  }
  let sum = 0;
  while list != null {
    sum = sum + list.value;
    list = list.next;
  }
  print(sum);
  return 0;
}
`;

check('the allocation fast path calls nothing: 10,000 allocations on a heap with room make no call into TypeScript', () => {
  const run = jitRun.runBaseline(allocatingLoop(5000), {});
  assert.equal(seen('error', run.error?.message), undefined, run.error?.message);
  assert.equal(seen('output', run.output), ['12497500']);
  assert.equal(seen('collections', run.heap.collections), 0, 'the default heap has room for these objects: nothing should collect');
  assert.ok(seen('at least 10,000 objects counted', run.heap.objectsAllocated >= 10_000), `the heap counted ${run.heap.objectsAllocated} objects: the fast path's objects are not counted`);
  assert.ok(seen('at most one call into TypeScript', run.callbacks <= 1), `the run called into TypeScript ${run.callbacks} times for 1 print: allocation leaves the machine code on its fast path`);
}, { hints: [
  'The fast path loads top from the heap\'s context block, adds the size, compares with the limit, stores the new top and the header: no call.',
] });

check('under --gc-stress every allocation takes the slow path, which collects, and the objects it moves are found again', () => {
  const run = jitRun.runBaseline(allocatingLoop(1000), { stress: true, verify: true });
  assert.equal(seen('error', run.error?.message), undefined, run.error?.message);
  assert.equal(seen('output', run.output), ['499500']);
  assert.ok(seen('at least 2000 collections', run.heap.collections >= 2000), `${run.heap.collections} collections for 2,000 allocations under --gc-stress`);
  assert.ok(seen('at least 2000 calls into TypeScript', run.callbacks >= 2000), `${run.callbacks} calls into TypeScript: the slow path is not taken when the limit says so`);
}, { timeoutMs: 120000, hints: [
  'Under --gc-stress the limit the fast path compares with is 0, so every allocation calls the runtime.',
] });

const DEEP_ROOTS = `struct Node { value: int, left: Node, right: Node }

fn leaf(v: int): Node {
  return new Node { value: v, left: null, right: null };
}

fn garbage(): int {
  let g = new [int](3);
  return len(g) - 3;
}

fn count(n: int): int {
  if n <= 0 {
    return garbage();
  }
  return count(n - 1) + 1;
}

fn build(depth: int, keep: Node): Node {
  if depth == 0 {
    return new Node { value: count(3), left: keep, right: leaf(depth) };
  }
  let mine = leaf(depth);
  let below = build(depth - 1, mine);
  return new Node { value: depth + count(2), left: below, right: mine };
}

fn sum(n: Node): int {
  if n == null {
    return 0;
  }
  return n.value + sum(n.left) + sum(n.right);
}

fn main() {
  let root = build(12, leaf(100));
  print(sum(root));
  let values = new [int](4);
  try {
    values[4] = 1;
  } catch e {
    print(e);
  }
  let nothing: Node = null;
  try {
    print(nothing.value);
  } catch e {
    print(e);
  }
  return 0;
}
`;

check('references in caller frames several calls up follow their objects, through frames of both compiled tiers', () => {
  for (const [name, run] of [['baseline', jitRun.runBaseline], ['optimizing', jitRun.runOptimized]] as const) {
    const got = run(DEEP_ROOTS, { stress: true, verify: true });
    assert.equal(seen(`${name}: error`, got.error?.message), undefined, `${name}: ${got.error?.message}`);
    assert.equal(seen(`${name}: output`, got.output), ['184', '-3', '-4'], `${name}: the output differs`);
    assert.ok(seen(`${name}: more than 40 collections`, got.heap.collections > 40), `${name}: ${got.heap.collections} collections`);
    // Only main (it has a try) is left to the template compiler: collections happen below optimized frames that hold references.
    if (name === 'optimizing') assert.equal(seen('functions the optimizing tier declined', got.declined), 1, 'the optimizing tier should compile every function but main, whose try chapter 10 leaves to the template compiler');
  }
}, { timeoutMs: 60000, hints: [
  'At a collection, walk every frame of the machine segment by the frame-pointer chain; each frame stopped at a call uses the stack map of that call.',
  'An optimizing-tier frame stopped at a GC point has a map too: the stack slots of the references live across that point.',
] });

check('an uncaught bounds error in compiled code ends the run with its message and line, like the interpreter', () => {
  const got = jitRun.runBaseline('fn get(a: [int], i: int): int {\n  return a[i];\n}\n\nfn main() {\n  let a = new [int](3);\n  print(get(a, -1));\n  return 0;\n}\n', {});
  assert.equal(seen('error', got.error?.message), 'index out of bounds (index -1, length 3) at line 2');
  assert.equal(seen('trace', got.error?.trace), [{ name: 'get', line: 2 }, { name: 'main', line: 7 }]);
}, { hints: [
  'An index is in bounds when 0 ≤ index < length: the compiled check must turn away a negative index too, before any address is formed from it (index -1 would read the array\'s header).',
  'One comparison covers both ends when it treats the index and the length as unsigned: a negative index, read unsigned, is larger than any length.',
  'The error stub ends the run as the interpreter does: the message names the index and the length, the line is the access\'s, and the trace runs from the innermost frame out to main.',
] });

const OUT_OF_MEMORY = `fn big(n: int): int {
  let a = new [int](n);
  return len(a);
}

fn mid(n: int): int {
  let s = 0;
  let i = 0;
  while i < 3 {
    s = s + big(n * i + 1) + i;
    i = i + 1;
  }
  return s;
}

fn main() {
  try {
    print(mid(100000000));
  } catch e {
    print(e);
  }
  print(7);
  return 0;
}
`;

check('out of memory in compiled code ends the run as in the interpreter: no handler catches it, across frames of both tiers', () => {
  const expected = referenceRun(OUT_OF_MEMORY);
  assert.ok(expected.error?.message.startsWith('out of memory'), `the reference ended with ${expected.error?.message}`);
  for (const [name, run] of [['baseline', jitRun.runBaseline], ['optimizing', jitRun.runOptimized]] as const) {
    for (let i = 0; i < 2; i++) {
      const got = run(OUT_OF_MEMORY, {});
      assert.equal(seen(`${name}: output`, got.output), expected.output, `${name}: the output differs`);
      assert.equal(seen(`${name}: error`, got.error?.message), expected.error?.message, `${name}: the error differs`);
      assert.equal(seen(`${name}: trace`, got.error?.trace), expected.error?.trace, `${name}: the trace differs`);
    }
  }
}, { hints: [
  'Out of memory is not an exception a program can catch: the run ends, every frame removed, each callee-saved register a removed frame saved put back.',
] });
