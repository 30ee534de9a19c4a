/**
 * Chapter 11, first part: whole programs on the heap. Every heap program prints and ends as
 * it expects in every tier, on the default heap and with a collection at every allocation
 * (checked after each), and on a small heap that collects over and over; the programs of
 * chapters 06–10 run unchanged at chapter 11's level.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { mayCompile, mayEndWith, programsUpTo } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { runInterpreter as referenceRun } from '../../solutions/11-garbage-collector/run.ts';
import { MODES, TIERS, compareWithProgram, seen, traceText, type HeapRun } from './support.ts';

/** How a run ended, as text to compare: the printed lines, then the error and its trace. */
function ending(run: HeapRun): string {
  return [...run.output, run.error === undefined ? '(normal exit)' : `${run.error.message}\n${traceText(run.error.trace)}`].join('\n');
}

const all = programsUpTo(11);
const heapPrograms = all.filter((p) => p.since === 11);

const BY_HAND = 'Each heap program in checks/programs (those with `// since: 11`) carries its expected output; run it by hand with the same options.';

/** On the default heap the small programs never collect: what goes wrong there is an operation of the heap itself. */
const DEFAULT_HEAP_HINTS = [
  'A program that goes wrong on the default heap goes wrong before any collection: look at the heap\'s operations themselves, an object\'s size (its header and its slots), the null and bounds checks of an access, the offset of a field.',
  BY_HAND,
  'An array takes a header word and then one word per element; an access checks for null before it reads the header, and the index against the length the header holds.',
];

/** Under --gc-stress every allocation collects: what goes wrong there is a reference the collector did not find. */
const STRESS_HINTS = [
  'Under --gc-stress every allocation collects, and a collection moves every live object: a reference anywhere that the collector does not know (a frame slot missing from a stack map, a frame not walked, a field not scanned) goes stale, and --verify-heap finds it pointing into the space just left.',
  'The roots of a frame are the slots its stack map at the GC point lists with a reference type: the live locals and the operand stack under the instruction. A caller is stopped at its call, so its map is the one recorded for that call, and every frame counts, the outermost too.',
  BY_HAND,
];

/**
 * A program whose heap counts are fixed by its text: a list of 100 nodes that stays alive,
 * and every round an array of round + 1 elements and a list of 20 nodes that die at once.
 * A header is one word, so a Node takes 24 bytes and an array 8 + 8 × length:
 *   objects  100 + 200 × (1 + 20)                              = 4300
 *   bytes    4100 × 24 + 200 × 8 + 8 × (1 + 2 + … + 200)       = 98400 + 1600 + 160800 = 260800
 * On a 64 KiB semispace the 260800 bytes fill it four times, counting what survives each time.
 */
const COUNTED = `struct Node { value: int, next: Node }

fn build(n: int): Node {
  let head: Node = null;
  let i = 0;
  while i < n {
    head = new Node { value: i, next: head };
    i = i + 1;
  }
  return head;
}

fn sum(list: Node): int {
  let s = 0;
  let node = list;
  while node != null {
    s = s + node.value;
    node = node.next;
  }
  return s;
}

fn main() {
  let keep = build(100);
  let round = 0;
  let total = 0;
  while round < 200 {
    let scratch = new [int](round + 1);
    total = total + len(scratch) + sum(build(20));
    round = round + 1;
  }
  print(total + sum(keep));
  return 0;
}
`;
const COUNTED_OUTPUT = ['63050'];
const COUNTED_STATS = '4300 objects, 260800 bytes, 4 collections';

