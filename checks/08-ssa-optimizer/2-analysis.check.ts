/**
 * Chapter 08, second part: dominators and the verifier, the two things every pass leans on.
 * Dominators are compared with a brute-force definition (a dominates b when removing a
 * leaves b unreachable); the verifier must accept well-formed IR and name each kind of
 * broken IR. What each check observes is reported (check.ts reportOutcome: every immediate
 * dominator and dominance of each graph; which broken IR the verifier refused and whether its
 * problems say what is wrong, never their wording), so that graded work is held to the
 * reference's run outside the process that ran the code.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { dominators, printer, text, verifier, type Func } from './support.ts';

/**
 * A function with the given edges (block i jumps or branches to its successors). The entry
 * is `entry` (block 0 unless said otherwise) and is listed first; the others follow in
 * `order`, so the block numbers need not follow the control flow.
 */
function cfg(edges: Record<number, number[]>, entry = 0, order?: readonly number[]): Func {
  const lines = ['function g(c: bool): int {'];
  const ids = order ?? Object.keys(edges).map(Number);
  for (const id of [entry, ...ids.filter((b) => b !== entry)]) {
    const succ = edges[id]!;
    lines.push(`b${id}:`);
    if (id === entry) lines.push('  v0 = param bool 0', '  v1 = const int 1');
    if (succ.length === 0) lines.push('  return v1');
    else if (succ.length === 1) lines.push(`  jump b${succ[0]}`);
    else lines.push(`  branch v0, b${succ[0]}, b${succ[1]}`);
  }
  lines.push('}');
  return text.parseFunction(lines.join('\n'));
}

function reachableWithout(edges: Record<number, number[]>, removed: number, entry = 0): Set<number> {
  const seen = new Set<number>();
  const work = removed === entry ? [] : [entry];
  while (work.length) {
    const b = work.pop()!;
    if (seen.has(b) || b === removed) continue;
    seen.add(b);
    work.push(...(edges[b] ?? []));
  }
  return seen;
}

/** Compares the learner's tree for `edges` with the definition; returns the first disagreement. */
function dominatorDisagreement(name: string, edges: Record<number, number[]>, entry = 0, order?: readonly number[]): string | null {
  const fn = cfg(edges, entry, order);
  const tree = dominators.dominatorTree(fn);
  const blocks = [...reachableWithout(edges, -1, entry)].sort((a, b) => a - b);
  const dominates = (a: number, b: number) => a === b || !reachableWithout(edges, a, entry).has(b);
  reportOutcome(name, {
    output: blocks.map((b) => `b${b}: idom ${b === entry ? '-' : `b${tree.idom.get(b)}`}, dominated by ${blocks.filter((a) => tree.dominates(a, b)).map((a) => `b${a}`).join(' ')}`),
  });
  for (const a of blocks) {
    for (const b of blocks) {
      const expected = dominates(a, b);
      if (tree.dominates(a, b) !== expected) return `${name}: b${a} ${expected ? 'dominates' : 'does not dominate'} b${b}, but dominates(${a}, ${b}) says ${!expected}\n${printer.printFunction(fn)}`;
    }
  }
  for (const b of blocks.filter((x) => x !== entry)) {
    const strict = blocks.filter((a) => a !== b && dominates(a, b));
    const idom = strict.find((a) => strict.every((o) => dominates(o, a))); // the closest: every other strict dominator dominates it
    if (tree.idom.get(b) !== idom) return `${name}: the immediate dominator of b${b} is b${idom}, not b${tree.idom.get(b)}\n${printer.printFunction(fn)}`;
  }
  return null;
}

const SHAPES: Record<string, Record<number, number[]>> = {
  diamond: { 0: [1, 2], 1: [3], 2: [3], 3: [] },
  loop: { 0: [1], 1: [2, 4], 2: [3, 1], 3: [1], 4: [] },
  'nested loops': { 0: [1], 1: [2, 6], 2: [3], 3: [4, 5], 4: [3], 5: [1], 6: [] },
  'two entries into a loop (irreducible)': { 0: [1, 2], 1: [2], 2: [1, 3], 3: [] },
  'a long chain with a shortcut': { 0: [1, 5], 1: [2], 2: [3], 3: [4], 4: [5], 5: [] },
  'two ways into a loop, where one sweep is not enough': { 0: [3, 4], 1: [5], 2: [4, 2], 3: [1, 2], 4: [5, 2], 5: [] },
};

