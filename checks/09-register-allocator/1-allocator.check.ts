/**
 * Chapter 09, first part: the allocator's pieces on their own. Intervals of a small loop
 * written as IR text, the linear scan on random intervals (no two overlapping intervals
 * share a register, nothing that lives across a call stays in a caller-saved register, no
 * spill while registers suffice), and parallel moves executed word by word against their
 * meaning (every source read before any destination is written). What each check finds that
 * every correct allocator agrees on (intervals, what each location holds after a parallel
 * move, that a scan's round broke no rule) is reported (check.ts reportOutcome), for graded
 * work to be held to the reference's run outside the process that ran the code.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { liveness, moves, scan, text } from './support.ts';

const LOOP = `function f(p0: int): int {
b0:
  v0 = param int 0
  v1 = const int 0
  jump b1
b1:
  v2 = phi int [b0: v1], [b2: v5]
  v3 = lt v2, v0
  branch v3, b2, b3
b2:
  v5 = add v2, v0
  jump b1
b3:
  return v2
}`;

check('intervals of a loop: a value used in the loop lives to the end of the loop\'s last block', () => {
  const fn = text.parseFunction(LOOP);
  const facts = liveness.factsOf(fn);
  const order = liveness.blockOrder(fn);
  const numbering = liveness.numberInstructions(order);
  const live = liveness.liveness(fn, order, facts);
  const got = liveness.buildIntervals(numbering, live, facts);
  const show = (m: ReadonlyMap<number, { start: number; end: number }>) => [...m].sort((a, b) => a[0] - b[0]).map(([v, i]) => `v${v} [${i.start}, ${i.end}]`).join('\n');
  // Blocks b0 b1 b2 b3 at indices 0, 3, 6, 9; v1 is a constant, v3 is fused into the branch.
  const expected = new Map([[0, { start: 0, end: 17 }], [2, { start: 6, end: 20 }], [5, { start: 15, end: 17 }]]);
  reportOutcome('intervals of the loop, and what is live into b1 and out of b2', { output: [...show(got).split('\n'), `in b1: ${[...live.liveIn.get(1)!].sort()}`, `out of b2: ${[...live.liveOut.get(2)!].sort()}`] });
  assert.fixture(show(got), show(expected), `intervals of\n${LOOP}\n(- expected, + yours)`);
  assert.equal([...live.liveIn.get(1)!].sort(), [0], 'live into the loop header b1: only v0 (v2 is its own phi)');
  assert.equal([...live.liveOut.get(2)!].sort(), [0, 5], 'live out of the loop body b2: v0, and v5 for the phi');
}, { hints: [
  'liveOut(b) is the union of liveIn(s) over the successors s, plus the phi operands of s that come from b.',
  'A value live out of a block is live to the block\'s end: the loop\'s last block ends at 17, so v0, read in the header, lives to 17.',
  'Walk each block backwards: a definition starts the value\'s piece, a read before any later read ends it.',
] });

/** Random intervals over positions 0..99, some calls among them. */
function randomIntervals(random: () => number, count: number) {
  const list = [];
  for (let v = 0; v < count; v++) {
    const start = Math.floor(random() * 90);
    list.push({ value: v, start, end: start + Math.floor(random() * 30) });
  }
  return list;
}

check('linear scan: overlapping intervals never share a register, call-crossers avoid caller-saved ones', (t) => {
  const registers = [1, 2, 3, 4, 5];
  const calleeSaved = new Set([4, 5]);
  for (let round = 0; round < 200; round++) {
    const intervals = randomIntervals(t.random, 3 + Math.floor(t.random() * 12));
    const calls = round % 2 === 0 ? [] : [10, 25, 40].filter(() => t.random() < 0.7);
    const result = scan.linearScan(intervals.map((i) => ({ ...i })), { registers, calleeSaved, calls });
    for (const i of intervals) {
      const at = result.locations.get(i.value);
      assert.ok(at !== undefined, `v${i.value} [${i.start}, ${i.end}] got no location`);
      if (at.kind === 'reg') {
        assert.ok(registers.includes(at.reg), `v${i.value} got register ${at.reg}, not one of ${registers}`);
        const crossing = calls.find((j) => i.start < 2 * j && i.end > 2 * j + 1);
        assert.ok(crossing === undefined || calleeSaved.has(at.reg), `v${i.value} [${i.start}, ${i.end}] lives across the call at index ${crossing} (positions ${2 * crossing!}, ${2 * crossing! + 1}) but got caller-saved register ${at.reg}`);
      } else assert.ok(at.slot >= 0 && at.slot < result.slots, `v${i.value} got slot ${at.slot} of ${result.slots}`);
      for (const k of intervals) {
        if (k.value >= i.value) continue;
        const other = result.locations.get(k.value)!;
        const overlap = i.start <= k.end && k.start <= i.end;
        if (overlap) assert.ok(machineKey(at) !== machineKey(other), `v${i.value} [${i.start}, ${i.end}] and v${k.value} [${k.start}, ${k.end}] overlap but both are in ${machineKey(at)}`);
      }
    }
    if (calls.length === 0) {
      const most = Math.max(...Array.from({ length: 130 }, (_, p) => intervals.filter((i) => i.start <= p && p <= i.end).length));
      const spilled = intervals.filter((i) => result.locations.get(i.value)!.kind === 'slot');
      if (most <= registers.length) assert.equal(spilled.length, 0, `at most ${most} intervals are live at once and there are ${registers.length} registers, yet ${spilled.length} were spilled`);
    }
    // Which registers a scan picks may differ between correct allocators: that the round broke no rule is reported.
    reportOutcome(`linear scan round ${round + 1}`, { output: ['every interval placed, no two overlapping in one location, call-crossers in callee-saved registers, no spill while registers suffice'] });
  }
}, { hints: [
  'Visit intervals by start; first expire the active intervals whose end is before the new start, giving their registers back.',
  'An interval that lives across a call (starts before 2j, ends after 2j + 1) may only take a callee-saved register.',
  'With no register free, spill the one that ends last: the new interval, or the active one (whose register the new one then takes).',
] });