for (const tier of TIERS) {
  check(`${tier.name}: the heap counts what --gc-stats shows: the objects, bytes and collections a program's text fixes`, () => {
    const got = tier.run(COUNTED, { semispaceBytes: 64 * 1024 });
    assert.equal(seen('output', got.output), COUNTED_OUTPUT, 'the program printed something else');
    const stats = got.heap;
    const counts = stats === undefined ? 'no counts' : `${stats.objectsAllocated} objects, ${stats.bytesAllocated} bytes, ${stats.collections} collections`;
    assert.is(seen('counts', counts), COUNTED_STATS, 'the heap\'s counts after the run on a 64 KiB semispace');
  }, { hints: [
    'Every object the heap makes is counted once, with its size in bytes, header included, on whichever path made it; a collection is counted when it happens.',
    'In compiled code the fast path makes objects without calling into TypeScript: its objects and bytes reach the heap\'s counts through what the fast path leaves behind (the count it keeps, the bump pointer it moved).',
    'Under the same semispace size the same program collects at the same allocations: a different number of collections means objects of other sizes, or a space that fills at another point.',
  ] });

  for (const mode of MODES) {
    check(`${tier.name}, ${mode.name}: every heap program prints and ends as it expects`, () => {
      const programs = heapPrograms.filter(mayCompile);
      assert.ok(programs.length >= 10, `only ${programs.length} heap programs found`);
      const reports: string[] = [];
      let collections = 0;
      let allocations = 0;
      for (const program of programs) {
        process.stderr.write(`running ${program.name}.jot (${mode.name})\n`);
        const got = tier.run(program.source, mode.options);
        const report = compareWithProgram(program, got);
        if (report !== null) reports.push(report);
        collections += got.heap?.collections ?? 0;
        allocations += got.heap?.objectsAllocated ?? 0;
      }
      assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
      assert.ok(seen('more than 10,000 objects counted', allocations > 10_000), `the programs allocated ${allocations} objects in all: the heap's counts are not kept`);
      if (mode.options.stress) {
        assert.ok(seen('a collection at every allocation', collections >= allocations), `--gc-stress collects at every allocation, but ${allocations} allocations made ${collections} collections`);
      }
    }, { timeoutMs: mode.options.stress ? 240000 : 60000, hints: mode.options.stress ? STRESS_HINTS : DEFAULT_HEAP_HINTS });
  }

  check(`${tier.name}: on a 128 KiB heap the programs collect again and again and still print what they expect`, () => {
    const programs = heapPrograms.filter((p) => mayCompile(p) && !p.name.includes('out_of_memory'));
    const reports: string[] = [];
    let collections = 0;
    for (const program of programs) {
      process.stderr.write(`running ${program.name}.jot (--heap 128k)\n`);
      const got = tier.run(program.source, { semispaceBytes: 128 * 1024, verify: true });
      const report = compareWithProgram(program, got);
      if (report !== null) reports.push(report);
      collections += got.heap?.collections ?? 0;
    }
    assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
    assert.ok(seen('at least 20 collections', collections >= 20), `the programs collected ${collections} times on a 128 KiB heap: expected many more`);
  }, { timeoutMs: 60000, hints: [
    'When the bump pointer would pass the limit, collect, then try once more; only if it still does not fit is it out of memory.',
  ] });

  check(`${tier.name}: compile errors of arrays and records are reported at their line and column`, () => {
    // In a copy staged for grading any program may end so (mayEndWith): there every heap
    // program runs, and the runner judges the endings of those the reference's run chose.
    const programs = heapPrograms.filter((p) => mayEndWith(p, 'compile'));
    assert.ok(programs.length >= 3, 'no compile-error programs found');
    const reports = programs.map((p) => compareWithProgram(p, tier.run(p.source, {}))).filter((r) => r !== null);
    assert.ok(reports.length === 0, reports.join('\n\n'));
  }, { hints: ['A type error is a CompileError at the node the message names (book/language.md lists them).'] });

  check(`${tier.name}: random programs with arrays and records, on a small heap collecting at every allocation, do what the reference does`, (t) => {
    const reports: string[] = [];
    for (let i = 0; i < 40; i++) {
      const source = randomProgram(t.random, 11);
      const expected = ending(referenceRun(source));
      const got = ending(tier.run(source, { semispaceBytes: 64 * 1024, stress: true, verify: true }));
      reportOutcome(`random program ${i + 1}`, { output: got.split('\n') });
      if (got !== expected) reports.push(`random program ${i + 1}:\n${source}\nexpected:\n${expected}\ngot:\n${got}`);
    }
    assert.ok(reports.length === 0, `${reports.length} of 40 random programs went wrong; the first:\n\n${reports[0]}`);
  }, { timeoutMs: 120000, hints: [
    'Random programs keep arrays and records in locals across calls, allocations and caught exceptions: each is a root wherever its stack map says it is live.',
  ] });

  check(`${tier.name}: every program of chapters 06–10 runs unchanged at chapter 11's level`, () => {
    const programs = all.filter((p) => p.since < 11);
    const reports: string[] = [];
    for (const program of programs) {
      process.stderr.write(`running ${program.name}.jot\n`);
      const report = compareWithProgram(program, tier.run(program.source, {}));
      if (report !== null) reports.push(report);
    }
    assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
  }, { timeoutMs: 120000, hints: ['Adding arrays and records must not change what the earlier language means.'] });
}
