/**
 * Chapter 12, second part: exceptions across tiers. Each function of a program is fixed in
 * the interpreter or in the baseline tier, in every combination, so that an exception is
 * thrown in one tier and caught in the other, and an uncaught one leaves frames of both: a
 * throw in compiled code caught by an interpreted caller (it leaves its machine segment as a
 * status and is raised at the interpreter's call), a throw in the interpreter caught by a
 * compiled caller (the interpreter stub rethrows it at the machine caller's call), runtime
 * errors, out of memory (which no handler may catch, in any tier) and the depth limit
 * counted across the tiers. Every run must end as the interpreter ends it, trace included.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { ENOUGH_REPORTS, compareWithReference, seen, tiered, wentWrong, type TieredOutcome } from './support.ts';

type Tier = 'interpreter' | 'baseline' | 'optimized';

/** Every way to give each of `names` one of `tiers`. */
function combinations(names: readonly string[], tiers: readonly Tier[] = ['interpreter', 'baseline']): Record<string, Tier>[] {
  let all: Record<string, Tier>[] = [{}];
  for (const name of names) all = all.flatMap((partial) => tiers.map((tier) => ({ ...partial, [name]: tier })));
  return all;
}

const THREE_TIERS: readonly Tier[] = ['interpreter', 'baseline', 'optimized'];

/** Runs `source` with its functions' tiers fixed by `tiers` (no promotion by counters). */
function runWith(source: string, tiers: Record<string, Tier>): TieredOutcome {
  return tiered.runTiered(source, { tierUpCalls: 1_000_000_000, tierUpLoops: 1_000_000_000, tierOf: (name) => tiers[name] });
}

function describe(tiers: Record<string, Tier>): string {
  return Object.entries(tiers).map(([name, tier]) => `${name} ${tier}`).join(', ');
}

const THROWS = `fn inner(n) {
  if n == 0 {
    throw 7;
  }
  if n == 1 {
    return 10 / (n - 1);
  }
  return n;
}

fn middle(n) {
  return inner(n) + 1;
}

fn outer(n) {
  try {
    return middle(n);
  } catch e {
    return e * 100;
  }
}

fn uncaught(n) {
  return middle(n) * 2;
}

fn main() {
  let i = 0;
  while i < 4 {
    print(outer(i));
    i = i + 1;
  }
  try {
    print(uncaught(1));
  } catch e {
    print(e);
  }
  print(uncaught(0));
  return 0;
}
`;

check('a throw and a runtime error in one tier are caught in the other, and an uncaught one leaves a trace through both, in every combination of tiers', () => {
  const reports: string[] = [];
  let rethrown = 0;
  // outer has a try, which the optimizing tier leaves to the baseline tier.
  const all = combinations(['inner', 'middle'], THREE_TIERS).flatMap((some) => combinations(['main', 'outer', 'uncaught']).map((rest) => ({ ...some, ...rest })));
  let ran = 0;
  for (const tiers of all) {
    if (reports.length >= ENOUGH_REPORTS) break;
    ran++;
    const got = runWith(THROWS, tiers);
    const report = compareWithReference(`with ${describe(tiers)}`, THROWS, got);
    if (report !== null) reports.push(report);
    if (tiers.inner === 'interpreter' && tiers.middle !== 'interpreter') rethrown += got.stats.interpreterEntries - 1;
  }
  assert.ok(reports.length === 0, `${wentWrong(reports.length, ran, all.length, 'combinations')}; the first:\n\n${reports[0]}`);
  assert.ok(seen('compiled middle called interpreted inner at least 8 times', rethrown >= 8), `compiled middle called interpreted inner only ${rethrown} times in all: machine code must call a function still interpreted through its entry`);
}, { timeoutMs: 30000, emulatedTimeoutMs: 480000, hints: [
  'An exception that reaches a machine segment\'s entry record goes back to TypeScript as a status; the interpreter raises it at the call that entered the segment, its trace starting with the machine frames the unwinder walked.',
  'An exception that ends an interpreter run called from machine code comes back to the interpreter stub as pending: the stub rethrows it as if the machine caller\'s call had thrown (that call\'s return address is the throw\'s pc, callsLeft as after a return).',
  'The trace of an exception that crossed is the frames it left in each segment, innermost first, without the run\'s trampoline.',
] });

const OUT_OF_MEMORY = `fn alloc(n) {
  let a = new [int](n);
  return len(a);
}

fn guarded(n) {
  try {
    return alloc(n);
  } catch e {
    return -1;
  }
}

fn main() {
  print(guarded(10));
  print(guarded(100000000));
  return 0;
}
`;

check('out of memory is caught by no handler in any tier: the run ends with it, through interpreted and compiled frames alike', () => {
  const reports: string[] = [];
  for (const tiers of combinations(['main', 'alloc', 'guarded'])) { // both touch the heap: the optimizing tier declines them
    const got = runWith(OUT_OF_MEMORY, tiers);
    const report = compareWithReference(`with ${describe(tiers)}`, OUT_OF_MEMORY, got);
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${reports.length} of 8 combinations went wrong; the first:\n\n${reports[0]}`);
}, { timeoutMs: 60000, hints: [
  'Out of memory has no payload: in the interpreter no handler takes it, and a machine segment it crosses is ended by removing all its frames (their saved registers restored) and resuming at the entry stub, never at a landing pad.',
] });

const MUTUAL = `fn ping(n) {
  return pong(n + 1);
}

fn pong(n) {
  return ping(n + 1);
}

fn main() {
  try {
    ping(0);
  } catch e {
    print(e);
  }
  return ping(0);
}
`;

check('the depth limit counts the active calls of every tier: a recursion alternating between an interpreted and a compiled function overflows at the same call as in the interpreter', () => {
  const reports: string[] = [];
  const all = combinations(['ping', 'pong'], THREE_TIERS).flatMap((some) => combinations(['main']).map((rest) => ({ ...some, ...rest })));
  let ran = 0;
  for (const tiers of all) {
    if (reports.length >= ENOUGH_REPORTS) break;
    ran++;
    const got = runWith(MUTUAL, tiers);
    const report = compareWithReference(`with ${describe(tiers)}`, MUTUAL, got);
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${wentWrong(reports.length, ran, all.length, 'combinations')}; the first:\n\n${reports[0]}`);
}, { timeoutMs: 30000, emulatedTimeoutMs: 480000, hints: [
  'Entering machine code from the interpreter, callsLeft is the depth limit minus every call active in every segment, the callee included; entering the interpreter from machine code, the calls active outside the new run are the limit minus callsLeft.',
  'Interpreter runs nested between machine segments use TypeScript\'s own stack: past a bound, compile the function machine code calls, so that the recursion goes on in machine code.',
] });
