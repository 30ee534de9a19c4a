/**
 * Chapter 12, fourth part: when promotions happen, and what --trace-tiers says of them. The
 * thresholds are options with defaults fixed in code; with the defaults a short program
 * compiles nothing; a promotion takes effect at the function's next call (the counters say
 * how many calls it took); a hot loop moves to compiled code without waiting for a call.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { compareOutcome, programsUpTo } from '#harness/programs.ts';
import * as calls from '#native/libc-calls.ts';
import type { LibcCall } from '#native/libc-calls.ts';
import { chapterModule, seen, tiered } from './support.ts';
import { byKey } from './tools-support.ts';

const options = await chapterModule<typeof import('../../solutions/12-tiers-and-tools/options.ts')>('options.ts');
const hello = programsUpTo(11).find((p) => p.name === 'hello')!;

check('with the default thresholds, hello.jot compiles nothing, and the defaults are fixed numbers', () => {
  assert.ok(seen('DEFAULT_TIER_UP_CALLS is a whole number above 1', Number.isInteger(options.DEFAULT_TIER_UP_CALLS) && options.DEFAULT_TIER_UP_CALLS > 1), `DEFAULT_TIER_UP_CALLS is ${options.DEFAULT_TIER_UP_CALLS}`);
  assert.ok(seen('DEFAULT_TIER_UP_LOOPS is a whole number above 1', Number.isInteger(options.DEFAULT_TIER_UP_LOOPS) && options.DEFAULT_TIER_UP_LOOPS > 1), `DEFAULT_TIER_UP_LOOPS is ${options.DEFAULT_TIER_UP_LOOPS}`);
  const lines: string[] = [];
  const got = tiered.runTiered(hello.source, { traceTiers: (line) => lines.push(line) });
  // hello's own outcome, held to its file's expect lines (by the runner, when they are hidden here).
  const ending = { output: got.output, ...(got.error === undefined ? {} : { error: { kind: 'runtime' as const, message: got.error.message } }) };
  reportOutcome(hello.name, ending);
  const report = compareOutcome(hello, ending);
  assert.ok(report === null, report ?? '');
  assert.equal(seen('promotions of hello by default', got.promotions.length), 0, `hello.jot promoted ${got.promotions.map((p) => p.function).join(', ')}`);
  assert.equal(seen('trace lines of hello by default', lines), [], '--trace-tiers printed lines for a run that promoted nothing');
  assert.equal(seen('entries into machine code of hello by default', got.stats.machineEntries), 0, 'hello.jot entered machine code');
});

const CALLS = `fn square(x) {
  return x * x;
}

fn main() {
  let i = 0;
  let sum = 0;
  while i < 10 {
    sum = sum + square(i);
    i = i + 1;
  }
  print(sum);
  return 0;
}
`;

check('a function is promoted at its Nth call, and --trace-tiers prints the promotion once with its counters', () => {
  const lines: string[] = [];
  const got = tiered.runTiered(CALLS, { tierUpCalls: 4, tierUpLoops: 1_000_000, traceTiers: (line) => lines.push(line) });
  assert.equal(seen('output', got.output), ['285']);
  assert.equal(seen('promotions', got.promotions.map((p) => [p.function, p.from, p.to, p.calls])), [['square', 'interpreter', 'baseline', 4]]);
  assert.equal(seen('tiers', byKey(got.tiers)), { square: 'baseline', main: 'interpreter' });
  assert.equal(seen('trace lines', lines.length), 1, `--trace-tiers printed ${lines.length} lines:\n${lines.join('\n')}`);
  assert.ok(seen('the trace line names square, baseline and 4 calls', /square/.test(lines[0]!) && /baseline/.test(lines[0]!) && /\b4 calls\b/.test(lines[0]!)), `the trace line names the function, its new tier and its calls: ${lines[0]}`);
  assert.equal(seen('calls of square counted', got.counters.square!.calls), 10, 'every call of square counts, from the interpreter');
  assert.equal(seen('entries into machine code', got.stats.machineEntries), 7, 'calls 4…10 of square run its compiled code: 7 entries into machine code');
}, { hints: [
  'Count every call of an interpreted function (`tier_call`) and promote it when its count reaches --tier-up-calls: the call that reaches the threshold already runs the compiled code.',
  'After a promotion, the function\'s entry holds its compiled code: the interpreter enters machine code for it, and the count goes on.',
] });

const LOOP = `fn main() {
  let i = 0;
  let sum = 0;
  while i < 100000 {
    sum = sum + i % 7;
    i = i + 1;
  }
  print(sum);
  return 0;
}
`;

check('a hot loop moves to compiled code at its header while its function runs its first call (on-stack replacement)', () => {
  const lines: string[] = [];
  const got = tiered.runTiered(LOOP, { tierUpCalls: 1_000_000, tierUpLoops: 1000, tierUpOptimizedCalls: 1_000_000, traceTiers: (line) => lines.push(line) });
  assert.equal(seen('output', got.output), ['299995']);
  assert.equal(seen('calls of main', got.counters.main!.calls), 1);
  assert.equal(seen('tier of main', got.tiers.main), 'baseline', 'main should have been compiled after 1000 back edges');
  assert.equal(seen('on-stack replacements', got.stats.osrEntries), 1, 'main\'s loop should be entered once in compiled code, at its header');
  assert.equal(seen('back edges counted', got.counters.main!.loops), 1000, 'after on-stack replacement the loop runs in machine code: the interpreter counts no more back edges');
  assert.equal(seen('trace lines', lines.length), 1);
  assert.ok(seen('the trace line names main and 1000 back edges', /main/.test(lines[0]!) && /1000 back edges/.test(lines[0]!)), `the trace line names the function and its back edges: ${lines[0]}`);
}, { hints: [
  'A back edge is a `jump` whose target is at or before it: its target is a loop header. Count back edges; at --tier-up-loops, compile the function and enter its code at that header with the frame\'s slots.',
  'After the OSR entry the loop runs in machine code: the interpreter must not count its back edges again, and the function returns from the compiled code.',
] });

check('a baseline function\'s calls count down to the optimizing tier, which its next call takes', () => {
  const lines: string[] = [];
  const compiled: { name: string; tier: string; address: bigint; length: number }[] = [];
  const got = tiered.runTiered(CALLS, { tierUpCalls: 2, tierUpOptimizedCalls: 3, tierUpLoops: 1_000_000, traceTiers: (line) => lines.push(line), onCompiled: (code) => compiled.push(code) });
  assert.equal(seen('output', got.output), ['285']);
  assert.equal(seen('promotions', got.promotions.map((p) => [p.function, p.from, p.to, p.calls])), [['square', 'interpreter', 'baseline', 2], ['square', 'baseline', 'optimized', 4]]);
  assert.equal(seen('tier of square', got.tiers.square), 'optimized');
  assert.equal(seen('trace lines', lines.length), 2, `--trace-tiers printed:\n${lines.join('\n')}`);
  assert.ok(seen('the second trace line names square and optimized', /square/.test(lines[1]!) && /optimized/.test(lines[1]!)), `the second trace line names the optimizing tier: ${lines[1]}`);
  assert.equal(seen('compiled', compiled.map((c) => [c.name, c.tier])), [['square', 'baseline'], ['square', 'optimized']], 'onCompiled sees each compiled function once per tier');
  assert.ok(seen('each tier\'s code has bytes of its own', compiled.every((c) => c.length > 0) && compiled[1]!.address >= compiled[0]!.address + BigInt(compiled[0]!.length)), `the code of each tier has its own bytes: ${compiled.map((c) => `${c.name} ${c.tier} at 0x${c.address.toString(16)}, ${c.length} bytes`).join('; ')}`);
}, { hints: [
  'Baseline code counts its own calls down in the countdown word (a prologue decrement); at zero it calls the tier-up callback, which compiles the optimizing tier and writes the entry.',
] });

check('the thresholds and --trace-tiers come from the command line', () => {
  const { options: parsed, rest } = options.parseTierOptions(['hello.jot', '--tier-up-calls', '7', '--tier-up-loops', '9', '--tier-up-opt-calls', '11', '--trace-tiers', '--gc-stress']);
  assert.equal(seen('rest', rest), ['hello.jot', '--gc-stress']);
  assert.equal(seen('thresholds', [parsed.tierUpCalls, parsed.tierUpLoops, parsed.tierUpOptimizedCalls]), [7, 9, 11]);
  assert.is(seen('--trace-tiers gives', typeof parsed.traceTiers), 'function', '--trace-tiers gives a function that prints a line');
  let refusal: unknown;
  try {
    options.parseTierOptions(['--tier-up-calls', 'many']);
  } catch (error) {
    refusal = error;
  }
  assert.ok(seen('--tier-up-calls many is refused naming the option', refusal instanceof Error && /--tier-up-calls/.test(refusal.message)), `--tier-up-calls many should be refused with an error naming the option, but ${refusal === undefined ? 'nothing was thrown' : `got ${String(refusal)}`}`);
}, { hints: [
  'parseTierOptions takes --tier-up-calls, --tier-up-loops and --tier-up-opt-calls with a whole number each, --trace-tiers alone, leaves every other argument in `rest` in order, and refuses a value that is not a number, naming the option.',
] });

check('code compiled while the program runs is never writable and executable at once, and the instruction cache is flushed over it before it runs', () => {
  const events: LibcCall[] = [];
  const stop = calls.observeCalls((call) => events.push(call));
  let got: ReturnType<typeof tiered.runTiered>;
  try {
    got = tiered.runTiered(CALLS, { tierUpCalls: 2, tierUpOptimizedCalls: 3, tierUpLoops: 1_000_000 });
  } finally {
    stop();
  }
  assert.equal(seen('output', got.output), ['285']);
  const both = events.filter((e) => e.call === 'mprotect' && (e.prot & 2) !== 0 && (e.prot & 4) !== 0);
  assert.equal(seen('an mprotect asked for writable and executable at once', both.length > 0), false, 'an mprotect asked for writable and executable memory at once');
  // The code region: the memory made executable. Every write into it must be followed, before
  // the next write into it, by an mprotect making it executable again and a flush over the bytes.
  const executable = events.filter((e): e is Extract<LibcCall, { call: 'mprotect' }> => e.call === 'mprotect' && (e.prot & 4) !== 0);
  assert.ok(seen('made executable at least 3 times', executable.length >= 3), `the code was made executable ${executable.length} times: once for the stubs and once per promotion (2)`);
  const region = executable[0]!;
  const inRegion = (e: { address: bigint; length: number }) => e.address >= region.address && e.address + BigInt(e.length) <= region.address + BigInt(region.length);
  const writes = events.map((e, i) => [e, i] as const).filter(([e]) => e.call === 'write' && inRegion(e));
  assert.ok(seen('at least 3 writes into the code region', writes.length >= 3), `${writes.length} writes into the code region for the stubs and 2 promotions`);
  const unsealed: string[] = [];
  for (let k = 0; k < writes.length; k++) {
    const [write, at] = writes[k]!;
    const until = writes[k + 1]?.[1] ?? events.length;
    const after = events.slice(at + 1, until);
    const sealed = after.some((e) => e.call === 'mprotect' && (e.prot & 4) !== 0 && e.address <= write.address && e.address + BigInt(e.length) >= write.address + BigInt(write.length));
    const flushed = after.some((e) => e.call === 'flush' && e.address <= write.address && e.address + BigInt(e.length) >= write.address + BigInt(write.length));
    if (!sealed || !flushed) unsealed.push(`code written at 0x${write.address.toString(16)} (+${write.length}) was ${sealed ? '' : 'not made executable'}${!sealed && !flushed ? ' and ' : ''}${flushed ? '' : 'not flushed from the instruction cache'} before the next write`);
  }
  assert.ok(seen('every write into the code region was made executable and flushed before the next write', unsealed.length === 0), unsealed.slice(0, 3).join('\n'));
}, { hints: [
  'Append a promotion\'s code with the region writable and not executable (unseal), then seal it again: mprotect to read+execute and flush the instruction cache over what was written.',
] });

const RECURSION = `fn fib(n) {
  if n < 2 {
    return n;
  }
  return fib(n - 1) + fib(n - 2);
}

fn main() {
  print(fib(22));
  return 0;
}
`;

check('a recursive function promoted to the optimizing tier takes the new code at its next call, even from inside its old code', () => {
  const got = tiered.runTiered(RECURSION, { tierUpCalls: 1, tierUpOptimizedCalls: 5, tierUpLoops: 1_000_000 });
  assert.equal(seen('output', got.output), ['17711']);
  assert.equal(seen('tier of fib', got.tiers.fib), 'optimized');
  assert.equal(seen('calls of fib counted by the interpreter', got.counters.fib!.calls), 1, 'main calls fib once; the rest are calls of compiled code');
  assert.equal(seen('runs of fib\'s baseline code', got.counters.fib!.baselineCalls), 5, `fib's baseline code ran ${got.counters.fib!.baselineCalls} times: from the 6th call on, every call (the recursive ones inside the baseline code too) goes through the entry table to the optimized code`);
}, { hints: [
  'A call from compiled code to any function, itself included, goes through the callee\'s entry in the table (its dispatch stub), never straight to the code it had when the caller was compiled.',
] });

const LOOPS = `fn work(n) {
  let i = 0;
  let s = 0;
  while i < n {
    s = s + i;
    i = i + 1;
  }
  return s;
}

fn main() {
  print(work(1000));
  print(work(1000));
  print(work(1000));
  return 0;
}
`;

check('the back edges of a loop in baseline code count down to the optimizing tier too: the running call moves to the optimized code at the loop header, the next calls take it from the start', () => {
  const lines: string[] = [];
  const got = tiered.runTiered(LOOPS, { tierUpCalls: 1, tierUpOptimizedCalls: 100, tierUpLoops: 1_000_000, traceTiers: (line) => lines.push(line) });
  assert.equal(seen('output', got.output), ['499500', '499500', '499500']);
  // First the loop's OSR variant (the running call needs only it), then the function's own code at its next call.
  assert.equal(seen('promotions of work', got.promotions.filter((p) => p.function === 'work').map((p) => [p.to, p.osrAt])), [['baseline', undefined], ['optimized', 10], ['optimized', undefined]]);
  assert.equal(seen('calls and back edges counted by work\'s baseline code', got.counters.work!.baselineCalls), 101, `work's baseline code counted ${got.counters.work!.baselineCalls} calls and back edges: its first call (1 call + 99 back edges) moves to the optimized code at the back edge that takes the countdown to zero, the second call's prologue (1) moves it to the optimized code from the start, and the third call runs the optimized code`);
  assert.equal(seen('moves from a baseline frame to the optimized code', got.stats.osrOptimizedFromBaseline), 1, 'the first call of work should move from its baseline frame to the optimized code once, at the loop header');
  assert.ok(seen('a trace line says where the baseline frame moved', lines.some((line) => /work/.test(line) && /baseline frame/.test(line) && /loop header/.test(line))), `--trace-tiers says where the baseline frame moved:\n${lines.join('\n')}`);
});
