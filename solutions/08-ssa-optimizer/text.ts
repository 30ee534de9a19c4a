/**
 * Chapter 08: the text form of the IR, parsed (the inverse of printer.ts).
 *
 * Checks and the book write IR by hand in this form, as compiler test suites do: a pass's
 * input and the output it should produce, side by side. A malformed text is an
 * `IrSyntaxError` at its line and column.
 *
 * The types of ordinary instructions are not written: they follow from the operation's
 * type rule and the operands' types, worked out after the whole function is read (an
 * operand may be defined further down the text, in a block that comes later).
 */
import { VOID, type Block, type Func, type Inst, type IrProgram, type Param } from './ir.ts';
import { CORE_OPS, opInfo, type OpTable } from './ops.ts';

export class IrSyntaxError extends Error {
  override readonly name = 'IrSyntaxError';
  readonly line: number;
  readonly column: number;
  readonly detail: string;

  constructor(line: number, column: number, detail: string) {
    super(`${line}:${column}: ${detail}`);
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

interface Token {
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  source.split(/\r\n|\r|\n/).forEach((lineText, i) => {
    const code = lineText.replace(/;.*$/, '');
    const pattern = /\s*([A-Za-z_][\w.]*|-?\d+|@\d+|[(){}\[\]:,=])/y;
    let at = 0;
    while (at < code.length) {
      pattern.lastIndex = at;
      const m = pattern.exec(code);
      if (m === null) {
        if (code.slice(at).trim() === '') break;
        const column = at + code.slice(at).search(/\S/) + 1;
        throw new IrSyntaxError(i + 1, column, `unexpected character '${code.slice(at).trim()[0]}'`);
      }
      const column = m.index + m[0].length - m[1]!.length + 1;
      tokens.push({ text: m[1]!, line: i + 1, column });
      at = pattern.lastIndex;
    }
  });
  return tokens;
}

class IrParser {
  readonly tokens: readonly Token[];
  readonly ops: OpTable;
  #at = 0;
  #voidCount = 0;

  constructor(tokens: readonly Token[], ops: OpTable) {
    this.tokens = tokens;
    this.ops = ops;
  }

  peek(): Token | undefined {
    return this.tokens[this.#at];
  }

  next(what: string): Token {
    const token = this.tokens[this.#at];
    if (token === undefined) {
      const last = this.tokens.at(-1);
      throw new IrSyntaxError(last?.line ?? 1, (last?.column ?? 0) + (last?.text.length ?? 0), `expected ${what}, found end of input`);
    }
    this.#at++;
    return token;
  }

  expect(text: string): Token {
    const token = this.next(`'${text}'`);
    if (token.text !== text) throw new IrSyntaxError(token.line, token.column, `expected '${text}', found '${token.text}'`);
    return token;
  }

  accept(text: string): boolean {
    if (this.peek()?.text !== text) return false;
    this.#at++;
    return true;
  }

  number(token: Token, prefix: string): number {
    const m = new RegExp(`^${prefix}(\\d+)$`).exec(token.text);
    if (m === null) throw new IrSyntaxError(token.line, token.column, `expected ${prefix === 'v' ? 'a value (v3)' : 'a block (b2)'}, found '${token.text}'`);
    return Number(m[1]);
  }

  value(): number {
    return this.number(this.next('a value'), 'v');
  }

  block(): number {
    return this.number(this.next('a block'), 'b');
  }

  type(): string {
    const token = this.next('a type');
    if (!/^[A-Za-z_]\w*$/.test(token.text)) throw new IrSyntaxError(token.line, token.column, `expected a type, found '${token.text}'`);
    return token.text;
  }

  integer(): bigint {
    const token = this.next('an integer');
    if (!/^-?\d+$/.test(token.text)) throw new IrSyntaxError(token.line, token.column, `expected an integer, found '${token.text}'`);
    return BigInt(token.text);
  }

  program(): IrProgram {
    const functions = new Map<string, Func>();
    while (this.peek() !== undefined) {
      const fn = this.function();
      if (functions.has(fn.name)) throw new Error(`function '${fn.name}' is defined twice`);
      functions.set(fn.name, fn);
    }
    return { functions, main: 'main' };
  }

  function(): Func {
    this.expect('function');
    const name = this.next('a function name').text;
    this.expect('(');
    const params: Param[] = [];
    if (!this.accept(')')) {
      do {
        const param = this.next('a parameter name').text;
        this.expect(':');
        params.push({ name: param, type: this.type() });
      } while (this.accept(','));
      this.expect(')');
    }
    this.expect(':');
    const returnType = this.type();
    this.expect('{');
    const blocks: Block[] = [];
    const where = new Map<number, Token>();
    while (!this.accept('}')) {
      const label = this.next('a block label');
      const id = this.number(label, 'b');
      this.expect(':');
      if (blocks.some((b) => b.id === id)) throw new IrSyntaxError(label.line, label.column, `block b${id} is defined twice`);
      const block: Block = { id, insts: [] };
      while (this.peek() !== undefined && !/^b\d+$/.test(this.peek()!.text) && this.peek()!.text !== '}') {
        const start = this.peek()!;
        const inst = this.instruction();
        if (where.has(inst.id) && inst.type !== VOID) throw new IrSyntaxError(start.line, start.column, `v${inst.id} is defined twice`);
        where.set(inst.id, start);
        block.insts.push(inst);
      }
      blocks.push(block);
    }
    const fn: Func = {
      name,
      params,
      returnType,
      blocks,
      nextValue: Math.max(-1, ...blocks.flatMap((b) => b.insts.map((i) => i.id))) + 1,
      nextBlock: Math.max(-1, ...blocks.map((b) => b.id)) + 1,
    };
    // Instructions without a value were numbered from -1 down; give them real numbers.
    for (const block of blocks) {
      block.insts = block.insts.map((inst) => (inst.id < 0 ? { ...inst, id: fn.nextValue++ } : inst));
    }
    this.inferTypes(fn, where);
    return fn;
  }

  instruction(): Inst {
    const first = this.peek()!;
    let id = -1 - this.#voidCount;
    let hasValue = false;
    if (/^v\d+$/.test(first.text)) {
      id = this.value();
      this.expect('=');
      hasValue = true;
    } else {
      this.#voidCount++;
    }
    const opToken = this.next('an operation');
    const op = opToken.text;
    if (!this.ops.has(op)) throw new IrSyntaxError(opToken.line, opToken.column, `unknown operation '${op}'`);
    const inst: Inst = { id, op, type: hasValue ? '?' : VOID, args: [], line: 0 };
    switch (op) {
      case 'const':
      case 'param':
        inst.type = this.type();
        inst.imm = this.integer();
        break;
      case 'phi':
        inst.type = this.type();
        inst.preds = [];
        do {
          this.expect('[');
          inst.preds.push(this.block());
          this.expect(':');
          inst.args.push(this.value());
          this.expect(']');
        } while (this.accept(','));
        break;
      case 'call':
        inst.type = this.type();
        inst.callee = this.next('a function name').text;
        this.expect('(');
        if (!this.accept(')')) {
          do inst.args.push(this.value());
          while (this.accept(','));
          this.expect(')');
        }
        break;
      case 'jump':
        inst.targets = [this.block()];
        break;
      case 'branch':
        inst.args.push(this.value());
        this.expect(',');
        inst.targets = [this.block()];
        this.expect(',');
        inst.targets.push(this.block());
        break;
      default:
        if (this.peek() && /^v\d+$/.test(this.peek()!.text) && this.peek()!.line === opToken.line) {
          do inst.args.push(this.value());
          while (this.accept(','));
        }
    }
    const at = this.peek();
    if (at && at.text.startsWith('@') && at.line === opToken.line) {
      this.#at++;
      inst.line = Number(at.text.slice(1));
    }
    if (!hasValue && !opInfo(this.ops, op).terminator && op !== 'print') {
      throw new IrSyntaxError(opToken.line, opToken.column, `'${op}' produces a value: write 'vN = ${op} …'`);
    }
    return inst;
  }

  /** Types from the type rules, to a fixed point (operands may be defined later in the text). */
  inferTypes(fn: Func, where: ReadonlyMap<number, Token>): void {
    const types = new Map<number, string>();
    const all = fn.blocks.flatMap((b) => b.insts);
    for (const inst of all) if (inst.type !== '?') types.set(inst.id, inst.type);
    for (let changed = true; changed; ) {
      changed = false;
      for (const inst of all) {
        if (inst.type !== '?') continue;
        const operandTypes = inst.args.map((a) => types.get(a));
        if (operandTypes.some((t) => t === undefined)) continue;
        const result = opInfo(this.ops, inst.op).typeRule(operandTypes as string[], inst);
        if (typeof result !== 'string') {
          const token = where.get(inst.id)!;
          throw new IrSyntaxError(token.line, token.column, result.error);
        }
        inst.type = result;
        types.set(inst.id, result);
        changed = true;
      }
    }
    const stuck = all.find((i) => i.type === '?');
    if (stuck) {
      const token = where.get(stuck.id)!;
      const missing = stuck.args.find((a) => !types.has(a));
      throw new IrSyntaxError(token.line, token.column, `v${missing} is used but never defined`);
    }
  }
}

/** Parses one function. */
export function parseFunction(source: string, ops: OpTable = CORE_OPS): Func {
  const parser = new IrParser(tokenize(source), ops);
  const fn = parser.function();
  const extra = parser.peek();
  if (extra) throw new IrSyntaxError(extra.line, extra.column, `unexpected '${extra.text}' after the function`);
  return fn;
}

/** Parses any number of functions; `main` is the one named main. */
export function parseProgram(source: string, ops: OpTable = CORE_OPS): IrProgram {
  return new IrParser(tokenize(source), ops).program();
}
