/**
 * Chapter 12: the REPL, by scripted sessions. Each session is a list of inputs and the lines
 * each must show, fed to the REPL's evaluator (or, for the terminal's part, as a stream of
 * lines, as stdin gives them). Functions that `:jit` sends to a compiled tier run as machine
 * code on this worker's architecture, and must agree with the interpreter.
 *
 * A session keeps one tiered VM: the checks observe it (`sessionVm`: each function's tier,
 * counters and the address of its latest code) to prove what stays and what goes when a
 * function is redefined, and trace the session's code writes (W^X, instruction cache).
 *
 * What each input showed is reported (check.ts reportOutcome: the lines an input must show
 * exactly, or whether they matched the pattern they must match), and so is what the checks
 * require of the session (each function's tier, counters and slot, the last run's tiers, yes
 * or no for code kept or compiled anew and for the rules of code writes; never an address or
 * a time), for graded work to be held to the reference's run outside the process that ran
 * the code.
 */
import * as assert from 'uvu/assert';
import { PassThrough, Readable } from 'node:stream';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import * as calls from '#native/libc-calls.ts';
import type { LibcCall } from '#native/libc-calls.ts';
import { seen } from './support.ts';
import { byKey, chapterModule, vmModules } from './tools-support.ts';

type SessionModule = typeof import('../../solutions/12-tiers-and-tools/repl-session.ts');
type TerminalModule = typeof import('../../solutions/12-tiers-and-tools/repl.ts');
type CompiledCode = import('../../solutions/12-tiers-and-tools/options.ts').CompiledCode;

const repl = await learnerCode(chapterModule<SessionModule>('repl-session.ts'));
const terminal = await learnerCode(chapterModule<TerminalModule>('repl.ts'));
const vm = await learnerCode(vmModules());

/** The sessions made so far: each new one unmaps the VMs of the earlier ones (one check, one session). */
const sessions: InstanceType<typeof repl.ReplSession>[] = [];

/** Feeds `steps` (input, then the lines it must show) to a new session. */
function session(steps: readonly (readonly [string, readonly string[] | RegExp])[], options: ConstructorParameters<typeof repl.ReplSession>[1] = {}) {
  for (const earlier of sessions.splice(0)) earlier.dispose();
  const s = new repl.ReplSession(vm, options);
  sessions.push(s);
  const transcript: string[] = [];
  for (const [step, [input, expected]] of steps.entries()) {
    const shown = s.evaluate(input);
    transcript.push(...input.split('\n').map((line, i) => `${i === 0 ? 'jot> ' : '...> '}${line}`), ...shown);
    const context = `after this session:\n${transcript.join('\n')}`;
    const what = `input ${step + 1} of the session, ${input.split('\n')[0]}`;
    reportOutcome(what, { output: expected instanceof RegExp ? [expected.test(shown.join('\n')) ? 'as its pattern says' : 'not as its pattern says'] : shown });
    if (expected instanceof RegExp) assert.match(shown.join('\n'), expected, context);
    else assert.equal(shown, [...expected], context);
  }
  return s;
}

/** What `s` shows for `input`, reported: only where a check requires those lines exactly (never timings, addresses or code). */
function shownBy(s: InstanceType<typeof repl.ReplSession>, input: string): string[] {
  const shown = s.evaluate(input);
  reportOutcome(`then ${input.split('\n')[0]}`, { output: shown });
  return shown;
}

/**
 * Asserts that `text` matches `pattern`, and reports under `what` whether it did: where correct
 * solutions show different addresses, timings or code, the pattern is what they have in common.
 */
function assertMatches(what: string, text: string, pattern: RegExp, message: string = text): void {
  seen(what, pattern.test(text) ? 'as its pattern says' : 'not as its pattern says');
  assert.match(text, pattern, message);
}

/** Whether two functions' code is the same code: the same function, tier, address and length. */
function sameCode(a: CompiledCode | undefined, b: CompiledCode | undefined): boolean {
  return a !== undefined && b !== undefined && a.name === b.name && a.tier === b.tier && a.address === b.address && a.length === b.length;
}