check('dominators: immediate dominators and dominates() agree with the definition', () => {
  for (const [name, edges] of Object.entries(SHAPES)) {
    const problem = dominatorDisagreement(name, edges);
    assert.ok(problem === null, problem ?? '');
  }
  // The same shapes with the blocks numbered against the flow: numbers are names, not an order.
  for (const [name, edges] of Object.entries(SHAPES)) {
    const n = Object.keys(edges).length;
    const rename = (b: number) => (b === 0 ? 0 : n - b);
    const renamed = Object.fromEntries(Object.entries(edges).map(([b, succ]) => [rename(Number(b)), succ.map(rename)]));
    const problem = dominatorDisagreement(`${name}, numbered backwards`, renamed);
    assert.ok(problem === null, problem ?? '');
  }
}, { hints: [
  'Number the blocks in reverse postorder; idom(entry) = entry; for every other block, intersect the dominators of its processed predecessors; repeat until nothing changes.',
  'intersect(a, b): while a != b, move whichever has the larger reverse-postorder number up to its idom.',
] });

check('dominators: random control-flow graphs, irreducible ones too', (t) => {
  const int = (n: number) => Math.floor(t.random() * n);
  for (let g = 0; g < 60; g++) {
    const n = 3 + int(12);
    // Block numbers are a shuffle, so their order says nothing about the flow.
    const ids = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = int(i + 1);
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    const edges: Record<number, number[]> = {};
    ids.forEach((id, k) => {
      const roll = t.random();
      const forward = k + 1 < n ? [ids[k + 1]!] : []; // a spine, so most blocks are reachable
      if (roll < 0.1 || k + 1 === n) edges[id] = [];
      else if (roll < 0.35) edges[id] = forward;
      else {
        const other = ids[1 + int(n - 1)]!; // never the entry: nothing jumps back to it
        edges[id] = other === forward[0] ? forward : t.random() < 0.5 ? [forward[0]!, other] : [other, forward[0]!];
      }
    });
    const problem = dominatorDisagreement(`random graph ${g + 1}`, edges, ids[0]!, ids);
    assert.ok(problem === null, problem ?? '');
  }
}, { hints: [
  'Reverse postorder comes from a depth-first walk of the successors, not from the block numbers.',
  'In a graph with two ways into a loop one sweep is not enough: sweep again until no immediate dominator changes.',
] });

const WELL_FORMED = `function f(n: int): int {
b0:
  v0 = param int 0
  v1 = const int 0
  jump b1
b1:
  v2 = phi int [b0: v1], [b2: v4]
  v3 = lt v2, v0
  branch v3, b2, b3
b2:
  v5 = const int 1
  v4 = add v2, v5
  jump b1
b3:
  return v2
}`;

