import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, thrownBy } from '#harness/check.ts';
import { assertWritten, writtenExpectation } from '#harness/written.ts';

// These checks run hand-assembled bytecode, so they test the interpreter on its own,
// whatever state the compiler is in. What each run printed, returned or threw is reported
// (check.ts reportOutcome), for graded work to be held to the reference's run. What each run
// must print, return or throw is written out in expectations.json beside this file (see
// #harness/written.ts: a copy staged for grading has none, and there the runner judges).
const interpreter = await learnerCode(import('#ch06/interpreter.ts'));
import type { InterpreterState } from '#ch06/interpreter.ts';
import type { OpcodeSet } from '#ch06/bytecode.ts';
const bytecode = await learnerCode(import('#ch06/bytecode.ts'));

type Program = Parameters<typeof interpreter.run>[0];
type Fn = Program['functions'][number];

interface FnSpec {
  name: string;
  params?: number;
  locals?: number;
  maxStack?: number;
  /** Instructions as [name, ...operands]. */
  code: [string, ...number[]][];
  constants?: bigint[];
  /** One line per instruction (default: instruction i is on line i + 1). */
  lines?: number[];
  /** The opcode set to assemble with (default: the core one). */
  opcodes?: OpcodeSet;
}

/** Assembles instructions with the learner's opcode table. */
function assemble(spec: FnSpec, index: number): Fn {
  const bytes: number[] = [];
  const lines: { offset: number; line: number }[] = [];
  spec.code.forEach(([name, ...operands], i) => {
    const line = spec.lines?.[i] ?? i + 1;
    if (lines.at(-1)?.line !== line) lines.push({ offset: bytes.length, line });
    const info = (spec.opcodes ?? bytecode.CORE_OPCODES).byName.get(name);
    if (info === undefined) throw new Error(`check bug: no opcode ${name}`);
    bytes.push(info.code);
    const kinds = info.operands;
    kinds.forEach((kind, k) => {
      const value = operands[k]!;
      if (kind === 'u8') bytes.push(value);
      else bytes.push(value & 0xff, value >> 8);
    });
  });
  const params = spec.params ?? 0;
  return {
    name: spec.name,
    index,
    params: new Array(params).fill('int'),
    returnType: 'int',
    locals: spec.locals ?? params,
    maxStack: spec.maxStack ?? 8,
    stackMaps: new Map(),
    code: Uint8Array.from(bytes),
    constants: spec.constants ?? [],
    lines,
    line: 1,
  };
}

function program(...specs: FnSpec[]): Program {
  const functions = specs.map(assemble);
  return { functions, main: functions.findIndex((f) => f.name === 'main') };
}

function runCapturing(p: Program): { output: string[]; result: bigint } {
  const output: string[] = [];
  const result = interpreter.run(p, { print: (text) => output.push(text) });
  reportOutcome('a run of hand-assembled bytecode', { output: [...output, `returned ${result}`] });
  return { output, result };
}

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;

/** [opcode, a, b]: what each gives is written out in expectations.json, under `binary opcodes`. */
const BINARY_CASES: [string, bigint, bigint][] = [
  ['add', 2n, 3n], ['add', MAX, 1n], ['add', MIN, -1n],
  ['sub', 2n, 3n], ['sub', MIN, 1n],
  ['mul', -4n, 5n], ['mul', MAX, 2n], ['mul', 1n << 32n, 1n << 32n], ['mul', MIN, -1n],
  ['div', 7n, 2n], ['div', -7n, 2n], ['div', 7n, -2n], ['div', MIN, -1n],
  ['mod', 7n, 3n], ['mod', -7n, 3n], ['mod', 7n, -3n], ['mod', MIN, -1n],
  ['bit_and', 12n, 10n], ['bit_or', 12n, 10n], ['bit_xor', 12n, 10n], ['bit_and', -1n, MIN],
  ['shl', 1n, 63n], ['shl', 1n, 64n], ['shl', 3n, -1n], ['shl', 5n, 2n],
  ['sar', -16n, 2n], ['sar', MIN, 63n], ['sar', 256n, 66n],
  ['shr', -1n, 63n], ['shr', -16n, 60n], ['shr', -1n, 64n], ['shr', MIN, 1n],
  ['eq', 3n, 3n], ['eq', 3n, 4n], ['ne', 3n, 4n],
  ['lt', -1n, 0n], ['lt', MAX, MIN], ['le', 5n, 5n], ['gt', 0n, MIN], ['ge', MIN, MAX],
];

