/**
 * Chapter 08: from stack bytecode to SSA.
 *
 * The bytecode keeps every value in a slot: a local, or an entry of the operand stack at a
 * depth the compiler knew. Here each slot becomes a *variable*, and every write of a
 * variable a new SSA value. `load 2` no longer moves anything: it just means "the current
 * value of variable 2", and `add` becomes `v9 = add v7, v8` of whichever values those are.
 *
 * Where control flow merges, a variable can have different values on different incoming
 * edges: there the builder puts a phi. It uses the on-the-fly construction of Braun,
 * Buchwald, Hack, Leißa, Mallon and Zwinkau ("Simple and Efficient Construction of Static
 * Single Assignment Form", 2013):
 *
 *   writeVariable(x, block, v)   remember v as x's current value in block
 *   readVariable(x, block)       x's value in block: the local one if block wrote x,
 *                                else ask the predecessors: one predecessor → its value;
 *                                several → a phi whose operands are each predecessor's value
 *
 * A block is *sealed* once all its predecessors are known; reading a variable in a block
 * that is not sealed yet (a loop header, while its loop body is still being built) puts an
 * empty phi there and fills it in when the block is sealed. A phi whose operands are all
 * the same value (or itself) is trivial and is replaced by that value, recursively.
 *
 * Why this construction and not the classic one through dominance frontiers: it needs no
 * dominator tree and no liveness, it goes straight from the bytecode in one walk, and it
 * makes no phi that nothing reads: exactly what a JIT wants.
 *
 * Types: the bytecode keeps no types on constants (`true` is `const 1`), so the builder
 * recovers them from uses (`branch` wants a bool, `lt` ints, a call its parameters' types,
 * `eq` one type on both sides, a phi one type for all of its operands) by unifying values
 * into classes; a class nothing constrains is `int`.
 */
import { OPCODE_INFO, Op, lineAt, readU16, type CompiledFunction, type CompiledProgram, type OpcodeSet, type OpName } from '#ch06/bytecode.ts';
import { VOID, makeInst, newBlock, replaceAllUses, type Block, type Func, type Inst, type IrProgram, type NewInst, type Type } from './ir.ts';

/** Bytecode operations that become one IR operation of the same shape. */
const SIMPLE: Partial<Record<OpName, string>> = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', mod: 'mod',
  bit_and: 'and', bit_or: 'or', bit_xor: 'xor', shl: 'shl', sar: 'sar', shr: 'shr',
  neg: 'neg', bit_not: 'bitnot', not: 'not',
  eq: 'eq', ne: 'ne', lt: 'lt', le: 'le', gt: 'gt', ge: 'ge',
};

const NAMES = new Map(Object.entries(Op).map(([name, code]) => [code as number, name as OpName]));

function sizeOf(opcode: number): number {
  const name = NAMES.get(opcode);
  if (name === undefined) throw new Error(`the SSA builder does not know opcode 0x${opcode.toString(16)}`);
  return 1 + OPCODE_INFO[name].operands.reduce((n, kind) => n + (kind === 'u8' ? 1 : 2), 0);
}

/**
 * Bytecode a later chapter adds that ends its block, as `ret` does (chapter 10: `throw`).
 * Each such instruction is a region of its own, built here rather than by `#fill`: it pops
 * one operand of the stated type and becomes one IR terminator with no successors.
 *
 * A later chapter's ordinary instructions (chapter 11: the heap's) are regions of their own
 * too, built by `instructions`: each pops its operands (the opcode table says how many), makes
 * its IR and may push one value; control then falls into the next region. The blocks this
 * makes are merged again by CFG simplification.
 */
export interface BuildExtension {
  /** The level's opcodes (their sizes). */
  readonly opcodes: OpcodeSet;
  /** By opcode: the IR terminator it becomes and its operand's type. */
  readonly terminators: ReadonlyMap<number, { readonly op: string; readonly operand: string }>;
  /** By opcode: how an added ordinary instruction becomes IR. */
  readonly instructions?: ReadonlyMap<number, AddedInstruction>;
  /** The IR type of a front-end type (default: the same name). Chapter 11: every reference type is `ref`. */
  readonly irType?: (type: string) => Type;
  /**
   * Front-end types of variables at bytecode offset `pc` that the bytecode states beside
   * itself (chapter 11: a GC point's stack map), by variable (a local's slot, or `locals + d`
   * for operand-stack entry d); undefined where it states none. They become type hints.
   */
  readonly typesAt?: (code: CompiledFunction, pc: number) => ReadonlyMap<number, string> | undefined;
}

