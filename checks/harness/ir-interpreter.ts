/**
 * An interpreter for the IR of chapter 08, the checks' oracle for every pass.
 *
 * It runs a program's IR directly, with Jot's semantics and Jot's runtime errors, so every
 * pass can be checked the only way that matters: the program prints the same lines and
 * fails the same way before the pass and after it. It knows the semantics of every
 * operation itself (it does not trust the op table under test) and reads the IR only
 * through the shapes below. It is written for clarity, not speed.
 *
 * Calls do not recurse in TypeScript: frames live on an explicit stack, so the 10,000
 * active calls Jot allows need no deep JavaScript stack.
 *
 * When control enters a block, its phis are evaluated together, all reading the values
 * as they were at the end of the predecessor (so `v2 = phi [b1: v3]; v3 = phi [b1: v2]`
 * swaps, as SSA means it to).
 */
/** Active calls allowed at once, as in every tier of the workbook. */
export const MAX_CALL_DEPTH = 10_000;

/** The IR as this interpreter reads it: the fields of chapter 08's `Inst`, `Block`, `Func`. */
export interface IrInst {
  readonly id: number;
  readonly op: string;
  readonly type: string;
  readonly args: readonly number[];
  readonly imm?: bigint;
  readonly callee?: string;
  readonly targets?: readonly number[];
  readonly preds?: readonly number[];
  readonly line: number;
}
export interface IrBlock {
  readonly id: number;
  readonly insts: readonly IrInst[];
}
export interface IrFunc {
  readonly name: string;
  readonly blocks: readonly IrBlock[];
}
export interface IrProgramShape {
  readonly functions: ReadonlyMap<string, IrFunc>;
  readonly main: string;
}

/** A runtime error of the program: `division by zero at line 3`. */
export class IrRuntimeError extends Error {
  override readonly name = 'IrRuntimeError';
  readonly line: number;
  readonly detail: string;
  constructor(detail: string, line: number) {
    super(`${detail} at line ${line}`);
    this.detail = detail;
    this.line = line;
  }
}

export interface IrRunOptions {
  readonly print?: (text: string) => void;
  /** Stop with an error after this many instructions (a runaway loop in a test). */
  readonly fuel?: number;
  /** Counts the instructions executed (for checks that budget their work). */
  readonly counter?: { steps: number };
  /** Semantics of operations a later chapter adds. */
  readonly extraOps?: ReadonlyMap<string, (operands: readonly bigint[]) => bigint>;
}

const wrap = (x: bigint) => BigInt.asIntN(64, x);
const bit = (b: boolean) => (b ? 1n : 0n);
class DivisionByZero extends Error {}
const divisor = (b: bigint) => {
  if (b === 0n) throw new DivisionByZero();
  return b;
};

/** Jot's semantics of each operation on plain values. */
const SEMANTICS: ReadonlyMap<string, (x: readonly bigint[]) => bigint> = new Map<string, (x: readonly bigint[]) => bigint>([
  ['copy', ([a]) => a!],
  ['add', ([a, b]) => wrap(a! + b!)],
  ['sub', ([a, b]) => wrap(a! - b!)],
  ['mul', ([a, b]) => wrap(a! * b!)],
  ['div', ([a, b]) => wrap(a! / divisor(b!))],
  ['mod', ([a, b]) => a! % divisor(b!)],
  ['mulhi', ([a, b]) => wrap((a! * b!) >> 64n)],
  ['and', ([a, b]) => a! & b!],
  ['or', ([a, b]) => a! | b!],
  ['xor', ([a, b]) => a! ^ b!],
  ['shl', ([a, b]) => wrap(a! << (b! & 63n))],
  ['sar', ([a, b]) => a! >> (b! & 63n)],
  ['shr', ([a, b]) => wrap(BigInt.asUintN(64, a!) >> (b! & 63n))],
  ['neg', ([a]) => wrap(-a!)],
  ['bitnot', ([a]) => ~a!],
  ['not', ([a]) => a! ^ 1n],
  ['eq', ([a, b]) => bit(a === b)],
  ['ne', ([a, b]) => bit(a !== b)],
  ['lt', ([a, b]) => bit(a! < b!)],
  ['le', ([a, b]) => bit(a! <= b!)],
  ['gt', ([a, b]) => bit(a! > b!)],
  ['ge', ([a, b]) => bit(a! >= b!)],
]);

/** A block made ready to run: phis apart, the operands each phi takes from each predecessor. */
interface ReadyBlock {
  readonly id: number;
  readonly phis: readonly IrInst[];
  /** Predecessor → the value each phi takes when coming from it, in phi order. */
  readonly incoming: ReadonlyMap<number, readonly number[]>;
  readonly body: readonly IrInst[];
}

interface ReadyFunc {
  readonly fn: IrFunc;
  readonly blocks: ReadonlyMap<number, ReadyBlock>;
  readonly entry: ReadyBlock;
  readonly bools: ReadonlySet<number>;
  /** The evaluation function of each plain-value instruction. */
  readonly evaluate: ReadonlyMap<IrInst, (operands: readonly bigint[]) => bigint>;
}

interface Frame {
  readonly ready: ReadyFunc;
  readonly values: bigint[];
  block: ReadyBlock;
  index: number;
  /** The call instruction's value number in the caller, waiting for the result. */
  readonly resultTo: number;
}

