import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';

const compiler = await learnerCode(import('#ch06/compiler.ts'));
const bytecode = await learnerCode(import('#ch06/bytecode.ts'));

type Compiled = ReturnType<typeof compiler.compileSource>;
type Fn = Compiled['functions'][number];

/**
 * Reports `value` under `name` and returns it: what a check holds the compiler's output to
 * exactly (bytecode, constants, slots, lines, errors), so graded work is held to the
 * reference's run outside the process that ran the code.
 */
function seen<T>(name: string, value: T): T {
  reportOutcome(name, { output: [JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value)] });
  return value;
}

/** The function `name` of a compiled program. */
function fnOf(program: Compiled, name: string): Fn {
  const fn = program.functions.find((f) => f.name === name);
  assert.ok(fn, `no compiled function named '${name}'`);
  return fn!;
}

/** Instructions as `name operands…` strings, decoded with the opcode table. */
function decode(fn: Fn): string[] {
  const rows: string[] = [];
  let pc = 0;
  while (pc < fn.code.length) {
    const info = bytecode.OPCODES[fn.code[pc]!];
    if (info === undefined) {
      rows.push(`<bad opcode ${fn.code[pc]} at ${pc}>`);
      break;
    }
    const parts: string[] = [info.name];
    let at = pc + 1;
    for (const kind of info.operands) {
      parts.push(String(kind === 'u8' ? fn.code[at]! : fn.code[at]! | (fn.code[at + 1]! << 8)));
      at += kind === 'u8' ? 1 : 2;
    }
    if (info.name === 'const') parts.push(`(${fn.constants[Number(parts[1])]})`);
    rows.push(parts.join(' '));
    pc = at;
  }
  return rows;
}

check('compiler: main, function indexes and signatures', () => {
  const program = compiler.compileSource('fn twice(n) { return 2 * n; }\nfn main() { print(twice(4)); }\nfn flag(a: bool, b): bool { return a; }');
  assert.equal(seen('program.functions.map((f) => f.name)', program.functions.map((f) => f.name)), ['twice', 'main', 'flag'], 'functions keep their source order');
  assert.is(seen('program.main', program.main), 1, 'main is the index of main');
  program.functions.forEach((f, i) => assert.is(seen('f.index', f.index), i, `${f.name}.index`));
  const flag = fnOf(program, 'flag');
  assert.equal(seen('[...flag.params]', [...flag.params]), ['bool', 'int']);
  assert.is(seen('flag.returnType', flag.returnType), 'bool');
  assert.is(seen('fnOf(program, \'twice\').returnType', fnOf(program, 'twice').returnType), 'int', 'no return type means int');
  assert.is(seen('fnOf(program, \'flag\').line', fnOf(program, 'flag').line), 3, 'line is where the function is declared');
}, { hints: ['Collect every signature first (in source order), then compile bodies: a call may name a function declared later.'] });

check('compiler: expressions become stack code, operands first', () => {
  const program = compiler.compileSource('fn f(a, b) { return a - b * 3 + -7; }\nfn main() {}');
  assert.equal(seen('decode(fnOf(program, \'f\'))', decode(fnOf(program, 'f'))), [
    'load 0', 'load 1', 'const 0 (3)', 'mul', 'sub', 'const 1 (-7)', 'add', 'ret',
  ]);
  const calls = compiler.compileSource('fn g(x, y, z) { return x; }\nfn main() { print(g(1, 2 + 3, g(4, 5, 6))); }');
  assert.equal(seen('decode(fnOf(calls, \'main\'))', decode(fnOf(calls, 'main'))), [
    'const 0 (1)', 'const 1 (2)', 'const 2 (3)', 'add', 'const 3 (4)', 'const 4 (5)', 'const 5 (6)',
    'call 0 3', 'call 0 3', 'print', 'const 6 (0)', 'ret',
  ]);
}, { hints: [
  'Compile the left operand, then the right one, then emit the operator: the stack holds … a b.',
  'A minus right before a literal is part of the constant: `-7` is one `const` of -7.',
  'Parameters are slots 0, 1, … in order.',
] });

check('compiler: constants are shared and booleans are 0 and 1', () => {
  const program = compiler.compileSource('fn main() { let a = 5; let b = 5 + 5; let t = true; let f = false; print(a + 1); }');
  const main = fnOf(program, 'main');
  assert.equal(seen('[...main.constants]', [...main.constants]), [5n, 1n, 0n], 'each value once, in order of first use (true is 1, false is 0)');
}, { hints: ['Keep a Map from value to constant index; `true` is the constant 1n and `false` 0n.'] });