const SUM_OF_SQUARES = `fn sum_of_squares(n) {
  let s = 0;
  while n > 0 {
    s = s + square(n);
    n = n - 1;
  }
  return s;
}`;

check('a session defines functions, runs statements, keeps variables and prints expressions', () => {
  session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    ['let k = square(12);', []],
    ['k + 1', ['145']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    ['sum_of_squares(10)', ['385']],
    ['k = k * 2; print(k);', ['288']],
    ['k', ['288']],
    ['let big = k > 100;', []],
    ['big && k == 288', ['true']],
    ['{ let inner = 5; print(inner + k); }', ['293']],
  ]);
}, { hints: [
  'Each input runs as a whole program: the declarations, then a main that declares the kept variables with their values, runs the input, and prints every variable back.',
] });

check('a redefinition with a new signature type-checks the callers again, and redefining the caller heals it', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':jit sum_of_squares', /^sum_of_squares: optimizing tier/],
    ['fn square(n: bool): bool { return !n; }', /^redefined \(was fn square\(n\)\) fn square\(n: bool\): bool\nsum_of_squares no longer type-checks: 4:\d+: argument 1 of 'square' must be bool, found int.*\n\(sum_of_squares's optimized code is dropped: it is set aside until it type-checks again\)$/],
    ['sum_of_squares(3)', /^error: 1:\d+: .*sum_of_squares.*no longer type-checks/],
    ['square(false)', ['true']],
  ]);
  assert.is(seen('the VM\'s tier of sum_of_squares while it does not type-check', s.sessionVm?.tierOf('sum_of_squares')), undefined, 'the VM still holds the sum_of_squares that no longer type-checks');
  assert.equal(shownBy(s, 'fn square(n) { return n * n * 2; }'), ['redefined (was fn square(n: bool): bool) fn square(n)', 'sum_of_squares type-checks again']);
  assert.is(seen('the VM\'s tier of sum_of_squares once it type-checks again', s.sessionVm?.tierOf('sum_of_squares')), 'optimized', 'sum_of_squares, held by :jit, is compiled again once it type-checks');
  assert.equal(shownBy(s, 'sum_of_squares(3)'), ['28']);
}, { hints: [
  'After a redefinition, compile every declaration again: an error inside another function sets that function aside (say why) instead of refusing the new definition.',
] });

check('errors in an input point into the input, and the session goes on', () => {
  session([
    ['fn div(a, b) { return a / b; }', ['defined fn div(a, b)']],
    ['let x = 1 + true;', [`error: 1:11: '+' needs int operands, found int and bool`]],
    ['print(div(7, 0));', /^runtime error: division by zero at line 1 of div/],
    ['fn main() { return 0; }', /^error: main is the REPL's own/],
    ['div(7, 2)', ['3']],
  ]);
});

check(':jit sends a function to a compiled tier; it runs as machine code and agrees with the interpreter', (t) => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    ['sum_of_squares(1000)', ['333833500']],
    [':jit sum_of_squares', new RegExp(`^sum_of_squares: optimizing tier, 0x[0-9a-f]+ bytes of ${t.arch} code$`)],
    [':jit square baseline', new RegExp(`^square: baseline tier, 0x[0-9a-f]+ bytes of ${t.arch} code$`)],
    ['sum_of_squares(1000)', ['333833500']],
    ['sum_of_squares(-5) + square(-9223372036854775807 - 1)', ['0']],
  ]);
  assert.is(seen('the tier :jit holds sum_of_squares in', s.tierOf('sum_of_squares')), 'opt');
  assert.is(seen('the tier :jit holds square in', s.tierOf('square')), 'baseline');
  assert.equal(seen('the last run', byKey(s.lastRun)), { how: 'tiered', tiers: { square: 'baseline', sum_of_squares: 'optimized', main: 'interpreter' } }, 'the last input ran with each function in the tier :jit gave it (main, not held, stayed in the interpreter)');
});