const CONTROL = new Set(['param', 'phi', 'const', 'jump', 'branch', 'return', 'print', 'call']);

function prepare(fn: IrFunc, extraOps: IrRunOptions['extraOps']): ReadyFunc {
  const evaluate = new Map<IrInst, (operands: readonly bigint[]) => bigint>();
  const blocks = new Map<number, ReadyBlock>();
  for (const block of fn.blocks) {
    const phis = block.insts.filter((i) => i.op === 'phi');
    const incoming = new Map<number, number[]>();
    phis.forEach((phi, k) => {
      phi.preds?.forEach((pred, j) => {
        let list = incoming.get(pred);
        if (list === undefined) incoming.set(pred, (list = []));
        list[k] = phi.args[j]!;
      });
    });
    const body = block.insts.filter((i) => i.op !== 'phi');
    for (const inst of body) {
      if (CONTROL.has(inst.op)) continue;
      const f = SEMANTICS.get(inst.op) ?? extraOps?.get(inst.op);
      if (f === undefined) throw new Error(`the IR interpreter does not know the operation '${inst.op}'`);
      evaluate.set(inst, f);
    }
    blocks.set(block.id, { id: block.id, phis, incoming, body });
  }
  const bools = new Set(fn.blocks.flatMap((b) => b.insts.filter((i) => i.type === 'bool').map((i) => i.id)));
  return { fn, blocks, entry: blocks.get(fn.blocks[0]!.id)!, bools, evaluate };
}

export function runIr(program: IrProgramShape, options: IrRunOptions = {}): bigint {
  const print = options.print ?? ((text) => console.log(text));
  let fuel = options.fuel ?? Infinity;
  const ready = new Map<string, ReadyFunc>();
  const frameFor = (fn: IrFunc, args: readonly bigint[], resultTo: number): Frame => {
    let r = ready.get(fn.name);
    if (r === undefined) ready.set(fn.name, (r = prepare(fn, options.extraOps)));
    const values: bigint[] = [];
    for (const inst of r.entry.body) if (inst.op === 'param') values[inst.id] = args[Number(inst.imm)]!;
    return { ready: r, values, block: r.entry, index: 0, resultTo };
  };

  const main = program.functions.get(program.main);
  if (main === undefined) throw new Error(`the program has no function '${program.main}'`);
  const frames: Frame[] = [frameFor(main, [], -1)];

  const enter = (frame: Frame, target: number) => {
    const from = frame.block.id;
    const next = frame.ready.blocks.get(target);
    if (next === undefined) throw new Error(`${frame.ready.fn.name}: jump to missing block b${target}`);
    if (next.phis.length > 0) {
      const sources = next.incoming.get(from);
      if (sources === undefined || sources.length !== next.phis.length || sources.includes(undefined as never)) {
        throw new Error(`${frame.ready.fn.name}: a phi in b${target} has no operand for b${from}`);
      }
      const incoming = sources.map((v) => read(frame, v));
      next.phis.forEach((phi, k) => (frame.values[phi.id] = incoming[k]!));
    }
    frame.block = next;
    frame.index = 0;
  };

  for (;;) {
    const frame = frames[frames.length - 1]!;
    const inst = frame.block.body[frame.index++];
    if (inst === undefined) throw new Error(`${frame.ready.fn.name}: b${frame.block.id} has no terminator`);
    if (--fuel < 0) throw new Error('the IR interpreter ran out of fuel (an endless loop?)');
    if (options.counter) options.counter.steps++;
    const values = frame.values;
    switch (inst.op) {
      case 'param':
        break;
      case 'const':
        values[inst.id] = inst.imm!;
        break;
      case 'jump':
        enter(frame, inst.targets![0]!);
        break;
      case 'branch':
        enter(frame, inst.targets![read(frame, inst.args[0]!) !== 0n ? 0 : 1]!);
        break;
      case 'return': {
        const result = read(frame, inst.args[0]!);
        frames.pop();
        const caller = frames[frames.length - 1];
        if (caller === undefined) return result;
        caller.values[frame.resultTo] = result;
        break;
      }
      case 'print': {
        const value = read(frame, inst.args[0]!);
        print(frame.ready.bools.has(inst.args[0]!) ? (value === 0n ? 'false' : 'true') : String(value));
        break;
      }
      case 'call': {
        const callee = program.functions.get(inst.callee!);
        if (callee === undefined) throw new Error(`${frame.ready.fn.name}: call to missing function '${inst.callee}'`);
        if (frames.length >= MAX_CALL_DEPTH) throw new IrRuntimeError(`stack overflow in ${frame.ready.fn.name}`, inst.line);
        frames.push(frameFor(callee, inst.args.map((a) => read(frame, a)), inst.id));
        break;
      }
      default: {
        const operands = inst.args.length === 2 ? [read(frame, inst.args[0]!), read(frame, inst.args[1]!)] : inst.args.map((a) => read(frame, a));
        try {
          values[inst.id] = frame.ready.evaluate.get(inst)!(operands);
        } catch (e) {
          if (e instanceof DivisionByZero) throw new IrRuntimeError('division by zero', inst.line);
          throw e;
        }
      }
    }
  }
}

function read(frame: Frame, value: number): bigint {
  const v = frame.values[value];
  if (v === undefined) throw new Error(`${frame.ready.fn.name}: v${value} is read before it is computed`);
  return v;
}
