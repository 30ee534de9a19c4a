/**
 * Chapter 10, the unwinder on its own: a made-up unwind table and a made-up machine stack,
 * walked by the learner's `segmentFrames` and `unwind`, and the result held to what the walk
 * must give, field by field.
 *
 * Why a made-up stack when every other check runs machine code: some wrong results leave no
 * trace in a program's output. A stack pointer at the handler a slot or two too low only
 * wastes stack (and on AArch64 under qemu-user a misaligned sp does not fault, where real
 * hardware would); the catching frame's own saved registers, restored as if it were skipped,
 * break only a catching frame that keeps values in callee-saved registers, which today's
 * tiers never compile; the call depth not given back for an uncaught exception's frames
 * matters only to a later run. Here each of those is a wrong number in the result.
 *
 *   functions (code offsets from the base)        frame   saves (register at fp + offset)
 *     main     0x100  calls 0x140, 0x160 (try)       48   r3 -8, r12 -16
 *     catcher  0x200  calls 0x230 (try), 0x250       64   r3 -8, r12 -16, r13 -24
 *     middle   0x300  calls 0x320                    32   r13 -8, r14 -16
 *     inner    0x400  call 0x420, throws 0x440,      80   r13 -8, r15 -16
 *                     0x460 (try)
 *     leaf     0x500  throws 0x510                   16   nothing
 *   the entry stub's pending path at 0x10, its frame 32 bytes
 *
 * Each frame's fp is 0x100 below its caller's; the outermost frame's saved fp is the entry
 * record. A saved register's word holds 0x1000 × (the frame's depth from the outermost) +
 * the register, so every restored value says which frame it came from.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import type { Frame, Label } from '#ch04/macro-assembler.ts';
import type { HandlerTarget, UnwindSite, UnwindTable } from '#ch10/unwind-table.ts';

const unwinder = await learnerCode(import('#ch10/unwinder.ts'));
const { FunctionUnwind, UnwindTable: Table } = await learnerCode(import('#ch10/unwind-table.ts'));

const BASE = 0x4000_0000n;
const ENTRY_RECORD = 0x7fff_0001_0000n;
const ENTRY_FRAME = 32;
const PENDING = 0x10;

const label = (offset: number, name: string): Label => ({ offset, name });
const hex = (value: bigint | undefined) => (value === undefined ? 'none' : `0x${value.toString(16)}`);

interface Site { readonly at: number; readonly kind: UnwindSite['kind']; readonly line: number; readonly landing?: number }
interface Fn { readonly name: string; readonly start: number; readonly size: number; readonly saved: readonly [number, number][]; readonly sites: readonly Site[] }

const FUNCTIONS: readonly Fn[] = [
  { name: 'main', start: 0x100, size: 48, saved: [[3, -8], [12, -16]], sites: [{ at: 0x140, kind: 'call', line: 30 }, { at: 0x160, kind: 'call', line: 32, landing: 0x1f0 }] },
  { name: 'catcher', start: 0x200, size: 64, saved: [[3, -8], [12, -16], [13, -24]], sites: [{ at: 0x230, kind: 'call', line: 22, landing: 0x2c0 }, { at: 0x250, kind: 'call', line: 25 }] },
  { name: 'middle', start: 0x300, size: 32, saved: [[13, -8], [14, -16]], sites: [{ at: 0x320, kind: 'call', line: 16 }] },
  { name: 'inner', start: 0x400, size: 80, saved: [[13, -8], [15, -16]], sites: [{ at: 0x420, kind: 'call', line: 9 }, { at: 0x440, kind: 'throw', line: 10 }, { at: 0x460, kind: 'throw', line: 11, landing: 0x4f0 }] },
  { name: 'leaf', start: 0x500, size: 16, saved: [], sites: [{ at: 0x510, kind: 'throw', line: 3 }] },
];

function madeUpTable(): UnwindTable {
  const table = new Table();
  FUNCTIONS.forEach((f, index) => {
    const frame: Frame = { slots: 0, saved: f.saved.map(([r]) => r), size: f.size, slotOffset: () => 0, savedOffset: (i) => f.saved[i]![1] };
    const fn = table.begin(new FunctionUnwind(index, f.name, index % 2 === 0 ? 'baseline' : 'optimized', label(f.start, f.name), frame));
    for (const s of f.sites) {
      const handler: HandlerTarget | undefined = s.landing === undefined ? undefined : { landing: label(s.landing, `${f.name}.catch`), depth: 0, target: 0 };
      fn.sites.push({ kind: s.kind, at: s.at, line: s.line, handler });
    }
  });
  table.entry = { pending: label(PENDING, 'entry.pending'), frameSize: ENTRY_FRAME };
  return table;
}

/** One frame of a made-up stack: the function and the site its pc is at. */
type Active = readonly [name: string, site: number];