check(':disasm shows the machine code with the compiler\'s comments beside capstone\'s disassembly', (t) => {
  const shown = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [':disasm square', /^square: baseline tier/],
  ]).evaluate(':disasm square opt');
  const text = shown.join('\n');
  assertMatches(':disasm square opt names the tier, the size and the architecture', text, new RegExp(`^square: optimizing tier, 0x[0-9a-f]+ bytes of ${t.arch} code`));
  assertMatches(':disasm square opt heads the function\'s code with its name', text, /== square ==/);
  const multiply = t.arch === 'x64' ? /\bimul\b/ : /\bmul\b/;
  assertMatches(':disasm square opt shows a multiplication', text, multiply, `the optimizing tier's square multiplies: ${text}`);
  assert.ok(seen(':disasm square opt has a line with offset, bytes, instruction and a comment', shown.some((line) => /^[0-9a-f]{4}  ([0-9a-f]{2} )+ *\S.*; \S/.test(line))), `no line with offset, bytes, instruction and a comment:\n${text}`);
}, { hints: [
  ':disasm compiles the function in the tier asked for and lists each instruction with its offset, its bytes, capstone\'s text and the compiler\'s comment for that offset.',
] });

check(':bytecode and :ir show the function\'s code in chapter 06\'s and chapter 08\'s forms', () => {
  const s = session([['fn twice(n) { return n + n; }', ['defined fn twice(n)']]]);
  assert.equal(shownBy(s, ':bytecode twice'), ['== twice (params 1, locals 1, max stack 2) ==', '0000     1  load 0', '0002     |  load 0', '0004     |  add', '0005     |  ret']);
  const ir = s.evaluate(':ir twice').join('\n');
  assertMatches(':ir twice names the pass and the function\'s signature', ir, /^;; twice after \w+\nfunction twice\(p0: int\): int \{/);
  assertMatches(':ir twice adds two values', ir, /= add v\d+, v\d+/);
}, { hints: [
  ':bytecode prints chapter 06\'s listing of the function as the session compiled it; :ir builds and optimizes it with chapter 08 and prints the IR.',
] });

check(':time runs an expression in the interpreter, both compiled tiers and tiered, and shows each time; they agree', () => {
  const s = session([['fn square(n) { return n * n; }', ['defined fn square(n)']], [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']]]);
  const shown = s.evaluate(':time sum_of_squares(20000)');
  assert.is(seen('lines :time shows', shown.length), 6, shown.join('\n'));
  assertMatches(':time\'s heading', shown[0]!, /tier\s+compile\s+run\s+total/);
  for (const [i, tier] of ['interp', 'baseline', 'opt', 'tiered'].entries()) assertMatches(`:time's row of ${tier}`, shown[i + 1]!, new RegExp(`^${tier}\\s+\\d+\\.\\d\\d ms\\s+\\d+\\.\\d\\d ms\\s+\\d+\\.\\d\\d ms$`), shown.join('\n'));
  assert.is(seen(':time\'s value', shown[5]), '2666866670000', shown.join('\n'));
});

/** Thresholds the sessions below count against, whatever the defaults are tuned to. */
const COUNTED = { tierUpCalls: 1000, tierUpLoops: 5000, tierUpOptimizedCalls: 10000 };

check('inputs run tiered: a function called often enough moves to compiled code within the run, and the result agrees', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':trace on', [`the tiered VM's promotions are shown`]],
    ['sum_of_squares(10)', ['385']],
    ['sum_of_squares(1500)', ['[tiers] square: interpreter → baseline after 1000 calls and 0 back edges', '1126125250']],
    ['fn square(n) { return n * n * 3; }', ['redefined fn square(n)', `(square's baseline code is dropped: it starts again in the interpreter)`]],
    ['sum_of_squares(1500)', ['[tiers] square: interpreter → baseline after 1000 calls and 0 back edges', '3378375750']],
  ], { thresholds: COUNTED }); // sum_of_squares's 3010 back edges keep it interpreted
  assert.equal(seen('the last run', byKey(s.lastRun)), { how: 'tiered', tiers: { square: 'baseline', sum_of_squares: 'interpreter', main: 'interpreter' } }, 'the last input ran tiered, square promoted to the baseline tier');
}, { hints: [
  'Without :jit, each input runs in chapter 12\'s tiered VM; with :trace on its promotions come before the output.',
  'A redefined function starts again in the interpreter with its counters at zero: its entry back at its interpreter stub.',
] });

