/**
 * Chapter 08: an interpreter for the IR.
 *
 * It runs a program's IR directly, with Jot's semantics and Jot's runtime errors, so every
 * pass can be checked the only way that matters: the program prints the same lines and
 * fails the same way before the pass and after it. It is written for clarity, not speed.
 *
 * Calls do not recurse in TypeScript: frames live on an explicit stack, so the 10,000
 * active calls Jot allows need no deep JavaScript stack.
 *
 * When control enters a block, its phis are evaluated together, all reading the values
 * as they were at the end of the predecessor (so `v2 = phi [b1: v3]; v3 = phi [b1: v2]`
 * swaps, as SSA means it to).
 */
import { MAX_CALL_DEPTH, RuntimeError } from '#ch06/interpreter.ts';
import { blockById, type Block, type Func, type IrProgram } from './ir.ts';
import { CORE_OPS, DivisionByZero, opInfo, type OpTable } from './ops.ts';

export interface IrRunOptions {
  readonly print?: (text: string) => void;
  readonly ops?: OpTable;
  /** Stop with an error after this many instructions (a runaway loop in a test). */
  readonly fuel?: number;
}

interface Frame {
  readonly fn: Func;
  readonly blocks: ReadonlyMap<number, Block>;
  readonly values: bigint[];
  block: Block;
  index: number;
  /** The call instruction's value number in the caller, waiting for the result. */
  readonly resultTo: number;
}

export function runIr(program: IrProgram, options: IrRunOptions = {}): bigint {
  const ops = options.ops ?? CORE_OPS;
  const print = options.print ?? ((text) => console.log(text));
  let fuel = options.fuel ?? Infinity;
  const blockMaps = new Map<string, ReadonlyMap<number, Block>>();
  const frameFor = (fn: Func, args: readonly bigint[], resultTo: number): Frame => {
    let blocks = blockMaps.get(fn.name);
    if (blocks === undefined) blockMaps.set(fn.name, (blocks = blockById(fn)));
    const values: bigint[] = [];
    const entry = fn.blocks[0]!;
    for (const inst of entry.insts) if (inst.op === 'param') values[inst.id] = args[Number(inst.imm)]!;
    return { fn, blocks, values, block: entry, index: 0, resultTo };
  };

  const main = program.functions.get(program.main);
  if (main === undefined) throw new Error(`the program has no function '${program.main}'`);
  const frames: Frame[] = [frameFor(main, [], -1)];

  const enter = (frame: Frame, target: number) => {
    const from = frame.block.id;
    const next = frame.blocks.get(target);
    if (next === undefined) throw new Error(`${frame.fn.name}: jump to missing block b${target}`);
    const phis = next.insts.filter((i) => i.op === 'phi');
    const incoming = phis.map((phi) => {
      const k = phi.preds!.indexOf(from);
      if (k < 0) throw new Error(`${frame.fn.name}: phi v${phi.id} in b${target} has no operand for b${from}`);
      return frame.values[phi.args[k]!]!;
    });
    phis.forEach((phi, k) => (frame.values[phi.id] = incoming[k]!));
    frame.block = next;
    frame.index = phis.length;
  };

  for (;;) {
    const frame = frames.at(-1)!;
    const inst = frame.block.insts[frame.index++];
    if (inst === undefined) throw new Error(`${frame.fn.name}: b${frame.block.id} has no terminator`);
    if (--fuel < 0) throw new Error('the IR interpreter ran out of fuel (an endless loop?)');
    const values = frame.values;
    const arg = (k: number) => {
      const v = values[inst.args[k]!];
      if (v === undefined) throw new Error(`${frame.fn.name}: v${inst.args[k]} is read before it is computed`);
      return v;
    };
    switch (inst.op) {
      case 'param':
      case 'phi':
        break;
      case 'const':
        values[inst.id] = inst.imm!;
        break;
      case 'jump':
        enter(frame, inst.targets![0]!);
        break;
      case 'branch':
        enter(frame, inst.targets![arg(0) !== 0n ? 0 : 1]!);
        break;
      case 'return': {
        const result = arg(0);
        frames.pop();
        const caller = frames.at(-1);
        if (caller === undefined) return result;
        caller.values[frame.resultTo] = result;
        break;
      }
      case 'print':
        print(isBool(frame, inst.args[0]!) ? (arg(0) === 0n ? 'false' : 'true') : String(arg(0)));
        break;
      case 'call': {
        const callee = program.functions.get(inst.callee!);
        if (callee === undefined) throw new Error(`${frame.fn.name}: call to missing function '${inst.callee}'`);
        if (frames.length >= MAX_CALL_DEPTH) throw new RuntimeError(`stack overflow in ${frame.fn.name}`, inst.line);
        frames.push(frameFor(callee, inst.args.map((_, k) => arg(k)), inst.id));
        break;
      }
      default: {
        const info = opInfo(ops, inst.op);
        if (info.evaluate === undefined) throw new Error(`the IR interpreter cannot run '${inst.op}'`);
        try {
          values[inst.id] = info.evaluate(inst.args.map((_, k) => arg(k)));
        } catch (e) {
          if (e instanceof DivisionByZero) throw new RuntimeError('division by zero', inst.line);
          throw e;
        }
      }
    }
  }
}

/** Whether value `id` of the frame's function is a bool (print shows `true`/`false`). */
function isBool(frame: Frame, id: number): boolean {
  let types = boolCache.get(frame.fn);
  if (types === undefined) {
    types = new Set(frame.fn.blocks.flatMap((b) => b.insts.filter((i) => i.type === 'bool').map((i) => i.id)));
    boolCache.set(frame.fn, types);
  }
  return types.has(id);
}

const boolCache = new WeakMap<Func, Set<number>>();