interface MadeUpStack {
  readonly frames: readonly { readonly fn: Fn; readonly site: Site; readonly fp: bigint; readonly depth: number }[];
  readonly words: Map<bigint, bigint>;
}

/** The stack for `active`, innermost first. */
function madeUpStack(active: readonly Active[]): MadeUpStack {
  const words = new Map<bigint, bigint>();
  const outermostFirst = [...active].reverse();
  const frames = outermostFirst.map(([name, at], depth) => {
    const fn = FUNCTIONS.find((f) => f.name === name)!;
    const site = fn.sites.find((s) => s.at === at)!;
    const fp = ENTRY_RECORD - 0x200n - 0x100n * BigInt(depth);
    return { fn, site, fp, depth };
  });
  frames.forEach((frame, depth) => {
    const caller = frames[depth - 1];
    words.set(frame.fp, caller === undefined ? ENTRY_RECORD : caller.fp);
    words.set(frame.fp + 8n, caller === undefined ? 0x7777_0000n : BASE + BigInt(caller.site.at));
    for (const [register, offset] of frame.fn.saved) words.set(frame.fp + BigInt(offset), 0x1000n * BigInt(depth) + BigInt(register));
  });
  return { frames: frames.reverse(), words };
}

/** What the walk must give, worked out from the layout at the top of this file. */
function expectedWalk(stack: MadeUpStack) {
  const restore = new Map<number, bigint>();
  const walked: string[] = [];
  for (const [i, frame] of stack.frames.entries()) {
    walked.push(`${frame.fn.name}:${frame.site.line}`);
    if (frame.site.landing !== undefined) {
      return { caught: true, sp: frame.fp - BigInt(frame.fn.size), fp: frame.fp, pc: BASE + BigInt(frame.site.landing), removed: i, restore, walked };
    }
    for (const [register, offset] of frame.fn.saved) restore.set(register, stack.words.get(frame.fp + BigInt(offset))!);
  }
  return { caught: false, sp: ENTRY_RECORD - BigInt(ENTRY_FRAME), fp: ENTRY_RECORD, pc: BASE + BigInt(PENDING), removed: stack.frames.length, restore, walked };
}

function machineFor(stack: MadeUpStack) {
  return {
    base: BASE,
    entryRecord: ENTRY_RECORD,
    read: (address: bigint) => {
      const word = stack.words.get(address);
      if (word === undefined) throw new Error(`the walk read [${hex(address)}], which is no saved fp, return address or saved register of any frame on this stack`);
      return word;
    },
  };
}

const SCENARIOS: readonly { readonly what: string; readonly active: readonly Active[] }[] = [
  { what: 'a throw caught in its own frame', active: [['inner', 0x460], ['middle', 0x320], ['catcher', 0x230], ['main', 0x140]] },
  { what: 'a throw in leaf caught in catcher, three frames out (inner and middle both saved r13)', active: [['leaf', 0x510], ['inner', 0x420], ['middle', 0x320], ['catcher', 0x230], ['main', 0x140]] },
  { what: 'a runtime error in inner caught one frame out, though main has a handler too', active: [['inner', 0x440], ['catcher', 0x230], ['main', 0x160]] },
  { what: 'a throw no frame catches (catcher\'s call at 0x250 is outside its try)', active: [['leaf', 0x510], ['inner', 0x420], ['middle', 0x320], ['catcher', 0x250], ['main', 0x140]] },
  { what: 'a throw in main alone, not caught', active: [['main', 0x140]] },
];