// ── one VM for the whole session ─────────────────────────────────────────────────────

/** The sum of the squares of 1 … 400. */
const SQUARES_TO_400 = '21413400';

check('the session keeps one VM: counters go on from input to input, so a function called in three inputs tiers up in the third', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':trace on', [`the tiered VM's promotions are shown`]],
    ['sum_of_squares(400)', [SQUARES_TO_400]],
    ['sum_of_squares(400)', [SQUARES_TO_400]],
    ['sum_of_squares(400)', ['[tiers] square: interpreter → baseline after 1000 calls and 0 back edges', '21413400']],
    ['sum_of_squares(400)', [SQUARES_TO_400]],
  ], { thresholds: COUNTED });
  assert.is(seen('the VM\'s tier of square', s.sessionVm?.tierOf('square')), 'baseline', 'square stays in the baseline tier for the inputs after');
  assert.is(seen('back edges of sum_of_squares', s.sessionVm?.countersOf('sum_of_squares')?.loops), 1600, 'sum_of_squares\'s back edges, counted over four inputs');
}, { hints: [
  'Make the tiered VM once for the session and load each input\'s program into it (session-vm.ts): an unchanged function keeps its slot, its counters and its code.',
] });

check('an optimized caller calls a redefined callee through the entry table: it sees the new body without being compiled again', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':jit sum_of_squares', /^sum_of_squares: optimizing tier, 0x[0-9a-f]+ bytes/],
    [':jit square baseline', /^square: baseline tier, 0x[0-9a-f]+ bytes/],
    ['sum_of_squares(10)', ['385']],
  ]);
  const caller = s.sessionVm!.codeOf('sum_of_squares');
  const callee = s.sessionVm!.codeOf('square');
  assert.ok(seen('the VM compiled sum_of_squares and square', caller !== undefined && callee !== undefined), 'the VM compiled sum_of_squares and square');
  assert.equal(shownBy(s, 'fn square(n) { return n * n * 3; }'), ['redefined fn square(n)', `(square's baseline code is dropped: compiled again in the baseline tier, as :jit holds it)`]);
  assert.equal(shownBy(s, 'sum_of_squares(10)'), ['1155'], 'the optimized sum_of_squares called the old square');
  assert.ok(seen('sum_of_squares kept its code', sameCode(s.sessionVm!.codeOf('sum_of_squares'), caller)), 'sum_of_squares was compiled again: its code did not depend on square\'s body');
  assert.ok(seen('square\'s new body has new code', s.sessionVm!.codeOf('square')?.address !== callee!.address), 'square\'s new body has new code');
  assert.equal(seen('the last run', byKey(s.lastRun)), { how: 'tiered', tiers: { square: 'baseline', sum_of_squares: 'optimized', main: 'interpreter' } });
  // Back to the interpreter: the caller's machine code now calls an interpreted function.
  assert.equal(shownBy(s, ':jit square interp'), ['square: held in the interpreter']);
  assert.equal(shownBy(s, 'fn square(n) { return n + 1; }'), ['redefined fn square(n)']);
  assert.equal(shownBy(s, 'sum_of_squares(10)'), ['65']);
  assert.equal(seen('the last run, square interpreted', byKey(s.lastRun)), { how: 'tiered', tiers: { square: 'interpreter', sum_of_squares: 'optimized', main: 'interpreter' } });
}, { hints: [
  'A redefinition writes the function\'s entry back to its interpreter stub: compiled callers call through the dispatch stub, so they need no new code.',
] });