check('interpreter: binary opcodes wrap to 64 bits, divide toward zero, mask shift counts', () => {
  const wrong: string[] = [];
  const written = writtenExpectation<Record<string, string>>(import.meta.url, 'binary opcodes');
  for (const [name, a, b] of BINARY_CASES) {
    const p = program({
      name: 'main',
      constants: [a, b],
      code: [['const', 0], ['const', 1], [name], ['ret']],
    });
    let actual: string;
    try {
      actual = String(interpreter.run(p, { print: () => {} }));
    } catch (e) {
      if (e instanceof Error && (e.name === 'NotImplemented' || e.name === 'LearnerCodeLoadError')) throw e;
      actual = `${e instanceof Error ? e.name : 'error'}: ${e instanceof Error ? e.message : String(e)}`;
    }
    reportOutcome(`${name} ${a}, ${b}`, { output: [actual] });
    const expected = written?.[`${name} ${a}, ${b}`];
    if (written !== undefined && actual !== expected) wrong.push(`  ${name.padEnd(8)} ${a}, ${b}: expected ${expected}, got ${actual}`);
  }
  assert.ok(wrong.length === 0, `${wrong.length} of ${BINARY_CASES.length} wrong:\n${wrong.join('\n')}`);
}, { hints: [
  'Values stored into a BigInt64Array wrap to signed 64 bits; a plain array of BigInts needs BigInt.asIntN(64, …).',
  'BigInt `/` truncates toward zero and `%` keeps the dividend\'s sign, like the language wants.',
  'Mask the count with & 63n. For shr (>>>), shift BigInt.asUintN(64, a).',
] });

check('interpreter: unary opcodes, print and print_bool, the result of main', () => {
  const p = program({
    name: 'main',
    constants: [5n, MIN, 1n, 0n],
    code: [
      ['const', 0], ['neg'], ['print'],
      ['const', 1], ['neg'], ['print'],
      ['const', 0], ['bit_not'], ['print'],
      ['const', 2], ['not'], ['print_bool'],
      ['const', 3], ['not'], ['print_bool'],
      ['const', 0], ['pop'],
      ['const', 1], ['ret'],
    ],
  });
  const { output, result } = runCapturing(p);
  assert.is(typeof result, 'bigint', 'run returns what main returns, as a bigint');
  assertWritten(import.meta.url, 'unary opcodes', { output, result: String(result) }, 'the lines printed, and what run returned (what main returns)');
}, { hints: ['print hands the sink the decimal text, print_bool `true` or `false`; neither prints a newline itself.'] });

check('interpreter: load, store, jumps: a counting loop', () => {
  // i = 0; total = 0; while i < 5 { total = total + i * i; i = i + 1 } print(total)
  const p = program({
    name: 'main',
    locals: 2,
    constants: [0n, 5n, 1n],
    code: [
      ['const', 0], ['store', 0], //            0  3
      ['const', 0], ['store', 1], //            5  8
      ['load', 0], ['const', 1], ['lt'], //     10 12 15
      ['jump_if_false', 43], //                 16
      ['load', 1], ['load', 0], ['load', 0], ['mul'], ['add'], ['store', 1], // 19 21 23 25 26 27
      ['load', 0], ['const', 2], ['add'], ['store', 0], // 29 31 34 35
      ['jump', 10], //                          37 (then 40 is never reached)
      ['const', 0], //                          40
      ['load', 1], ['print'], //                43 45
      ['const', 0], ['ret'],
    ],
  });
  assertWritten(import.meta.url, 'a counting loop', runCapturing(p).output, 'the lines printed');
}, { hints: ['Jump targets are absolute offsets into the function\'s code; jump_if_false pops its condition and jumps on 0.'] });