/** Broken IR: what is wrong, the text (or the well-formed text and a change made after parsing), what a problem must mention. */
const BROKEN: [string, string | (() => Func), RegExp][] = [
  ['a use its definition does not dominate', WELL_FORMED.replace('  return v2', '  return v4'), /v4/],
  ['a use before its definition in the same block', WELL_FORMED.replace('  v5 = const int 1\n  v4 = add v2, v5', '  v4 = add v2, v5\n  v5 = const int 1'), /v5/],
  ['an instruction that uses its own value', () => {
    const fn = text.parseFunction(WELL_FORMED);
    fn.blocks.flatMap((b) => b.insts).find((i) => i.id === 4)!.args = [2, 4]; // v4 = add v2, v4
    return fn;
  }, /v4/],
  ['a phi operand that is not available at the end of its predecessor', WELL_FORMED.replace('[b0: v1], [b2: v4]', '[b0: v4], [b2: v4]'), /v4/],
  ['a phi with an operand too few', WELL_FORMED.replace('phi int [b0: v1], [b2: v4]', 'phi int [b0: v1]'), /phi|pred/i],
  ['a phi naming a block that is not a predecessor', WELL_FORMED.replace('[b2: v4]', '[b3: v4]'), /phi|pred/i],
  ['a phi naming one predecessor twice and another not at all', WELL_FORMED.replace('[b0: v1], [b2: v4]', '[b2: v1], [b2: v4]'), /phi|pred/i],
  ['a block with no terminator', WELL_FORMED.replace('  jump b1\nb1:', '  v9 = const int 2\nb1:'), /terminator|b0/],
  ['a terminator in the middle of a block', WELL_FORMED.replace('  v5 = const int 1', '  jump b1\n  v5 = const int 1'), /terminator|middle/],
  ['a bool where an int is needed', WELL_FORMED.replace('v4 = add v2, v5', 'v4 = add v2, v3'), /int|bool|type/],
  ['a return of the wrong type', WELL_FORMED.replace('  return v2', '  return v3'), /return|bool|int/],
  ['a phi after an ordinary instruction', WELL_FORMED.replace('  v2 = phi int [b0: v1], [b2: v4]\n  v3 = lt v2, v0', '  v3 = lt v0, v0\n  v2 = phi int [b0: v1], [b2: v4]'), /phi/],
  ['a branch back to the entry block', 'function f(n: int): int {\nb0:\n  v0 = param int 0\n  v1 = lt v0, v0\n  branch v1, b0, b1\nb1:\n  return v0\n}', /entry/i],
  ['an instruction whose type is not what its operation gives', () => {
    const fn = text.parseFunction(WELL_FORMED.replace('  v4 = add v2, v5', '  v4 = add v2, v5\n  v6 = sub v2, v5'));
    fn.blocks.flatMap((b) => b.insts).find((i) => i.id === 6)!.type = 'bool'; // `sub` of ints is an int
    return fn;
  }, /v6|type|bool|int/],
];

/** A call whose arguments do not match the callee: found only with the program at hand. */
const BAD_CALL = `function g(x: int): int {
b0:
  v0 = param int 0
  return v0
}

function main(): int {
b0:
  v0 = const bool 1
  v1 = call int g(v0) @2
  return v1
}`;

check('the verifier accepts well-formed IR and names each kind of broken IR', () => {
  const good = text.parseFunction(WELL_FORMED);
  const said = (what: string, problems: readonly string[], mentions: RegExp) =>
    reportOutcome(what, { output: [problems.length === 0 ? 'no problem found' : `problems found, saying what is wrong: ${problems.some((p) => mentions.test(p))}`] });
  said('well-formed IR', verifier.verifyProblems(good), /./);
  assert.equal(verifier.verifyProblems(good), [], 'well-formed IR has no problems');
  for (const [what, source, mentions] of BROKEN) {
    let fn: Func;
    try {
      fn = typeof source === 'string' ? text.parseFunction(source) : source();
    } catch {
      reportOutcome(what, { output: ['refused by the IR parser'] });
      continue; // the parser already refuses it (the type rules run when parsing)
    }
    const problems = verifier.verifyProblems(fn);
    said(what, problems, mentions);
    assert.ok(problems.length > 0, `${what}: the verifier found nothing wrong with\n${printer.printFunction(fn)}`);
    assert.ok(problems.some((p) => mentions.test(p)), `${what}: the problems do not say what is wrong: ${problems.join('; ')}`);
  }
  const program = text.parseProgram(BAD_CALL);
  const main = program.functions.get('main')!;
  said('g, well-formed, in a program', verifier.verifyProblems(program.functions.get('g')!, program), /./);
  assert.equal(verifier.verifyProblems(program.functions.get('g')!, program), [], 'g itself is well-formed');
  const problems = verifier.verifyProblems(main, program);
  said('main calling g(int) with a bool', problems, /g|call|int|bool/);
  assert.ok(problems.some((p) => /g|call|int|bool/.test(p)), `main calls g(int) with a bool: the verifier, given the program, must say so; it found ${problems.length ? problems.join('; ') : 'nothing'}\n${printer.printFunction(main)}`);
}, { hints: [
  'Structure first (one terminator, last; phis first), then SSA: each use dominated by its definition (a phi operand at the end of its predecessor), then phi arity against the predecessors, then types.',
] });