check('an optimized caller that calls an optimized callee straight is dropped with it when the callee is redefined, and runs the new body', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':jit square', /^square: optimizing tier/],
    [':jit sum_of_squares', /^sum_of_squares: optimizing tier/],
    ['sum_of_squares(10)', ['385']],
  ]);
  const caller = s.sessionVm!.codeOf('sum_of_squares')!;
  assert.equal(shownBy(s, 'fn square(n) { return n * n * 3; }'), [
    'redefined fn square(n)',
    `(square's optimized code is dropped: compiled again in the optimized tier, as :jit holds it)`,
    `(sum_of_squares's optimized code is dropped (it called square's optimized code straight): compiled again in the optimized tier, as :jit holds it)`,
  ]);
  assert.ok(seen('sum_of_squares has new code', s.sessionVm!.codeOf('sum_of_squares')?.address !== caller.address), 'sum_of_squares kept code that calls the old square straight');
  assert.equal(shownBy(s, 'sum_of_squares(10)'), ['1155'], 'the optimized sum_of_squares called the old square');
  assert.equal(seen('the last run', byKey(s.lastRun)), { how: 'tiered', tiers: { square: 'optimized', sum_of_squares: 'optimized', main: 'interpreter' } });
}, { hints: [
  'Optimized code may call another function\'s optimized code straight, past the entry table: a redefinition of the callee must drop (or patch) every such caller, and theirs in turn.',
] });

check('a signature change drops the compiled code of the callers that still type-check, and a held one is compiled again at once', () => {
  const s = session([
    ['fn twice(n) { return n + n; }', ['defined fn twice(n)']],
    ['fn use(n) {\n  twice(n);\n  return n + 1;\n}', ['defined fn use(n)']],
    ['fn spin(n) {\n  let i = 0;\n  while i < n {\n    twice(i);\n    i = i + 1;\n  }\n  return i;\n}', ['defined fn spin(n)']],
    [':jit use', /^use: optimizing tier/],
    [':jit spin baseline', /^spin: baseline tier/],
    ['use(4) + spin(3)', ['8']],
  ]);
  const before = s.sessionVm!.codeOf('use')!;
  assert.equal(shownBy(s, 'fn twice(n): bool { return n > 0; }'), [
    'redefined (was fn twice(n)) fn twice(n): bool',
    `(use's optimized code is dropped (it calls twice, whose signature changed): compiled again in the optimized tier, as :jit holds it)`,
    `(spin's baseline code is dropped (it calls twice, whose signature changed): compiled again in the baseline tier, as :jit holds it)`,
  ]);
  assert.ok(seen('use has new code', s.sessionVm!.codeOf('use')?.address !== before.address), 'use was not compiled again');
  assert.equal(shownBy(s, 'use(5) + spin(4)'), ['10']);
  assert.equal(shownBy(s, ':jit use auto'), ['use: tiered again (it moves on from its tier when hot)']);
  assert.equal(shownBy(s, 'fn twice(n): bool { return n < 0; }'), ['redefined fn twice(n): bool']);
  assert.is(seen('the VM\'s tier of use', s.sessionVm!.tierOf('use')), 'optimized', 'a redefinition that kept twice\'s signature left its caller\'s code alone');
}, { hints: [
  'A function whose bytecode did not change but which calls a function whose signature changed goes back to the interpreter too: its code assumed the old types.',
] });

const COUNT = (step: string) => `fn count(n) {
  let i = 0;
  let s = 0;
  while i < n {
    s = s + ${step};
    i = i + 1;
  }
  return s;
}`;