check('interpreter: calls: arguments become locals, fresh locals start at 0, results come back', () => {
  // fn sub3(a, b, c) { let t; t = t + a - b - c; return t * 10 + (stack-depth probe) }
  const sub3: FnSpec = {
    name: 'sub3',
    params: 3,
    locals: 4,
    constants: [10n],
    code: [
      ['load', 3], ['load', 0], ['add'], ['load', 1], ['sub'], ['load', 2], ['sub'], ['store', 3],
      ['load', 3], ['const', 0], ['mul'], ['ret'],
    ],
  };
  const main: FnSpec = {
    name: 'main',
    locals: 1,
    constants: [100n, 7n, 2n, 1n, 99n],
    code: [
      ['const', 4], ['store', 0], //  a local of main that the call must not disturb
      ['const', 0], //                a value below the arguments, still there after the call
      ['const', 1], ['const', 2], ['const', 3], ['call', 0, 3], // sub3(7, 2, 1) = 40
      ['print'],
      ['print'], //                   100
      ['const', 1], ['const', 1], ['const', 1], ['call', 0, 3], // again: fresh t must be 0 again → -70
      ['print'],
      ['load', 0], ['print'], //      99
      ['const', 3], ['ret'],
    ],
  };
  const p = program(sub3, main);
  const { output, result } = runCapturing(p);
  assertWritten(import.meta.url, 'calls', { output, result: String(result) }, 'the lines printed, and what run returned (what main returns)');
}, { hints: [
  'On call: the callee\'s base is sp - argc, so the pushed arguments are its slots 0…argc-1; zero the rest of its locals.',
  'On ret: pop the result, drop the callee\'s frame (arguments included), push the result, continue after the call.',
] });

check('interpreter: a RuntimeError at the line of the failing instruction', () => {
  const p = program(
    {
      name: 'divide',
      params: 2,
      code: [['load', 0], ['load', 1], ['div'], ['ret']],
      lines: [20, 20, 21, 22],
    },
    {
      name: 'main',
      constants: [1n, 0n],
      code: [['const', 0], ['print'], ['const', 0], ['const', 1], ['call', 0, 2], ['print'], ['const', 0], ['ret']],
    },
  );
  const output: string[] = [];
  try {
    interpreter.run(p, { print: (text) => output.push(text) });
  } catch (e) {
    if (!(e instanceof interpreter.RuntimeError)) throw e;
    reportOutcome('dividing by zero', { output: [...output, e.message, `line ${e.line}`] });
    assertWritten(import.meta.url, 'dividing by zero', { output, message: e.message, line: String(e.line) }, 'output printed before the error is kept; the message and line of the error');
    return;
  }
  assert.unreachable('dividing by zero should throw a RuntimeError');
}, { hints: ['Find the line with lineAt(fn, offset of the div instruction) from bytecode.ts.'] });