check('compiler: locals reuse the slots of finished blocks; maxStack is the deepest stack', () => {
  const program = compiler.compileSource([
    'fn f(p) {',
    '  let a = 1;',
    '  { let b = 2; let c = 3; }',
    '  { let d = 4; }',
    '  let e = p + (a + (a + (a + a)));',
    '  return e;',
    '}',
    'fn main() {}',
  ].join('\n'));
  const f = fnOf(program, 'f');
  assert.is(seen('f.locals', f.locals), 4, 'p, a, then b and c (d reuses b\'s slot, e reuses b\'s slot again)');
  assert.is(seen('f.maxStack', f.maxStack), 5, 'p + (a + (a + (a + a))) holds five values at its deepest');
  const code = decode(f);
  assert.ok(code.includes('store 2') && code.includes('store 3'), `b and c go to slots 2 and 3:\n${code.join('\n')}`);
  assert.equal(seen('code.filter((row) => row.startsWith(\'store\'))', code.filter((row) => row.startsWith('store'))), ['store 1', 'store 2', 'store 3', 'store 2', 'store 2']);
}, { hints: [
  'Keep the next free slot; a block saves it on entry and restores it at its `}`.',
  'Track the depth as you emit: each instruction pushes and pops a known number of values (OPCODE_INFO).',
] });

check('compiler: control flow uses jumps to absolute offsets', () => {
  const program = compiler.compileSource([
    'fn main() {',
    '  let i = 0;',
    '  while i < 2 {',
    '    if i == 0 { print(1); } else { print(2); }',
    '    i = i + 1;',
    '  }',
    '}',
  ].join('\n'));
  assert.equal(seen('decode(fnOf(program, \'main\'))', decode(fnOf(program, 'main'))), [
    'const 0 (0)', 'store 0', //                               0000 0003
    'load 0', 'const 1 (2)', 'lt', 'jump_if_false 45', //       0005 0007 0010 0011  while i < 2
    'load 0', 'const 0 (0)', 'eq', 'jump_if_false 30', //       0014 0016 0019 0020  if i == 0
    'const 2 (1)', 'print', 'jump 34', //                       0023 0026 0027       then
    'const 1 (2)', 'print', //                                  0030 0033            else
    'load 0', 'const 2 (1)', 'add', 'store 0', //               0034 0036 0039 0040  i = i + 1
    'jump 5', //                                                0042                 back to the condition
    'const 0 (0)', 'ret', //                                    0045 0048            falling off main
  ]);
}, { hints: [
  'if/else: cond; jump_if_false Else; then; jump End; Else: else; End:',
  'while: Top: cond; jump_if_false End; body; jump Top; End:',
  'Emit a jump with a placeholder target, remember where its operand is, and patch it when the target is known.',
] });

check('compiler: the line table maps each instruction to its source line', () => {
  const program = compiler.compileSource('fn main() {\n  let a = 10;\n  let b = a\n    / 2;\n  print(b);\n}');
  const main = fnOf(program, 'main');
  const lines: number[] = [];
  let pc = 0;
  while (pc < main.code.length) {
    lines.push(bytecode.lineAt(main, pc));
    pc += bytecode.instructionSize(main.code[pc]!);
  }
  // const 10; store a | load a; const 2; div; store b | load b; print | const 0; ret
  assert.equal(seen('lines', lines), [2, 2, 3, 4, 4, 3, 5, 5, 6, 6], 'lines of: const store load const div store load print const ret');
  for (let i = 1; i < main.lines.length; i++) {
    assert.ok(main.lines[i]!.offset > main.lines[i - 1]!.offset, 'line entries go in increasing offset order');
    assert.ok(main.lines[i]!.line !== main.lines[i - 1]!.line, 'an entry only where the line changes');
  }
}, { hints: [
  'Each instruction takes the line of the node it comes from: a binary operator\'s line is its operator\'s, a let\'s store is at `let`.',
  'Add an entry { offset, line } only when the line differs from the last entry.',
] });

check('compiler: a let\'s value sees the variable outside, not the one it declares; blocks nest to the slot limit', () => {
  const program = compiler.compileSource([
    'fn main() {',
    '  let x = 1;',
    '  {',
    '    let x = x + 10;',
    '    { let x = x * 2; print(x); }',
    '    print(x);',
    '  }',
    '  return x;',
    '}',
  ].join('\n'));
  assert.equal(seen('decode(fnOf(program, \'main\'))', decode(fnOf(program, 'main'))), [
    'const 0 (1)', 'store 0',
    'load 0', 'const 1 (10)', 'add', 'store 1', //     the inner x is slot 1, its value reads slot 0
    'load 1', 'const 2 (2)', 'mul', 'store 2', 'load 2', 'print',
    'load 1', 'print',
    'load 0', 'ret',
  ]);
  const error = (() => {
    try {
      compiler.compileSource('fn main() {\n  let y = y + 1;\n  return y;\n}');
      return 'it compiled';
    } catch (e) {
      return (e as Error).message;
    }
  })();
  assert.is(seen('error', error), "2:11: undefined variable 'y'", 'a let cannot read the variable it is declaring');
}, { hints: ['Check (and compile) the value first, then declare the variable: while its value is computed, the name still means what it meant outside.'] });