check('a redefined function whose loop reached compiled code in its middle runs its new body: no entry into the old code at a loop header is kept', () => {
  const s = session([
    [COUNT('i'), ['defined fn count(n)']],
    [':trace on', [`the tiered VM's promotions are shown`]],
    ['count(20000)', /\n199990000$/],
    [COUNT('i * 2'), /^redefined fn count\(n\)\n\(count's (baseline|optimized) code is dropped: it starts again in the interpreter\)$/],
    ['count(20000)', /\n399980000$/],
    ['count(20000)', /^(\[tiers\] count: baseline → optimized after 2 calls and 200 back edges\n)?399980000$/],
  ], { thresholds: { tierUpCalls: 1000, tierUpLoops: 200, tierUpOptimizedCalls: 300 } });
  assert.is(seen('the VM\'s tier of count', s.sessionVm?.tierOf('count')), 'optimized', 'count reached the optimizing tier again');
}, { hints: [
  'A redefinition forgets every entry into the old code: the function\'s entry, and its entries at loop headers (on-stack replacement) in every compiled tier.',
] });

check('a function held in a tier stays there, with the same code, through later inputs and other definitions', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [':jit square baseline', /^square: baseline tier/],
  ]);
  const code = s.sessionVm!.codeOf('square');
  for (let i = 0; i < 3; i++) assert.equal(shownBy(s, `square(${i + 7})`), [String((i + 7) ** 2)]);
  assert.equal(shownBy(s, 'fn cube(n) { return n * square(n); }'), ['defined fn cube(n)']);
  assert.equal(shownBy(s, 'cube(3) + square(2)'), ['31']);
  assert.equal(shownBy(s, ':forget cube'), ['forgot cube']);
  assert.ok(seen('square kept its code', sameCode(s.sessionVm!.codeOf('square'), code)), 'square was compiled again (or dropped) though nothing it depends on changed');
  assert.is(seen('the VM\'s tier of square', s.sessionVm!.tierOf('square')), 'baseline');
});

check('the session\'s VM grows: past its slots a bigger VM takes its place, and every function keeps its tier and its counters', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':jit sum_of_squares', /^sum_of_squares: optimizing tier/],
    ['sum_of_squares(700)', ['114578450']],
    ['fn cube(n) { return n * square(n); }', ['defined fn cube(n)']],
    ['fn quad(n) { return square(square(n)); }', ['defined fn quad(n)', `(the session's VM grows: a bigger one takes its place, more functions than its 4 slots; each function keeps its tier and counters)`]],
  ], { capacity: 4, thresholds: COUNTED });
  assert.is(seen('the slot of quad', s.sessionVm?.slotOf('quad')), 4, 'slots: main 0, then the functions in the order they were first defined');
  assert.is(seen('the VM\'s tier of sum_of_squares', s.sessionVm?.tierOf('sum_of_squares')), 'optimized');
  assert.equal(seen('the counters of square', byKey(s.sessionVm?.countersOf('square'))), { calls: 700, loops: 0 }, 'square\'s counters in the bigger VM');
  assert.equal(shownBy(s, ':trace on'), [`the tiered VM's promotions are shown`]);
  assert.equal(shownBy(s, 'sum_of_squares(300) + quad(3) + cube(2)'), ['[tiers] square: interpreter → baseline after 1000 calls and 0 back edges', '9045139']);
}, { hints: [
  'When the program has more functions than the VM has slots, make a VM with twice the slots and compile each unchanged function in it in the tier it had, with its counters.',
] });

/** Problems with the code writes of `events`: writable and executable at once, or written code not sealed and flushed before the next write. */
function codeWriteProblems(events: readonly LibcCall[]): string[] {
  const problems: string[] = [];
  if (events.some((e) => e.call === 'mprotect' && (e.prot & 2) !== 0 && (e.prot & 4) !== 0)) problems.push('an mprotect asked for writable and executable memory at once');
  const executable = events.filter((e): e is Extract<LibcCall, { call: 'mprotect' }> => e.call === 'mprotect' && (e.prot & 4) !== 0);
  const regionOf = (e: { address: bigint; length: number }) => executable.find((x) => e.address >= x.address && e.address + BigInt(e.length) <= x.address + BigInt(x.length));
  const covers = (e: { address: bigint; length: number }, w: { address: bigint; length: number }) => e.address <= w.address && e.address + BigInt(e.length) >= w.address + BigInt(w.length);
  const writes = events.map((e, i) => [e, i] as const).filter(([e]) => e.call === 'write' && regionOf(e) !== undefined);
  for (const [k, [write, at]] of writes.entries()) {
    const region = regionOf(write)!;
    const next = writes.slice(k + 1).find(([e]) => regionOf(e) === region)?.[1] ?? events.length;
    const after = events.slice(at + 1, next);
    const sealed = after.some((e) => e.call === 'mprotect' && (e.prot & 4) !== 0 && covers(e, write));
    const flushed = after.some((e) => e.call === 'flush' && covers(e, write));
    if (!sealed || !flushed) problems.push(`code written at 0x${write.address.toString(16)} (+${write.length}) was${sealed ? '' : ' not made executable'}${flushed ? '' : ' not flushed from the instruction cache'} before the next write`);
  }
  return problems;
}

