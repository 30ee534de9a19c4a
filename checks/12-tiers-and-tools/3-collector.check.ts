/**
 * Chapter 12, third part: the collector across tiers. Under --gc-stress every allocation
 * collects, and objects move while frames of every tier hold them: interpreted frames (roots by
 * the interpreter's stack maps, in each suspended interpreter run), baseline frames (roots by
 * the compiled code's stack maps, in each suspended machine segment), a frame entered by
 * on-stack replacement, and between them frames of the optimizing tier (a function that holds
 * no reference), which the walk must pass through. --verify-heap checks every reference after
 * each collection.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { ENOUGH_REPORTS, compareWithReference, seen, tiered, wentWrong } from './support.ts';

type Tier = 'interpreter' | 'baseline' | 'optimized';

const CHAIN = `struct Node { value: int, next: Node }

fn leaf(n: int): Node {
  let keep = new Node { value: n, next: null };
  let a = new [int](3);
  a[1] = n * 2;
  return new Node { value: a[1] + keep.value, next: keep };
}

fn count(n: int): int {
  let a = new [Node](n % 3 + 1);
  a[0] = new Node { value: n, next: null };
  return a[0].value + len(a);
}

fn relay(n: int): int {
  return count(n) + count(n + 1);
}

fn level3(n: int, list: Node): Node {
  let mine = new Node { value: n, next: list };
  let got = leaf(n);
  let extra = relay(n);
  return new Node { value: got.value + got.next.value + extra, next: mine };
}

fn level2(n: int, list: Node): Node {
  let boxes = new [Node](2);
  boxes[0] = new Node { value: n, next: list };
  boxes[1] = level3(n + 1, boxes[0]);
  return boxes[1];
}

fn level1(n: int, list: Node): Node {
  let before = list;
  let result = level2(n, list);
  if before != list {
    return null;
  }
  return result;
}

fn main() {
  let list: Node = null;
  let i = 0;
  while i < 30 {
    list = level1(i, list);
    i = i + 1;
  }
  let sum = 0;
  let count = 0;
  while list != null {
    sum = sum + list.value;
    count = count + 1;
    list = list.next;
  }
  print(count);
  print(sum);
  return 0;
}
`;

const NAMES = ['main', 'level1', 'level2', 'level3', 'leaf'];

check('under --gc-stress --verify-heap, objects held by interpreted, baseline and optimized frames on one stack survive every collection, in every combination of tiers', () => {
  const reports: string[] = [];
  let collections = 0;
  let ran = 0;
  for (let bits = 0; bits < 1 << NAMES.length && reports.length < ENOUGH_REPORTS; bits++) {
    ran++;
    const tiers: Record<string, Tier> = Object.fromEntries(NAMES.map((name, i) => [name, (bits >> i) & 1 ? 'baseline' : 'interpreter']));
    // relay holds no reference: the optimizing tier compiles it; count, which allocates, takes leaf's tier.
    tiers.relay = 'optimized';
    tiers.count = tiers.leaf!;
    const got = tiered.runTiered(CHAIN, { stress: true, verify: true, tierUpCalls: 1_000_000_000, tierUpLoops: 1_000_000_000, tierOf: (name) => tiers[name] });
    collections += got.heap.collections;
    assert.equal(seen('the tier of relay', got.tiers.relay), 'optimized', 'relay touches no heap and holds no reference: the optimizing tier must compile it');
    const report = compareWithReference(NAMES.map((n) => `${n} ${tiers[n]}`).join(', '), CHAIN, got, { stress: true });
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${wentWrong(reports.length, ran, 1 << NAMES.length, 'combinations')}; the first:\n\n${reports[0]}`);
  assert.ok(seen('at least 6400 collections in the 32 runs', collections >= 32 * 200), `${collections} collections in 32 runs under --gc-stress`);
}, { timeoutMs: 40000, emulatedTimeoutMs: 960000, hints: [
  'A collection must visit the roots of every segment on the stack: the running one (passed by whoever allocates) and every suspended one, interpreter runs and machine segments alike.',
  'A suspended machine segment stopped at the call into its interpreter stub: walk it from the caller\'s fp and return address (saved by the stub) to its own entry record, not the innermost one.',
] });

check('under --gc-stress --verify-heap, a loop moved to compiled code in its middle keeps the references the interpreter\'s frame held', () => {
  const got = tiered.runTiered(CHAIN, { stress: true, verify: true, tierUpCalls: 1_000_000_000, tierUpLoops: 3, tierOf: (name) => (name === 'main' ? undefined : 'interpreter') });
  assert.equal(seen('the tier of main', got.tiers.main), 'baseline', 'main\'s loop ran 30 times with on-stack replacement after 3 back edges: main should be compiled');
  assert.ok(seen('an on-stack replacement happened', got.stats.osrEntries >= 1), 'no on-stack replacement happened');
  const report = compareWithReference('main entered by on-stack replacement', CHAIN, got, { stress: true });
  assert.ok(report === null, report ?? '');
}, { timeoutMs: 30000, emulatedTimeoutMs: 480000, hints: [
  'The OSR entry copies every local and operand-stack value of the interpreter\'s frame into the compiled frame, references included; from the loop header on, the compiled code\'s stack maps find them.',
] });
