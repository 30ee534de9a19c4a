/**
 * Chapter 08, second part: dominators and the verifier, the two things every pass leans on.
 * Dominators are compared with a brute-force definition (a dominates b when removing a
 * leaves b unreachable); the verifier must accept well-formed IR and name each kind of
 * broken IR.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { dominators, printer, text, verifier, type Func } from './support.ts';

/** A function with the given edges (block i jumps or branches to its successors). */
function cfg(edges: Record<number, number[]>): Func {
  const lines = ['function g(c: bool): int {'];
  for (const [id, succ] of Object.entries(edges)) {
    lines.push(`b${id}:`);
    if (Number(id) === 0) lines.push('  v0 = param bool 0', '  v1 = const int 1');
    if (succ.length === 0) lines.push('  return v1');
    else if (succ.length === 1) lines.push(`  jump b${succ[0]}`);
    else lines.push(`  branch v0, b${succ[0]}, b${succ[1]}`);
  }
  lines.push('}');
  return text.parseFunction(lines.join('\n'));
}

function reachableWithout(edges: Record<number, number[]>, removed: number): Set<number> {
  const seen = new Set<number>();
  const work = removed === 0 ? [] : [0];
  while (work.length) {
    const b = work.pop()!;
    if (seen.has(b) || b === removed) continue;
    seen.add(b);
    work.push(...(edges[b] ?? []));
  }
  return seen;
}

const SHAPES: Record<string, Record<number, number[]>> = {
  diamond: { 0: [1, 2], 1: [3], 2: [3], 3: [] },
  loop: { 0: [1], 1: [2, 4], 2: [3, 1], 3: [1], 4: [] },
  'nested loops': { 0: [1], 1: [2, 6], 2: [3], 3: [4, 5], 4: [3], 5: [1], 6: [] },
  'two entries into a loop (irreducible)': { 0: [1, 2], 1: [2], 2: [1, 3], 3: [] },
  'a long chain with a shortcut': { 0: [1, 5], 1: [2], 2: [3], 3: [4], 4: [5], 5: [] },
};

check('dominators: immediate dominators and dominates() agree with the definition', () => {
  for (const [name, edges] of Object.entries(SHAPES)) {
    const tree = dominators.dominatorTree(cfg(edges));
    const blocks = Object.keys(edges).map(Number);
    for (const a of blocks) {
      const without = reachableWithout(edges, a);
      for (const b of blocks) {
        const expected = a === b || !without.has(b);
        assert.is(tree.dominates(a, b), expected, `${name}: b${a} ${expected ? 'dominates' : 'does not dominate'} b${b}`);
      }
    }
    for (const b of blocks.filter((x) => x !== 0)) {
      const strict = blocks.filter((a) => a !== b && !reachableWithout(edges, a).has(b));
      const idom = strict.find((a) => strict.every((o) => o === a || !reachableWithout(edges, o).has(a))); // the closest: every other strict dominator dominates it
      assert.is(tree.idom.get(b), idom, `${name}: the immediate dominator of b${b}`);
    }
  }
}, { hints: [
  'Number the blocks in reverse postorder; idom(entry) = entry; for every other block, intersect the dominators of its processed predecessors; repeat until nothing changes.',
  'intersect(a, b): while a != b, move whichever has the larger reverse-postorder number up to its idom.',
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

const BROKEN: [string, string, RegExp][] = [
  ['a use its definition does not dominate', WELL_FORMED.replace('  return v2', '  return v4'), /v4/],
  ['a phi with an operand too few', WELL_FORMED.replace('phi int [b0: v1], [b2: v4]', 'phi int [b0: v1]'), /phi|pred/i],
  ['a phi naming a block that is not a predecessor', WELL_FORMED.replace('[b2: v4]', '[b3: v4]'), /phi|pred/i],
  ['a block with no terminator', WELL_FORMED.replace('  jump b1\nb1:', '  v9 = const int 2\nb1:'), /terminator|b0/],
  ['a terminator in the middle of a block', WELL_FORMED.replace('  v5 = const int 1', '  jump b1\n  v5 = const int 1'), /terminator|middle/],
  ['a bool where an int is needed', WELL_FORMED.replace('v4 = add v2, v5', 'v4 = add v2, v3'), /int|bool|type/],
  ['a return of the wrong type', WELL_FORMED.replace('  return v2', '  return v3'), /return|bool|int/],
  ['a phi after an ordinary instruction', WELL_FORMED.replace('  v2 = phi int [b0: v1], [b2: v4]\n  v3 = lt v2, v0', '  v3 = lt v0, v0\n  v2 = phi int [b0: v1], [b2: v4]'), /phi/],
];

check('the verifier accepts well-formed IR and names each kind of broken IR', () => {
  const good = text.parseFunction(WELL_FORMED);
  assert.equal(verifier.verifyProblems(good), [], 'well-formed IR has no problems');
  for (const [what, source, mentions] of BROKEN) {
    let fn: Func;
    try {
      fn = text.parseFunction(source);
    } catch {
      continue; // the parser already refuses it (the type rules run when parsing)
    }
    const problems = verifier.verifyProblems(fn);
    assert.ok(problems.length > 0, `${what}: the verifier found nothing wrong with\n${printer.printFunction(fn)}`);
    assert.ok(problems.some((p) => mentions.test(p)), `${what}: the problems do not say what is wrong: ${problems.join('; ')}`);
  }
}, { hints: [
  'Structure first (one terminator, last; phis first), then SSA: each use dominated by its definition (a phi operand at the end of its predecessor), then phi arity against the predecessors, then types.',
] });
