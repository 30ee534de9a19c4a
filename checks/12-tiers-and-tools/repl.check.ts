/**
 * Chapter 12: the REPL, by scripted sessions. Each session is a list of inputs and the lines
 * each must show, fed to the REPL's evaluator (or, for the terminal's part, as a stream of
 * lines, as stdin gives them). Functions that `:jit` sends to a compiled tier run as machine
 * code on this worker's architecture, and must agree with the interpreter.
 */
import * as assert from 'uvu/assert';
import { PassThrough, Readable } from 'node:stream';
import { check, learnerCode } from '#harness/check.ts';
import { chapterModule, vmModules } from './tools-support.ts';

type SessionModule = typeof import('../../solutions/12-tiers-and-tools/repl-session.ts');
type TerminalModule = typeof import('../../solutions/12-tiers-and-tools/repl.ts');

const repl = await learnerCode(chapterModule<SessionModule>('repl-session.ts'));
const terminal = await learnerCode(chapterModule<TerminalModule>('repl.ts'));
const vm = await learnerCode(vmModules());

/** Feeds `steps` (input, then the lines it must show) to a new session. */
function session(steps: readonly (readonly [string, readonly string[] | RegExp])[]) {
  const s = new repl.ReplSession(vm);
  const transcript: string[] = [];
  for (const [input, expected] of steps) {
    const shown = s.evaluate(input);
    transcript.push(...input.split('\n').map((line, i) => `${i === 0 ? 'jot> ' : '...> '}${line}`), ...shown);
    const context = `after this session:\n${transcript.join('\n')}`;
    if (expected instanceof RegExp) assert.match(shown.join('\n'), expected, context);
    else assert.equal(shown, [...expected], context);
  }
  return s;
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
  session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    ['fn square(n: bool): bool { return !n; }', /redefined \(was fn square\(n\)\) fn square\(n: bool\): bool\nsum_of_squares no longer type-checks: 4:\d+: argument 1 of 'square' must be bool, found int/],
    ['sum_of_squares(3)', /^error: 1:\d+: .*sum_of_squares.*no longer type-checks/],
    ['square(false)', ['true']],
    ['fn square(n) { return n * n * 2; }', /redefined \(was fn square\(n: bool\): bool\) fn square\(n\)\nsum_of_squares type-checks again/],
    ['sum_of_squares(3)', ['28']],
  ]);
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
  assert.is(s.tierOf('sum_of_squares'), 'opt');
  assert.is(s.tierOf('square'), 'baseline');
  assert.equal(s.lastRun, { how: 'tiered', tiers: { square: 'baseline', sum_of_squares: 'optimized', main: 'interpreter' } }, 'the last input ran with each function in the tier :jit gave it (main, not held, stayed in the interpreter)');
});

check(':disasm shows the machine code with the compiler\'s comments beside capstone\'s disassembly', (t) => {
  const shown = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [':disasm square', /^square: baseline tier/],
  ]).evaluate(':disasm square opt');
  const text = shown.join('\n');
  assert.match(text, new RegExp(`^square: optimizing tier, 0x[0-9a-f]+ bytes of ${t.arch} code`), text);
  assert.match(text, /== square ==/, text);
  const multiply = t.arch === 'x64' ? /\bimul\b/ : /\bmul\b/;
  assert.match(text, multiply, `the optimizing tier's square multiplies: ${text}`);
  assert.ok(shown.some((line) => /^[0-9a-f]{4}  ([0-9a-f]{2} )+ *\S.*; \S/.test(line)), `no line with offset, bytes, instruction and a comment:\n${text}`);
});

check(':bytecode and :ir show the function\'s code in chapter 06\'s and chapter 08\'s forms', () => {
  const s = session([['fn twice(n) { return n + n; }', ['defined fn twice(n)']]]);
  assert.equal(s.evaluate(':bytecode twice'), ['== twice (params 1, locals 1, max stack 2) ==', '0000     1  load 0', '0002     |  load 0', '0004     |  add', '0005     |  ret']);
  const ir = s.evaluate(':ir twice').join('\n');
  assert.match(ir, /^;; twice after \w+\nfunction twice\(p0: int\): int \{/, ir);
  assert.match(ir, /= add v\d+, v\d+/, ir);
});

check(':time runs an expression in the interpreter, both compiled tiers and tiered, and shows each time; they agree', () => {
  const s = session([['fn square(n) { return n * n; }', ['defined fn square(n)']], [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']]]);
  const shown = s.evaluate(':time sum_of_squares(20000)');
  assert.is(shown.length, 6, shown.join('\n'));
  assert.match(shown[0]!, /tier\s+compile\s+run\s+total/);
  for (const [i, tier] of ['interp', 'baseline', 'opt', 'tiered'].entries()) assert.match(shown[i + 1]!, new RegExp(`^${tier}\\s+\\d+\\.\\d\\d ms\\s+\\d+\\.\\d\\d ms\\s+\\d+\\.\\d\\d ms$`), shown.join('\n'));
  assert.is(shown[5], '2666866670000', shown.join('\n'));
});

check('inputs run tiered: a function called often enough moves to compiled code within the run, and the result agrees', () => {
  const s = session([
    ['fn square(n) { return n * n; }', ['defined fn square(n)']],
    [SUM_OF_SQUARES, ['defined fn sum_of_squares(n)']],
    [':trace on', [`the tiered VM's promotions are shown`]],
    ['sum_of_squares(10)', ['385']],
    ['sum_of_squares(1500)', /^\[tiers\] square: interpreter → baseline after \d+ calls and 0 back edges\n1126125250$/],
    ['fn square(n) { return n * n * 3; }', ['redefined fn square(n)']],
    ['sum_of_squares(1500)', /^\[tiers\] square: interpreter → baseline after \d+ calls and 0 back edges\n3378375750$/],
  ]);
  assert.equal(s.lastRun, { how: 'tiered', tiers: { square: 'baseline', sum_of_squares: 'interpreter', main: 'interpreter' } }, 'the last input ran tiered, square promoted to the baseline tier');
}, { hints: [
  'Without :jit, each input runs in chapter 12\'s tiered VM; with :trace on its promotions come before the output.',
] });

check('multi-line input: an open block or parenthesis continues on the next line', () => {
  assert.is(repl.inputIsComplete('fn f(n) {'), false);
  assert.is(repl.inputIsComplete('fn f(n) {\n  if n > 0 { // {'), false);
  assert.is(repl.inputIsComplete('fn f(n) {\n  return n;\n}'), true);
  assert.is(repl.inputIsComplete('print(f(1,'), false);
  assert.is(repl.inputIsComplete('print(1);'), true);
});

check('a scripted session on a stream of lines, as stdin gives them, prints only what the inputs show', async () => {
  const lines = ['fn fact(n) {', '  if n <= 1 {', '    return 1;', '  }', '  return n * fact(n - 1);', '}', 'fact(20)', ':jit fact', 'fact(20)', 'let r = fact(5)', 'r', ':quit', 'print(99);'];
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await terminal.startRepl(vm, { arch: process.arch as 'x64' | 'arm64', input: Readable.from(lines.map((l) => `${l}\n`)), output });
  const shown = text.split('\n').filter((l) => l !== '');
  assert.is(shown[0], 'defined fn fact(n)', text);
  assert.is(shown[1], '2432902008176640000', text);
  assert.match(shown[2]!, /^fact: optimizing tier/, text);
  assert.equal(shown.slice(3), ['2432902008176640000', '120'], `after :quit nothing more runs:\n${text}`);
});