/** What an added instruction's builder is given: its operands (the first popped last) and a way to emit. */
export interface AddedInstructionSite {
  readonly code: CompiledFunction;
  readonly pc: number;
  readonly line: number;
  readonly args: readonly number[];
  /** Appends an instruction to the region's block; returns its value number. */
  emit(spec: NewInst): number;
  /** The value must have this IR type (as print says of its operand). */
  hint(value: number, type: Type): void;
}

/** Builds an added instruction's IR; returns the value it pushes, if its opcode pushes one. */
export type AddedInstruction = (site: AddedInstructionSite) => number | undefined;

/** The whole program as SSA, one function per bytecode function. */
export function buildProgram(program: CompiledProgram): IrProgram {
  const functions = new Map<string, Func>();
  for (const fn of program.functions) functions.set(fn.name, buildFunction(fn, program));
  return { functions, main: program.functions[program.main]!.name };
}

interface Region {
  readonly start: number;
  readonly end: number;
  readonly block: Block;
  /** Operand-stack depth at the start. */
  depth: number;
}

/**
 * A second way into a function (chapter 12: on-stack replacement into the optimizing tier): a
 * block that makes every local's value with `value` and jumps to the loop header at bytecode
 * offset `header`, where the operand stack must be empty.
 *
 * The entry block branches on the constant `true` to that block, and on `false` to the
 * function's own start: so every variable at the header is a phi of the value the ordinary
 * path brings, the value made there and the back edges' values, and type recovery gives the
 * made values exactly the types the ordinary build gives the variables at the header. The
 * optimizer's constant propagation then removes the ordinary path and those phis' operands.
 */
export interface OsrEntry {
  readonly header: number;
  /** The instruction that makes local `variable`'s value (its type `?`: type recovery decides). */
  value(variable: number): NewInst;
}

export function buildFunction(code: CompiledFunction, program: CompiledProgram, extension?: BuildExtension, osr?: OsrEntry): Func {
  return new SsaBuilder(code, program, extension, osr).build();
}

class SsaBuilder {
  readonly #code: CompiledFunction;
  readonly #program: CompiledProgram;
  readonly #fn: Func;
  /** Per block: variable → its current value there. */
  readonly #defs = new Map<number, Map<number, number>>();
  readonly #sealed = new Set<number>();
  /** Per unsealed block: the empty phis made for reads, by variable. */
  readonly #incomplete = new Map<number, Map<number, Inst>>();
  readonly #preds = new Map<number, number[]>();
  readonly #insts = new Map<number, Inst>();
  readonly #blockOf = new Map<number, Block>();
  /** Values found equal to another (trivial phis removed), applied at the end. */
  readonly #replaced = new Map<number, number>();
  /** A variable read where nothing wrote it: a zero (only dead phis ever see these). */
  readonly #undefined = new Map<number, number>();
  /** Types the bytecode states outright: the operand of `print` is an int, of `print_bool` a bool. */
  readonly #typeHints = new Map<number, string>();
  #entry!: Block;

  readonly #extension: BuildExtension | undefined;
  readonly #osr: OsrEntry | undefined;