const machineKey = (l: { kind: string; reg?: number; slot?: number }) => (l.kind === 'reg' ? `r${l.reg}` : `s${l.slot}`);

check('parallel moves: cycles through the scratch register, slots through the other, in an order that keeps every value', (t) => {
  const scratch = { cycle: 90, memory: 91 };
  const locs = [
    ...[1, 2, 3, 4].map((reg) => ({ kind: 'reg' as const, reg })),
    ...[0, 1, 2].map((slot) => ({ kind: 'slot' as const, slot })),
  ];
  const cases: { from: (typeof locs)[number] | { kind: 'imm'; value: bigint }; to: (typeof locs)[number] }[][] = [
    [{ from: locs[0]!, to: locs[1]! }, { from: locs[1]!, to: locs[0]! }], // a swap
    [{ from: locs[4]!, to: locs[5]! }, { from: locs[5]!, to: locs[4]! }], // a swap of two slots
    [{ from: locs[0]!, to: locs[1]! }, { from: locs[1]!, to: locs[2]! }, { from: locs[2]!, to: locs[0]! }],
  ];
  for (let round = 0; round < 300; round++) {
    const targets = [...locs].sort(() => t.random() - 0.5).slice(0, 1 + Math.floor(t.random() * locs.length));
    cases.push(targets.map((to) => ({ from: t.random() < 0.1 ? { kind: 'imm', value: 7n } : locs[Math.floor(t.random() * locs.length)]!, to })));
  }
  for (const parallel of cases) {
    const sequence = moves.sequenceMoves(parallel, scratch);
    const state = new Map(locs.map((l) => [machineKey(l), machineKey(l)]));
    const show = () => parallel.map((m) => `${m.from.kind === 'imm' ? `#${m.from.value}` : machineKey(m.from)} → ${machineKey(m.to)}`).join(', ');
    for (const m of sequence) {
      assert.ok(!(m.from.kind === 'slot' && m.to.kind === 'slot'), `the sequence for ${show()} moves a stack slot straight to a stack slot: no instruction does that`);
      state.set(machineKey(m.to), m.from.kind === 'imm' ? `#${m.from.value}` : state.get(machineKey(m.from))!);
    }
    reportOutcome(`the parallel move ${show()}`, { output: locs.map((l) => `${machineKey(l)} holds ${state.get(machineKey(l))}`) });
    for (const l of locs) {
      const move = parallel.find((m) => machineKey(m.to) === machineKey(l));
      const want = move === undefined ? machineKey(l) : move.from.kind === 'imm' ? `#${move.from.value}` : machineKey(move.from);
      assert.is(state.get(machineKey(l)), want, `after the parallel move ${show()}, ${machineKey(l)} should hold what was in ${want}; your sequence: ${sequence.map((m) => `${m.from.kind === 'imm' ? '#' : machineKey(m.from)}→${machineKey(m.to)}`).join(', ')}`);
    }
  }
  const swap = moves.sequenceMoves(cases[0]!, scratch);
  reportOutcome('moves in a swap of two registers', { output: [String(swap.length)] });
  assert.is(swap.length, 3, `a swap of two registers takes three moves through the scratch register, not ${swap.length}`);
}, { hints: [
  'A move may go when no other pending move still reads its destination.',
  'When none can go, the rest are cycles: copy one destination to the cycle scratch register and let its readers read the scratch.',
  'A slot-to-slot move is two moves through the memory scratch register.',
] });