check('the unwinder on a made-up stack: the handler\'s frame, sp = fp - frame size, frames removed, and the registers the skipped frames saved', () => {
  const table = madeUpTable();
  const reports: string[] = [];
  for (const { what, active } of SCENARIOS) {
    const stack = madeUpStack(active);
    const expected = expectedWalk(stack);
    const machine = machineFor(stack);
    const shown = active.map(([name, at]) => `${name}@0x${at.toString(16)}`).join(' <- ');
    const inner = stack.frames[0]!;
    // The walk itself: every frame of the segment, innermost first.
    let frames: string[];
    try {
      frames = [...unwinder.segmentFrames(table, machine, BASE + BigInt(inner.site.at), inner.fp)].map((f) => `${f.fn.name}@0x${(f.pc - BASE).toString(16)} fp ${hex(f.fp)}`);
    } catch (error) {
      reports.push(`${what} (${shown}): segmentFrames threw ${(error as Error).message}`);
      continue;
    }
    const wantFrames = stack.frames.map((f) => `${f.fn.name}@0x${f.site.at.toString(16)} fp ${hex(f.fp)}`);
    if (frames.join('|') !== wantFrames.join('|')) reports.push(`${what} (${shown}): segmentFrames gave\n      ${frames.join('\n      ')}\n    expected\n      ${wantFrames.join('\n      ')}`);
    let got;
    try {
      got = unwinder.unwind(table, machine, BASE + BigInt(inner.site.at), inner.fp);
    } catch (error) {
      reports.push(`${what} (${shown}): unwind threw ${(error as Error).message}`);
      continue;
    }
    const problems: string[] = [];
    if (got.caught !== expected.caught) problems.push(`caught: expected ${expected.caught}, found ${got.caught}`);
    const where = expected.caught ? `the catching frame's fp ${hex(expected.fp)}` : `the entry record ${hex(ENTRY_RECORD)}`;
    if (got.fp !== expected.fp) problems.push(`fp: expected ${hex(expected.fp)} (${where}), found ${hex(got.fp)}`);
    if (got.sp !== expected.sp) problems.push(`sp: expected ${hex(expected.sp)} (${where} minus its frame size, ${expected.fp - expected.sp}), found ${hex(got.sp)} (${got.sp - expected.sp > 0n ? '+' : ''}${got.sp - expected.sp} bytes off)`);
    if (got.pc !== expected.pc) problems.push(`pc: expected ${hex(expected.pc)} (base + ${expected.caught ? 'the landing pad' : 'the entry stub\'s pending path'} 0x${(expected.pc - BASE).toString(16)}), found ${hex(got.pc)}`);
    if (got.removed !== expected.removed) problems.push(`removed: expected ${expected.removed} (${expected.caught ? 'the frames before the catching one' : 'every frame of the segment'}), found ${got.removed}`);
    const walked = got.frames.map((f) => `${f.fn.name}:${f.line}`);
    if (walked.join(' ') !== expected.walked.join(' ')) problems.push(`frames (name:line, innermost first): expected ${expected.walked.join(' ')}, found ${walked.join(' ')}`);
    const showRestore = (m: ReadonlyMap<number, bigint>) => [...m].sort(([a], [b]) => a - b).map(([r, v]) => `r${r}=${hex(v)}`).join(' ') || 'nothing';
    if (showRestore(got.restore) !== showRestore(expected.restore)) {
      problems.push(`registers to restore: expected ${showRestore(expected.restore)}, found ${showRestore(got.restore)}\n      (a value 0xD0RR is register 0xRR as saved by the frame D levels in from main, main being 0; only frames the walk removes give values, and an outer frame's save replaces an inner one's)`);
    }
    if (problems.length > 0) reports.push(`${what} (${shown}):\n    ${problems.join('\n    ')}`);
    reportOutcome(`the walk of ${what}`, { output: [...frames, `caught ${got.caught}, removed ${got.removed}`, `fp ${hex(got.fp)}, sp ${hex(got.sp)}, pc ${hex(got.pc)}`, `walked ${walked.join(' ')}`, `restore ${showRestore(got.restore)}`] });
  }
  assert.ok(reports.length === 0, `${reports.length} of ${SCENARIOS.length} walks went wrong:\n\n${reports.join('\n\n')}`);
}, { hints: [
  'Each frame: its function and site from the code offset pc - base; the caller\'s fp is [fp], its pc the return address at [fp + 8]; the segment ends at the frame whose saved fp is the entry record.',
  'Caught: sp = the catching frame\'s fp minus its frame size, exactly; removed = the frames before it; only the frames before it give registers to restore, the outermost save of a register winning.',
  'Not caught: resume in the entry stub\'s frame (fp = the entry record, sp = fp minus the entry frame\'s size) at its pending path, with every frame of the segment removed.',
] });

check('the unwinder on a made-up stack: a pc in no function, or at no call or throw site, is an UnwindError that names it', () => {
  const table = madeUpTable();
  const stack = madeUpStack([['inner', 0x420], ['main', 0x140]]);
  const machine = machineFor(stack);
  for (const [offset, what] of [[0x50, 'in no compiled function'], [0x424, 'inside inner but at none of its sites']] as const) {
    let thrown: unknown;
    try {
      [...unwinder.segmentFrames(table, machine, BASE + BigInt(offset), stack.frames[0]!.fp)];
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof unwinder.UnwindError, `a pc at code offset 0x${offset.toString(16)} (${what}): expected segmentFrames to throw an UnwindError, ${thrown === undefined ? 'but it threw nothing' : `but it threw ${(thrown as Error).name}: ${(thrown as Error).message}`}`);
    const pc = BASE + BigInt(offset);
    const message = (thrown as Error).message;
    reportOutcome(`a pc ${what}`, { output: [`an UnwindError: ${thrown instanceof unwinder.UnwindError}`, `names the pc: ${thrown instanceof Error && (message.toLowerCase().includes(`0x${pc.toString(16)}`) || message.includes(String(pc)))}`] });
    assert.ok(message.toLowerCase().includes(`0x${pc.toString(16)}`) || message.includes(String(pc)), `the UnwindError should name the pc, 0x${pc.toString(16)} (or ${pc}); its message: ${message}`);
  }
}, { hints: [
  'A pc the tables do not know means the tables or the frame chain are wrong: stop the walk with an UnwindError that says which pc (in hex), which code offset and which fp.',
] });