  constructor(code: CompiledFunction, program: CompiledProgram, extension?: BuildExtension, osr?: OsrEntry) {
    this.#code = code;
    this.#program = program;
    this.#extension = extension;
    this.#osr = osr;
    const irType = extension?.irType ?? ((type: string) => type);
    this.#fn = {
      name: code.name,
      params: code.params.map((type, i) => ({ name: `p${i}`, type: irType(type) })),
      returnType: irType(code.returnType),
      blocks: [],
      nextValue: 0,
      nextBlock: 0,
    };
  }

  build(): Func {
    const fn = this.#fn;
    const bytes = this.#code.code;
    this.#entry = newBlock(fn);
    this.#seal(this.#entry.id);

    // Leaders: offset 0, every jump target, every instruction after a jump or a return.
    const leaders = new Set<number>([0]);
    for (let pc = 0; pc < bytes.length; pc += this.#size(bytes[pc]!)) {
      const op = bytes[pc]!;
      if (op === Op.jump || op === Op.jump_if_false) leaders.add(readU16(bytes, pc + 1));
      if (op === Op.jump || op === Op.jump_if_false || op === Op.ret) leaders.add(pc + sizeOf(op));
      // An added terminator or instruction is a region of its own.
      if (this.#added(op)) leaders.add(pc).add(pc + this.#size(op));
      // So is each offset with stated types: they hold where the region starts.
      if (this.#extension?.typesAt?.(this.#code, pc) !== undefined) leaders.add(pc);
    }
    const starts = [...leaders].filter((s) => s < bytes.length).sort((a, b) => a - b);
    const regions = new Map<number, Region>();
    starts.forEach((start, i) => regions.set(start, { start, end: starts[i + 1] ?? bytes.length, block: newBlock(fn), depth: -1 }));

    // The CFG and each region's starting stack depth, following only reachable code.
    const edges = new Map<number, number[]>();
    const reachable: Region[] = [];
    const first = regions.get(0)!;
    first.depth = 0;
    const work = [first];
    const seen = new Set<number>([0]);
    while (work.length > 0) {
      const region = work.pop()!;
      reachable.push(region);
      const { successors, depth } = this.#scan(region, regions);
      edges.set(region.start, successors.map((s) => s.start));
      for (const next of successors) {
        if (next.depth === -1) next.depth = depth;
        else if (next.depth !== depth) throw new Error(`${fn.name}: offset ${next.start} is reached with stack depths ${next.depth} and ${depth}`);
        if (!seen.has(next.start)) {
          seen.add(next.start);
          work.push(next);
        }
      }
    }
    reachable.sort((a, b) => a.start - b.start);
    const reachableBlocks = new Set(reachable.map((r) => r.block.id));
    fn.blocks = fn.blocks.filter((b) => b === this.#entry || reachableBlocks.has(b.id));
    for (const region of reachable) this.#preds.set(region.block.id, []);
    this.#preds.get(first.block.id)!.push(this.#entry.id);
    for (const region of reachable) {
      for (const target of edges.get(region.start)!) this.#preds.get(regions.get(target)!.block.id)!.push(region.block.id);
    }

    // The entry block: parameters become the first variables.
    this.#code.params.forEach((type, i) => {
      const param = this.#emit(this.#entry, { op: 'param', type, imm: BigInt(i) });
      this.#write(i, this.#entry.id, param.id);
    });
    const filled = new Set<number>([this.#entry.id]);
    if (this.#osr === undefined) this.#emit(this.#entry, { op: 'jump', type: VOID, targets: [first.block.id] });
    else filled.add(this.#osrEntry(this.#osr, regions.get(this.#osr.header), first));

    // Fill the blocks in bytecode order; seal each block once all its predecessors are filled.
    const trySeal = () => {
      for (const region of reachable) {
        const id = region.block.id;
        if (!this.#sealed.has(id) && this.#preds.get(id)!.every((p) => filled.has(p))) this.#seal(id);
      }
    };
    trySeal();
    for (const region of reachable) {
      this.#statedTypes(region);
      if (this.#addedTerminator(region) !== undefined) this.#fillTerminator(region);
      else if (this.#addedInstruction(region) !== undefined) this.#fillInstruction(region, regions);
      else this.#fill(region, regions);
      filled.add(region.block.id);
      trySeal();
    }

    replaceAllUses(fn, this.#replaced);
    for (const block of fn.blocks) block.insts = block.insts.filter((i) => !this.#replaced.has(i.id));
    removeDeadPhis(fn);
    const hints = new Map([...this.#typeHints].map(([value, type]) => [this.#resolve(value), type]));
    const irType = this.#extension?.irType;
    if (irType !== undefined) {
      // Types written on instructions (a call's result) are front-end types: make them IR types.
      for (const block of fn.blocks) for (const inst of block.insts) if (inst.type !== '?' && inst.type !== VOID) inst.type = irType(inst.type);
    }
    recoverTypes(fn, this.#program, hints, irType);
    return fn;
  }

  /** The entry block's branch to the ordinary start and to a block entering at the loop header (see OsrEntry); returns that block. */
  #osrEntry(osr: OsrEntry, header: Region | undefined, first: Region): number {
    const name = this.#fn.name;
    if (header === undefined || !this.#preds.has(header.block.id)) throw new Error(`${name}: offset ${osr.header} is not the start of reachable code: no loop header to enter at`);
    if (header.depth !== 0) throw new Error(`${name}: the loop header at offset ${osr.header} has ${header.depth} values on the operand stack: only an empty one can be entered`);
    const entering = newBlock(this.#fn);
    this.#preds.set(entering.id, [this.#entry.id]);
    this.#preds.get(header.block.id)!.push(entering.id);
    const yes = this.#emit(this.#entry, { op: 'const', type: '?', imm: 1n });
    this.#emit(this.#entry, { op: 'branch', type: VOID, args: [yes.id], targets: [entering.id, first.block.id] });
    this.#seal(entering.id);
    for (let variable = 0; variable < this.#code.locals; variable++) this.#write(variable, entering.id, this.#emit(entering, osr.value(variable)).id);
    this.#emit(entering, { op: 'jump', type: VOID, targets: [header.block.id] });
    return entering.id;
  }

  /** The successors of a region and the stack depth at its end, without emitting anything. */
  #scan(region: Region, regions: ReadonlyMap<number, Region>): { successors: Region[]; depth: number } {
    const bytes = this.#code.code;
    let depth = region.depth;
    if (this.#addedTerminator(region) !== undefined) return { successors: [], depth: depth - 1 };
    if (this.#addedInstruction(region) !== undefined) {
      const info = this.#extension!.opcodes.byCode[bytes[region.start]!]!;
      return { successors: [regions.get(region.end)!], depth: depth - info.pops + info.pushes };
    }
    for (let pc = region.start; pc < region.end; pc += sizeOf(bytes[pc]!)) {
      const op = bytes[pc]!;
      const name = NAMES.get(op)!;
      const info = OPCODE_INFO[name];
      depth += info.pushes - (op === Op.call ? bytes[pc + 3]! : info.pops);
      if (op === Op.jump) return { successors: [regions.get(readU16(bytes, pc + 1))!], depth };
      if (op === Op.jump_if_false) return { successors: [regions.get(pc + 3)!, regions.get(readU16(bytes, pc + 1))!], depth };
      if (op === Op.ret) return { successors: [], depth };
    }
    return { successors: [regions.get(region.end)!], depth };
  }

  #fill(region: Region, regions: ReadonlyMap<number, Region>): void {
    const code = this.#code;
    const bytes = code.code;
    const block = region.block;
    const stackBase = code.locals;
    let depth = region.depth;
    const push = (value: number) => this.#write(stackBase + depth++, block.id, value);
    const pop = () => this.#read(stackBase + --depth, block.id);
    const emit = (spec: Parameters<typeof makeInst>[1]) => this.#emit(block, spec);

    for (let pc = region.start; pc < region.end; pc += sizeOf(bytes[pc]!)) {
      const op = bytes[pc]!;
      const name = NAMES.get(op)!;
      const line = lineAt(code, pc);
      const simple = SIMPLE[name];
      if (simple !== undefined) {
        const arity = OPCODE_INFO[name].pops;
        const args = arity === 2 ? (() => { const b = pop(); const a = pop(); return [a, b]; })() : [pop()];
        push(emit({ op: simple, type: '?', args, line }).id);
        continue;
      }
      switch (op) {
        case Op.const:
          push(emit({ op: 'const', type: '?', imm: code.constants[readU16(bytes, pc + 1)]!, line }).id);
          break;
        case Op.load:
          push(this.#read(bytes[pc + 1]!, block.id));
          break;
        case Op.store:
          this.#write(bytes[pc + 1]!, block.id, pop());
          break;
        case Op.pop:
          pop();
          break;
        case Op.print:
        case Op.print_bool: {
          const value = pop();
          this.#typeHints.set(value, op === Op.print ? 'int' : 'bool');
          emit({ op: 'print', type: VOID, args: [value], line });
          break;
        }
        case Op.call: {
          const callee = this.#program.functions[readU16(bytes, pc + 1)]!;
          const argc = bytes[pc + 3]!;
          const args: number[] = [];
          for (let i = 0; i < argc; i++) args.unshift(pop());
          push(emit({ op: 'call', type: callee.returnType, callee: callee.name, args, line }).id);
          break;
        }
        case Op.ret:
          emit({ op: 'return', type: VOID, args: [pop()], line });
          return;
        case Op.jump:
          emit({ op: 'jump', type: VOID, targets: [regions.get(readU16(bytes, pc + 1))!.block.id], line });
          return;
        case Op.jump_if_false: {
          const cond = pop();
          const onFalse = regions.get(readU16(bytes, pc + 1))!.block.id;
          const onTrue = regions.get(pc + 3)!.block.id;
          emit({ op: 'branch', type: VOID, args: [cond], targets: [onTrue, onFalse], line });
          return;
        }
        default:
          throw new Error(`${code.name}: the SSA builder does not know opcode ${name}`);
      }
    }
    // The region runs into the next one.
    emit({ op: 'jump', type: VOID, targets: [regions.get(region.end)!.block.id] });
  }

  /** Bytes of the instruction `opcode` starts, the level's added opcodes included. */
  #size(opcode: number): number {
    return this.#added(opcode) ? this.#extension!.opcodes.size(opcode) : sizeOf(opcode);
  }

  /** Is `opcode` a later chapter's terminator or instruction? */
  #added(opcode: number): boolean {
    return this.#extension?.terminators.has(opcode) === true || this.#extension?.instructions?.has(opcode) === true;
  }

  /** The added instruction this region consists of, if it is one. */
  #addedInstruction(region: Region): AddedInstruction | undefined {
    return this.#extension?.instructions?.get(this.#code.code[region.start]!);
  }

  /** A region that is one added instruction: its operands off the stack, its IR, its result pushed. */
  #fillInstruction(region: Region, regions: ReadonlyMap<number, Region>): void {
    const build = this.#addedInstruction(region)!;
    const info = this.#extension!.opcodes.byCode[this.#code.code[region.start]!]!;
    const base = this.#code.locals + region.depth - info.pops;
    const block = region.block;
    const args: number[] = [];
    for (let i = 0; i < info.pops; i++) args.push(this.#read(base + i, block.id));
    const pushed = build({
      code: this.#code,
      pc: region.start,
      line: lineAt(this.#code, region.start),
      args,
      emit: (spec) => this.#emit(block, spec).id,
      hint: (value, type) => void this.#typeHints.set(value, type),
    });
    if (info.pushes > 0) {
      if (pushed === undefined) throw new Error(`${this.#code.name}: the builder of opcode ${info.name} pushed nothing`);
      this.#write(base, block.id, pushed);
    }
    this.#emit(block, { op: 'jump', type: VOID, targets: [regions.get(region.end)!.block.id] });
  }

  /** Type hints for the variables whose types are stated where `region` starts. */
  #statedTypes(region: Region): void {
    const types = this.#extension?.typesAt?.(this.#code, region.start);
    if (types === undefined) return;
    const irType = this.#extension!.irType ?? ((type: string) => type);
    for (const [variable, type] of types) this.#typeHints.set(this.#read(variable, region.block.id), irType(type));
  }

  /** The added terminator this region consists of, if it is one. */
  #addedTerminator(region: Region): { readonly op: string; readonly operand: string } | undefined {
    return this.#extension?.terminators.get(this.#code.code[region.start]!);
  }

  /** A region that is one added terminator: its operand off the stack, then the IR terminator. */
  #fillTerminator(region: Region): void {
    const { op, operand } = this.#addedTerminator(region)!;
    const value = this.#read(this.#code.locals + region.depth - 1, region.block.id);
    this.#typeHints.set(value, operand);
    this.#emit(region.block, { op, type: VOID, args: [value], line: lineAt(this.#code, region.start) });
  }

  #emit(block: Block, spec: Parameters<typeof makeInst>[1]): Inst {
    const inst = makeInst(this.#fn, spec);
    block.insts.push(inst);
    this.#insts.set(inst.id, inst);
    this.#blockOf.set(inst.id, block);
    return inst;
  }

  // ── Braun et al. ──────────────────────────────────────────────────────────────────

  #write(variable: number, block: number, value: number): void {
    let defs = this.#defs.get(block);
    if (defs === undefined) this.#defs.set(block, (defs = new Map()));
    defs.set(variable, value);
  }

  #read(variable: number, block: number): number {
    const local = this.#defs.get(block)?.get(variable);
    if (local !== undefined) return this.#resolve(local);
    return this.#readRecursive(variable, block);
  }

  #resolve(value: number): number {
    while (this.#replaced.has(value)) value = this.#replaced.get(value)!;
    return value;
  }

  #readRecursive(variable: number, block: number): number {
    let value: number;
    const preds = this.#preds.get(block) ?? [];
    if (!this.#sealed.has(block)) {
      const phi = this.#phi(block);
      let incomplete = this.#incomplete.get(block);
      if (incomplete === undefined) this.#incomplete.set(block, (incomplete = new Map()));
      incomplete.set(variable, phi);
      value = phi.id;
    } else if (block === this.#entry.id) {
      value = this.#undefinedValue(variable);
    } else if (preds.length === 1) {
      value = this.#read(variable, preds[0]!);
    } else {
      // Break cycles: write the phi before reading the operands.
      const phi = this.#phi(block);
      this.#write(variable, block, phi.id);
      value = this.#addOperands(variable, phi);
    }
    this.#write(variable, block, value);
    return value;
  }

  #phi(block: number): Inst {
    const target = this.#fn.blocks.find((b) => b.id === block)!;
    const phi = makeInst(this.#fn, { op: 'phi', type: '?', args: [], preds: [] });
    const firstOrdinary = target.insts.findIndex((i) => i.op !== 'phi');
    target.insts.splice(firstOrdinary < 0 ? target.insts.length : firstOrdinary, 0, phi);
    this.#insts.set(phi.id, phi);
    this.#blockOf.set(phi.id, target);
    return phi;
  }

  #addOperands(variable: number, phi: Inst): number {
    const block = this.#blockOf.get(phi.id)!.id;
    for (const pred of this.#preds.get(block)!) {
      phi.preds!.push(pred);
      phi.args.push(this.#read(variable, pred));
    }
    return this.#tryRemoveTrivial(phi);
  }

  /** A phi whose operands are all one value (or itself) is that value. */
  #tryRemoveTrivial(phi: Inst): number {
    let same: number | undefined;
    for (const raw of phi.args) {
      const arg = this.#resolve(raw);
      if (arg === same || arg === phi.id) continue;
      if (same !== undefined) return phi.id; // two different values: a real phi
      same = arg;
    }
    if (same === undefined) same = this.#undefinedValue(-1); // unreachable or only itself
    this.#replaced.set(phi.id, same);
    // Phis that used this one may have become trivial in turn.
    for (const user of this.#phis()) {
      if (user !== phi && !this.#replaced.has(user.id) && user.args.includes(phi.id)) {
        user.args = user.args.map((a) => this.#resolve(a));
        this.#tryRemoveTrivial(user);
      }
    }
    return same;
  }

  *#phis(): Iterable<Inst> {
    for (const block of this.#fn.blocks) {
      for (const inst of block.insts) {
        if (inst.op !== 'phi') break;
        yield inst;
      }
    }
  }

  #seal(block: number): void {
    for (const [variable, phi] of this.#incomplete.get(block) ?? []) this.#addOperands(variable, phi);
    this.#incomplete.delete(block);
    this.#sealed.add(block);
  }

  #undefinedValue(variable: number): number {
    let value = this.#undefined.get(variable);
    if (value === undefined) {
      const zero = makeInst(this.#fn, { op: 'const', type: '?', imm: 0n });
      this.#entry.insts.splice(this.#entry.insts.findIndex((i) => i.op !== 'param') >>> 0, 0, zero);
      this.#insts.set(zero.id, zero);
      this.#blockOf.set(zero.id, this.#entry);
      value = zero.id;
      this.#undefined.set(variable, value);
    }
    return value;
  }
}

/** Removes phis nothing but dead phis use (stale slots merged where no one reads them). */
export function removeDeadPhis(fn: Func): void {
  const live = new Set<number>();
  const work: number[] = [];
  const defs = new Map<number, Inst>();
  for (const block of fn.blocks) for (const inst of block.insts) defs.set(inst.id, inst);
  for (const inst of defs.values()) {
    if (inst.op !== 'phi') for (const a of inst.args) work.push(a);
  }
  while (work.length > 0) {
    const v = work.pop()!;
    if (live.has(v)) continue;
    live.add(v);
    const inst = defs.get(v);
    if (inst?.op === 'phi') work.push(...inst.args);
  }
  for (const block of fn.blocks) block.insts = block.insts.filter((i) => i.op !== 'phi' || live.has(i.id));
}

/**
 * Gives every value whose type is `?` a type, by unifying values that must share one.
 * Constants nothing constrains (a dead `const`) become `int`.
 */
export function recoverTypes(fn: Func, program: CompiledProgram, hints: ReadonlyMap<number, string> = new Map(), irType: (type: string) => Type = (type) => type): void {
  const parent = new Map<number, number>();
  const fixed = new Map<number, string>();
  const find = (v: number): number => {
    let root = v;
    while (parent.has(root)) root = parent.get(root)!;
    while (parent.has(v)) {
      const next = parent.get(v)!;
      parent.set(v, root);
      v = next;
    }
    return root;
  };
  const conflict = (a: string, b: string, inst: Inst) => new Error(`${fn.name}: v${inst.id} (${inst.op}) needs both ${a} and ${b}: the bytecode is not well-typed`);
  const fix = (v: number, type: string, inst: Inst) => {
    const root = find(v);
    const known = fixed.get(root);
    if (known !== undefined && known !== type) throw conflict(known, type, inst);
    fixed.set(root, type);
  };
  const unify = (a: number, b: number, inst: Inst) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    const ta = fixed.get(ra);
    const tb = fixed.get(rb);
    if (ta !== undefined && tb !== undefined && ta !== tb) throw conflict(ta, tb, inst);
    parent.set(ra, rb);
    if (ta !== undefined) fixed.set(rb, ta);
  };
  const signatures = new Map(program.functions.map((f) => [f.name, f]));
  const INT_IN = new Set(['add', 'sub', 'mul', 'div', 'mod', 'and', 'or', 'xor', 'shl', 'sar', 'shr', 'neg', 'bitnot', 'lt', 'le', 'gt', 'ge']);
  const BOOL_OUT = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'not']);
  for (const block of fn.blocks) {
    for (const inst of block.insts) {
      if (inst.type !== '?' && inst.type !== VOID) fix(inst.id, inst.type, inst);
      if (INT_IN.has(inst.op)) inst.args.forEach((a) => fix(a, 'int', inst));
      if (INT_IN.has(inst.op) && !BOOL_OUT.has(inst.op)) fix(inst.id, 'int', inst);
      if (BOOL_OUT.has(inst.op)) fix(inst.id, 'bool', inst);
      if (inst.op === 'not') fix(inst.args[0]!, 'bool', inst);
      if (inst.op === 'eq' || inst.op === 'ne') unify(inst.args[0]!, inst.args[1]!, inst);
      if (inst.op === 'branch') fix(inst.args[0]!, 'bool', inst);
      if (inst.op === 'return') fix(inst.args[0]!, irType(fn.returnType), inst);
      if (inst.op === 'phi') inst.args.forEach((a) => unify(a, inst.id, inst));
      if (inst.op === 'call') signatures.get(inst.callee!)!.params.forEach((t, i) => fix(inst.args[i]!, irType(t), inst));
    }
  }
  for (const [value, type] of hints) {
    const inst = fn.blocks.flatMap((b) => b.insts).find((i) => i.id === value);
    if (inst) fix(value, type, inst);
  }
  for (const block of fn.blocks) {
    for (const inst of block.insts) if (inst.type === '?') inst.type = fixed.get(find(inst.id)) ?? 'int';
  }
}