check('interpreter: 10000 active calls are allowed, the 10001st is a stack overflow', () => {
  // fn down(n) { if n == 0 { return 0 } return down(n - 1) }   (line 5 is the call)
  const down: FnSpec = {
    name: 'down',
    params: 1,
    constants: [0n, 1n],
    code: [
      ['load', 0], ['const', 0], ['eq'], ['jump_if_false', 13], // 0 2 5 6
      ['const', 0], ['ret'], //                                 9 12
      ['load', 0], ['const', 1], ['sub'], ['call', 0, 1], ['ret'], // 13 15 18 19 23
    ],
    lines: [2, 2, 2, 2, 3, 3, 5, 5, 5, 5, 5],
  };
  const main = (n: bigint): FnSpec => ({
    name: 'main',
    constants: [n],
    code: [['const', 0], ['call', 0, 1], ['ret']],
  });
  const deepest = interpreter.run(program(down, main(9998n)), { print: () => {} });
  reportOutcome('10000 frames', { output: [`returned ${deepest}`] });
  assertWritten(import.meta.url, '10000 frames', String(deepest), 'main + 9999 calls of down = 10000 frames: allowed');
  try {
    interpreter.run(program(down, main(9999n)), { print: () => {} });
  } catch (e) {
    if (!(e instanceof interpreter.RuntimeError)) throw e;
    reportOutcome('10001 frames', { output: [e.message] });
    assertWritten(import.meta.url, '10001 frames', e.message, 'the message of the 10001st call');
    return;
  }
  assert.unreachable('10001 frames should be a stack overflow');
}, { timeoutMs: 20000, hints: [
  'Count active calls, main included; fail a call when the count is already MAX_CALL_DEPTH (10000).',
  'The error names the function making the call and the call\'s line. Keep frames in arrays, not in JavaScript recursion.',
] });

check('interpreter: an opcode of a later language level runs through its handler, inside a loop and a call', () => {
  // `triple` (0x7e, u8 k): a → a * 3 + k. A later chapter's opcode, defined outside this chapter.
  const opcodes = bytecode.extendOpcodes(bytecode.CORE_OPCODES, [{ name: 'triple', code: 0x7e, operands: ['u8'], pops: 1, pushes: 1 }]);
  const triple = (state: InterpreterState) => {
    state.stack[state.sp - 1] = state.stack[state.sp - 1]! * 3n + BigInt(state.fn.code[state.pc + 1]!);
    state.pc += 2;
  };
  const level = interpreter.extendInterpreter(interpreter.CORE_INTERPRETER, opcodes, new Map([[0x7e, triple]]));
  const p = program(
    { name: 'f', params: 1, code: [['load', 0], ['const', 0], ['add'], ['ret']], constants: [1n] },
    { name: 'main', locals: 1, opcodes, code: [
      ['const', 0], ['store', 0], //                                         0000 0003  i = 0
      ['load', 0], ['const', 1], ['lt'], ['jump_if_false', 34], //           0005 0007 0010 0011  while i < 100
      ['load', 0], ['print'], //                                             0014 0016
      ['load', 0], ['call', 0, 1], ['const', 2], ['sub'], ['triple', 1], //  0017 0019 0023 0026 0027
      ['store', 0], ['jump', 5], //                                          0029 0031  i = (f(i) - 1) * 3 + 1
      ['load', 0], ['ret'], //                                               0034 0036
    ], constants: [0n, 100n, 1n] },
  );
  const output: string[] = [];
  const result = interpreter.run(p, { print: (text) => output.push(text), level });
  const refused = thrownBy(() => interpreter.run(p, { print: () => {} }));
  reportOutcome('a later level\'s opcode, run with its handler and without', {
    output: [...output, `returned ${result}`, `without its handler: ${refused instanceof Error && /bad opcode 0x7e/.test(refused.message) ? 'a bad opcode error' : 'something else'}`],
  });
  assertWritten(import.meta.url, 'a later level\'s opcode', { output, result: String(result) }, 'the loop runs the handler once per turn, and the handler\'s result flows on to the next instructions');
  assert.throws(() => interpreter.run(p, { print: () => {} }), /bad opcode 0x7e/, 'the core level does not know the opcode: a compiler bug, said so');
}, { hints: [
  'The default branch of the switch is given: an opcode the switch does not know goes to the level\'s handler with the registers (stack, sp, bp, fn, pc), and the loop takes sp, pc and stack back. Keep it as the last branch of your switch.',
] });
