/**
 * Chapter 08, third part: each pass on hand-written IR, with the IR it must produce written
 * beside it (compared up to the numbering of values and blocks), then the behaviours the
 * passes promise, each shown on the smallest program that shows it. What each check asserts of
 * the IR is reported (support.ts observed, assertSameIr, runOracle) for graded work to be held
 * to the reference's run.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { assertSameIr, build, compiler, countOps, observed, optimizer, printer, runOracle, text, verifier, type Func } from './support.ts';
import { assertWritten } from '#harness/written.ts';

function pass(name: string, fn: Func): Func {
  const result = optimizer.PASSES[name]!.run(fn, undefined as never);
  const problems = verifier.verifyProblems(result);
  assert.ok(problems.length === 0, `after ${name} the IR is not well-formed:\n  ${problems.join('\n  ')}\n\n${printer.printFunction(result)}`);
  return result;
}

function main(source: string): Func {
  return build.buildProgram(compiler.compileSource(source)).functions.get('main')!;
}

function optimized(source: string) {
  const program = build.buildProgram(compiler.compileSource(source));
  return { before: program, after: optimizer.optimizeProgram(program, { verifyEach: true }) };
}

function arithmetic(fn: Func): string[] {
  const ARITH = new Set(['add', 'sub', 'mul', 'div', 'mod', 'mulhi', 'and', 'or', 'xor', 'shl', 'sar', 'shr', 'neg', 'bitnot', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']);
  return fn.blocks.flatMap((b) => b.insts.filter((i) => ARITH.has(i.op)).map((i) => printer.printInst(i)));
}

check('constant propagation folds `return 2 * 3 + 4` to a constant, with no arithmetic left', () => {
  const { after } = optimized('fn main() { return 2 * 3 + 4; }');
  const fn = after.functions.get('main')!;
  assert.equal(observed('arithmetic left after folding', arithmetic(fn)), [], `arithmetic left after folding:\n${printer.printFunction(fn)}`);
  assertSameIr(fn, 'function main(): int {\nb0:\n  v0 = const int 10\n  return v0\n}', 'after the pipeline');
}, { hints: ['SCCP evaluates an instruction whose operands are all constants with the operation\'s own semantics (ops.ts evaluate) and replaces it by a const.'] });

check('SCCP is optimistic: a value constant only around a loop folds, and the dead arm goes', () => {
  const fn = text.parseFunction(`function main(): int {
b0:
  v0 = const int 7
  v1 = const int 0
  jump b1
b1:
  v2 = phi int [b0: v0], [b3: v5]
  v3 = phi int [b0: v1], [b3: v8]
  v4 = const int 10
  v6 = lt v3, v4
  branch v6, b2, b4
b2:
  v7 = eq v2, v0
  branch v7, b3, b5
b5:
  v9 = const int 99
  print v9
  jump b3
b3:
  v5 = phi int [b2: v2], [b5: v9]
  v10 = const int 1
  v8 = add v3, v10
  jump b1
b4:
  return v2
}`);
  const after = pass('sccp', fn);
  assert.ok(!observed('a print left after sccp', after.blocks.some((b) => b.insts.some((i) => i.op === 'print'))), `v2 is 7 on every executable edge, so the print of 99 can never run and its block must go:\n${printer.printFunction(after)}`);
  const ret = after.blocks.flatMap((b) => b.insts).find((i) => i.op === 'return')!;
  const def = after.blocks.flatMap((b) => b.insts).find((i) => i.id === ret.args[0]);
  assert.ok(observed('returns the constant 7 after sccp', def?.op === 'const' && def.imm === 7n), `the function returns the constant 7:\n${printer.printFunction(after)}`);
  assert.equal(runOracle({ functions: new Map([['main', after]]), main: 'main' }, undefined, 'a value constant only around a loop, after sccp').output, [], 'nothing is printed');

  // An operand known before a branch that never goes its way must not spoil the phi.
  const decided = pass('sccp', text.parseFunction(`function main(): int {
b0:
  v0 = const int 7
  v1 = const int 99
  v2 = const bool 1
  branch v2, b1, b2
b1:
  jump b3
b2:
  jump b3
b3:
  v3 = phi int [b1: v0], [b2: v1]
  return v3
}`));
  const result = decided.blocks.flatMap((b) => b.insts).find((i) => i.op === 'return')!;
  const value = decided.blocks.flatMap((b) => b.insts).find((i) => i.id === result.args[0]);
  assert.ok(observed('the phi of a decided branch is the constant 7', value?.op === 'const' && value.imm === 7n), `the edge from b2 is never executable, so the phi is 7, not 7-or-99:\n${printer.printFunction(decided)}`);
}, { hints: [
  'Start every value at "unknown" (not overdefined) and every edge at "not executable"; a phi meets only the operands of executable edges.',
  'A branch on a value that is still unknown marks no edge; on a constant, one edge; on an overdefined value, both.',
] });

check('folding keeps Jot\'s semantics: INT64_MIN / -1, masked shifts, and x / 0 stays an error at its line', () => {
  const { after } = optimized(`fn main() {
  print((-9223372036854775808) / (-1));
  print((-9223372036854775808) % (-1));
  print(1 << 65);
  print(-16 >>> 60);
  print(7 / 0);
  return 0;
}`);
  const out = runOracle(after, undefined, 'INT64_MIN / -1, masked shifts and x / 0 after the whole pipeline');
  assert.equal(out.output, ['-9223372036854775808', '0', '2', '15'], 'the folded values are Jot\'s');
  assert.is(out.error?.message, 'division by zero at line 6', 'x / 0 is not folded away: it fails at its line');
  assert.ok(observed('a division left', countOps(after.functions.get('main')!, 'div') >= 1), 'the division by zero is still there');
}, { hints: ['Fold with exactly the semantics the interpreter has (BigInt.asIntN(64, …), shift counts & 63n). A division whose divisor is the constant 0 must not be folded: leave the instruction as it is.'] });

check('copy propagation removes copies, one-operand phis and phis of themselves and one value', () => {
  const after = pass('copies', text.parseFunction(`function f(a: int, c: bool): int {
b0:
  v0 = param int 0
  v1 = param bool 1
  v2 = copy v0
  jump b1
b1:
  v3 = phi int [b0: v2], [b2: v3]
  v4 = phi int [b0: v0], [b2: v6]
  v8 = phi int [b0: v0], [b2: v5]
  branch v1, b2, b3
b2:
  v5 = phi int [b1: v3]
  v9 = add v4, v8
  v6 = sub v9, v5
  jump b1
b3:
  return v4
}`));
  assertSameIr(after, `function f(a: int, c: bool): int {
b0:
  v0 = param int 0
  v1 = param bool 1
  jump b1
b1:
  v4 = phi int [b0: v0], [b2: v6]
  branch v1, b2, b3
b2:
  v9 = add v4, v0
  v6 = sub v9, v0
  jump b1
b3:
  return v4
}`, 'after copy propagation (v5 is v3, v3 is v2 around the loop, v2 is v0, and then v8 is v0 too)');
}, { hints: ['A phi is a copy when its operands, leaving out the phi itself, are all one value. Repeat until nothing changes: removing one copy can make another phi trivial.'] });

check('value numbering leaves one of two equal expressions (commutative operands too)', () => {
  const fn = text.parseFunction(`function f(a: int, b: int, c: bool): int {
b0:
  v0 = param int 0
  v1 = param int 1
  v2 = param bool 2
  v3 = add v0, v1
  branch v2, b1, b2
b1:
  v4 = add v1, v0
  v5 = mul v4, v3
  return v5
b2:
  v6 = add v0, v1
  return v6
}`);
  const after = pass('gvn', fn);
  assert.is(observed('adds left after gvn', countOps(after, 'add')), 1, `one add dominates the others and serves them all:\n${printer.printFunction(after)}`);

  // Only commutative operations may have their operands swapped: a - b is not b - a.
  const ordered = pass('gvn', text.parseFunction(`function f(a: int, b: int): int {
b0:
  v0 = param int 0
  v1 = param int 1
  v2 = sub v0, v1
  v3 = sub v1, v0
  v4 = lt v0, v1
  v5 = lt v1, v0
  v6 = shl v0, v1
  v7 = shl v1, v0
  v8 = mul v2, v3
  v9 = mul v8, v6
  v10 = mul v9, v7
  print v4
  print v5
  return v10
}`));
  for (const op of ['sub', 'lt', 'shl']) {
    assert.is(observed(`${op} instructions left after gvn`, countOps(ordered, op)), 2, `'${op} a, b' and '${op} b, a' are different values: both stay:\n${printer.printFunction(ordered)}`);
  }
}, { hints: ['Walk the dominator tree with a scoped table keyed by (operation, type, constant, operands); sort the operands of a commutative operation.'] });

check('value numbering never reuses a value where its definition does not dominate', () => {
  const fn = text.parseFunction(`function f(a: int, c: bool): int {
b0:
  v0 = param int 0
  v1 = param bool 1
  branch v1, b1, b2
b1:
  v2 = neg v0
  jump b3
b2:
  v3 = neg v0
  jump b3
b3:
  v4 = phi int [b1: v2], [b2: v3]
  return v4
}`);
  const after = pass('gvn', fn);
  assert.is(observed('negations left after gvn', countOps(after, 'neg')), 2, `neither arm dominates the other: both negations stay:\n${printer.printFunction(after)}`);

  // Two phis with the same operands in different blocks are different values: each depends
  // on its own block's incoming edge. Here x = c ? a : b and y = d ? a : b.
  const program = text.parseProgram(`function f(a: int, b: int, c: bool, d: bool): int {
b0:
  v0 = param int 0
  v1 = param int 1
  v2 = param bool 2
  v3 = param bool 3
  branch v2, b1, b2
b1:
  jump b3
b2:
  jump b3
b3:
  v4 = phi int [b1: v0], [b2: v1]
  branch v3, b4, b5
b4:
  jump b6
b5:
  jump b6
b6:
  v5 = phi int [b4: v0], [b5: v1]
  v6 = sub v4, v5
  return v6
}

function main(): int {
b0:
  v0 = const int 10
  v1 = const int 3
  v2 = const bool 1
  v3 = const bool 0
  v4 = call int f(v0, v1, v2, v3) @1
  print v4
  return v4
}`);
  const f = pass('gvn', program.functions.get('f')!);
  const output = runOracle({ functions: new Map([...program.functions, ['f', f]]), main: 'main' }, undefined, 'f(10, 3, true, false) after gvn').output;
  assertWritten(import.meta.url, 'f(10, 3, true, false) after gvn', output, `f(10, 3, true, false) is a - b: the phis of b3 and b6 are not one value:\n${printer.printFunction(f)}`);
}, { hints: ['Leaving a block in the dominator-tree walk must forget the keys the block added.'] });

check('dead-code elimination removes unused pure values but never a division that may fault', () => {
  const fn = text.parseFunction(`function f(a: int, b: int): int {
b0:
  v0 = param int 0
  v1 = param int 1
  v2 = mul v0, v1
  v3 = div v0, v1 @3
  v4 = const int 5
  v5 = div v0, v4 @4
  v6 = const int 0
  v10 = mod v0, v6 @5
  jump b1
b1:
  v7 = phi int [b0: v0], [b1: v8]
  v8 = add v7, v0
  v9 = lt v0, v1
  branch v9, b1, b2
b2:
  return v0
}`);
  const after = pass('dce', fn);
  assert.is(observed('multiplications left after dce', countOps(after, 'mul')), 0, 'the unused multiplication goes');
  const divs = after.blocks.flatMap((b) => b.insts.filter((i) => i.op === 'div'));
  assert.is(observed('divisions left after dce', divs.length), 1, `the division by b may fault and stays; the division by 5 cannot and goes:\n${printer.printFunction(after)}`);
  assert.is(observed('remainders left after dce', countOps(after, 'mod')), 1, `a % 0 is unused but fails at line 5: it stays:\n${printer.printFunction(after)}`);
  assert.is(observed('phis left after dce', countOps(after, 'phi')), 0, 'a phi and an add that only feed each other around a loop are dead together');
}, { hints: ['Mark from the roots (terminators, side effects, operations that may fail) through operands; remove what is not marked. Counting uses never removes a cycle.'] });

check('CFG simplification merges straight-line blocks and removes unreachable ones', () => {
  const fn = text.parseFunction(`function f(a: int): int {
b0:
  v0 = param int 0
  jump b1
b1:
  v1 = const int 1
  v2 = add v0, v1
  jump b3
b2:
  v3 = const int 2
  jump b3
b3:
  v4 = phi int [b2: v3], [b1: v2]
  return v4
}`);
  const after = pass('cfg', fn);
  assertSameIr(after, `function f(a: int): int {
b0:
  v0 = param int 0
  v1 = const int 1
  v2 = add v0, v1
  return v2
}`, 'after CFG simplification');

  const diamond = pass('cfg', text.parseFunction(`function g(c: bool): int {
b0:
  v0 = param bool 0
  branch v0, b1, b2
b1:
  v1 = const int 1
  jump b3
b3:
  jump b4
b2:
  v2 = const int 2
  jump b4
b4:
  v3 = phi int [b3: v1], [b2: v2]
  return v3
}`));
  assertSameIr(diamond, `function g(c: bool): int {
b0:
  v0 = param bool 0
  branch v0, b1, b2
b1:
  v1 = const int 1
  jump b3
b2:
  v2 = const int 2
  jump b3
b3:
  v3 = phi int [b1: v1], [b2: v2]
  return v3
}`, 'after merging a block that only jumps into its predecessor');
}, { hints: ['Remove unreachable blocks (and their operands from the phis they fed), then merge a block into its only predecessor when that predecessor jumps to it; its phis have one operand each.'] });

check('LICM moves an invariant out of a loop, but not a division that may fault', () => {
  const before = main(`fn main() {
  let a = 6;
  let b = 7;
  let d = 0;
  let i = 0;
  let s = 0;
  while i < 3 {
    s = s + (a * b - a);
    i = i + 1;
  }
  print(s);
  let j = 0;
  while j < 0 {
    s = s + a / d;
    j = j + 1;
  }
  return s;
}`);
  // Only LICM: the constants stay unknown to it, so the multiplication is a real one.
  const after = pass('licm', before);
  const inLoop = (fn: Func, op: string) => {
    // A block is in a loop when it can reach itself.
    const succ = new Map(fn.blocks.map((b) => [b.id, b.insts.at(-1)!.targets ?? []]));
    const reaches = (from: number, to: number) => {
      const seen = new Set<number>();
      const work = [...succ.get(from)!];
      while (work.length) {
        const b = work.pop()!;
        if (b === to) return true;
        if (seen.has(b)) continue;
        seen.add(b);
        work.push(...succ.get(b)!);
      }
      return false;
    };
    return fn.blocks.filter((b) => b.insts.some((i) => i.op === op)).map((b) => reaches(b.id, b.id));
  };
  assert.equal(observed('where mul is after licm (in a loop or not)', inLoop(after, 'mul')), [false], `a * b does not change in the loop: it moves before it:\n${printer.printFunction(after)}`);
  assert.equal(observed('where sub is after licm (in a loop or not)', inLoop(after, 'sub')), [false], `a * b - a uses only a and a * b, which moved: it moves too (hoisted values count as outside the loop):\n${printer.printFunction(after)}`);
  assert.equal(observed('where div is after licm (in a loop or not)', inLoop(after, 'div')), [true], 'a / d may fault, and the loop runs zero times: it stays inside');
  assert.equal(runOracle({ functions: new Map([['main', after]]), main: 'main' }, undefined, 'the loop with invariants after licm').output, ['108'], 'the program still prints 108');
}, { hints: [
  'Give each loop a preheader: a block that is the only way into the header from outside, where hoisted code goes.',
  'An instruction is invariant when it is pure and each operand is defined outside the loop (or already hoisted). An instruction that may fail never moves: the loop may run zero times.',
] });

check('strength reduction: * by a constant, / and % by powers of two and by other constants, exact for every x', () => {
  const EDGE_X = ['0', '1', '(-1)', '7', '(-7)', '100', '(-100)', '9223372036854775807', '(-9223372036854775808)', '(-9223372036854775807)', '12345678901234567', '(-987654321987654321)', '4611686018427387904', '(-4611686018427387905)'];
  const DIVISORS = ['2', '8', '(-4)', '(-2)', '3', '7', '(-7)', '10', '641', '1000000007', '(-1000)', '(-3)', '(-9)', '(-19)', '4611686018427387904', '4611686018427387905', '(-4611686018427387904)', '1', '(-1)', '9223372036854775807', '(-9223372036854775807)', '(-9223372036854775808)'];
  const lines = DIVISORS.map((d) => `  print(x / ${d}); print(x % ${d}); print(x * ${d});`);
  const source = `fn f(x: int) {\n${lines.join('\n')}\n  return 0;\n}\nfn main() {\n${EDGE_X.map((x) => `  f(${x});`).join('\n')}\n  return 0;\n}`;
  const { before, after } = optimized(source);
  const f = after.functions.get('f')!;
  // Only the division by INT64_MIN may stay (its magnitude is no 64-bit number); every other divisor is a constant other than 0.
  assert.ok(observed('at most the divisions by INT64_MIN left', countOps(f, 'div') + countOps(f, 'mod') <= 2), `no division is left but those by INT64_MIN: every other divisor is a constant other than 0:\n${printer.printFunction(f).slice(0, 3000)}`);
  assert.is(observed('multiplications by powers of two became shifts', countOps(f, 'mul') <= DIVISORS.length * 2), true, 'multiplications by powers of two became shifts');
  const expected = runOracle(before, undefined, 'x * c, x / c and x % c for edge x before the passes');
  const actual = runOracle(after, undefined, 'x * c, x / c and x % c for edge x after the whole pipeline');
  const bad = expected.output.findIndex((l, i) => actual.output[i] !== l);
  const what = (i: number) => {
    const call = Math.floor(i / (DIVISORS.length * 3));
    const at = i % (DIVISORS.length * 3);
    return `x ${['/', '%', '*'][at % 3]} ${DIVISORS[Math.floor(at / 3)]} with x = ${EDGE_X[call]}`;
  };
  assert.ok(bad < 0, `${what(bad)}: expected ${expected.output[bad]}, got ${actual.output[bad]} (printed line ${bad + 1})`);
  assert.is(actual.output.length, expected.output.length, `the optimized program printed ${actual.output.length} lines, not ${expected.output.length}${actual.error ? ` (${actual.error.message})` : ''}`);
}, { timeoutMs: 20000, hints: [
  'x / 2^k rounds toward zero: add 2^k - 1 when x is negative ((x >> 63) >>> (64 - k)), then shift right arithmetically.',
  'Other divisors: q = mulhi(x, M), corrected by ±x when M\'s sign differs from d\'s, shifted right by s, plus 1 when negative (q >>> 63). x % d = x - q * d.',
] });