check('a session\'s code writes (promotions, redefinitions, :jit) keep W^X and flush the instruction cache', () => {
  const events: LibcCall[] = [];
  const stop = calls.observeCalls((call) => events.push(call));
  let compiled = 0;
  try {
    const s = session([
      ['fn square(n) { return n * n; }', ['defined fn square(n)']],
      [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
      [':jit sum_of_squares', /^sum_of_squares: optimizing tier/],
      ['sum_of_squares(1200)', ['576720200']],
      ['fn square(n) { return n * n * 2; }', ['redefined fn square(n)', `(square's baseline code is dropped: it starts again in the interpreter)`]],
      [':jit square opt', /^square: optimizing tier/],
      ['sum_of_squares(3)', ['28']],
    ], { thresholds: COUNTED });
    compiled = ['square', 'sum_of_squares'].filter((name) => s.sessionVm!.codeOf(name) !== undefined).length;
  } finally {
    stop();
  }
  assert.is(seen('functions the VM compiled', compiled), 2);
  const writes = events.filter((e) => e.call === 'write').length;
  assert.ok(seen('at least 4 writes of code', writes >= 4), `only ${writes} writes: the stubs, sum_of_squares, square in the baseline tier and in the optimizing tier`);
  const problems = codeWriteProblems(events);
  assert.ok(seen('every code write kept W^X and was made executable and flushed before the next', problems.length === 0), problems.slice(0, 3).join('\n'));
}, { hints: [
  'Every compile in the session appends to the one code region: unseal it, write, seal it again (mprotect to read+execute and a flush over the bytes).',
] });

check('a scripted session on a stream of lines, as stdin gives them, prints only what the inputs show; an open block or parenthesis continues on the next line', async () => {
  const complete = (input: string) => {
    const answer = repl.inputIsComplete(input);
    reportOutcome(`is ${JSON.stringify(input)} complete`, { output: [String(answer)] });
    return answer;
  };
  assert.is(complete('fn f(n) {'), false);
  assert.is(complete('fn f(n) {\n  if n > 0 { // {'), false);
  assert.is(complete('fn f(n) {\n  return n;\n}'), true);
  assert.is(complete('print(f(1,'), false);
  assert.is(complete('print(1);'), true);
  const lines = ['fn fact(n) {', '  if n <= 1 {', '    return 1;', '  }', '  return n * fact(n - 1);', '}', 'fact(20)', ':jit fact', 'fact(20)', 'let r = fact(', '5)', 'r', ':quit', 'print(99);'];
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await terminal.startRepl(vm, { arch: process.arch as 'x64' | 'arm64', input: Readable.from(lines.map((l) => `${l}\n`)), output });
  const shown = text.split('\n').filter((l) => l !== '');
  reportOutcome('the session on stdin, what it showed but :jit\'s line', { output: [shown[0] ?? '', shown[1] ?? '', ...shown.slice(3)] });
  reportOutcome('the session on stdin, :jit\'s line names the optimizing tier', { output: [String(/^fact: optimizing tier/.test(shown[2] ?? ''))] });
  assert.is(shown[0], 'defined fn fact(n)', text);
  assert.is(shown[1], '2432902008176640000', text);
  assert.match(shown[2]!, /^fact: optimizing tier/, text);
  assert.equal(shown.slice(3), ['2432902008176640000', '120'], `after :quit nothing more runs:\n${text}`);
});
