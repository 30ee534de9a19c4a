/**
 * Random Jot programs for the checks: seeded, small and terminating (expressions over
 * variables and edge values, if/else, loops bounded by constants, calls to earlier
 * functions). Every tier is compared with the interpreter on them.
 *
 * At chapter 10's level they also throw (often behind a condition) and catch, with try
 * blocks nested in loops, ifs and other try blocks; an exception may leave a function, and
 * one that nothing catches ends the program with a trace. Below chapter 10 the generator
 * draws exactly the numbers it always drew, so a seed gives the same program as before.
 *
 * At chapter 11's level they also make arrays (of 8 ints) and records of one type `R`, read
 * and write their elements and fields (mostly within bounds and non-null, sometimes not),
 * link records into chains, and make garbage. Below chapter 11 nothing of this draws a number.
 */
const EDGES = ['0', '1', '(-1)', '2', '7', '63', '64', '65', '(-9223372036854775808)', '9223372036854775807', '0x5555555555555555', '1000003'];
const INT_OPS = ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '>>>'];
const COMPARISONS = ['<', '<=', '>', '>=', '==', '!='];

/**
 * One random program in the language of `chapter` (`throw` and `try` from 10 on). Functions
 * call only functions declared before them, so every call ends.
 */
export function randomProgram(random: () => number, chapter = 6): string {
  const exceptions = chapter >= 10;
  const heap = chapter >= 11;
  /** The `[int]` variables in scope (each of 8 elements) and the `R` variables in scope. */
  const arrays: string[] = [];
  const records: string[] = [];
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const functions: { name: string; arity: number }[] = [];
  let fresh = 0;

  function intExpr(vars: readonly string[], depth: number): string {
    if (heap && (arrays.length > 0 || records.length > 0) && random() < 0.1) return heapRead(vars, depth);
    const roll = random();
    if (depth <= 0 || roll < 0.25) {
      return vars.length > 0 && random() < 0.6 ? pick(vars) : random() < 0.5 ? pick(EDGES) : String(int(100));
    }
    if (roll < 0.35) return `(${pick(['-', '~'])}${intExpr(vars, depth - 1)})`;
    if (roll < 0.45 && functions.length > 0) {
      const callee = pick(functions);
      return `${callee.name}(${Array.from({ length: callee.arity }, () => intExpr(vars, depth - 1)).join(', ')})`;
    }
    const op = pick(INT_OPS);
    const left = intExpr(vars, depth - 1);
    let right = intExpr(vars, depth - 1);
    // Most divisors are made odd (never zero); the rest may be zero, which is a runtime error to agree on.
    if ((op === '/' || op === '%') && random() < 0.85) right = `(${right} | 1)`;
    return `(${left} ${op} ${right})`;
  }

  function boolExpr(vars: readonly string[], depth: number): string {
    const roll = random();
    if (depth <= 0 || roll < 0.5) return `(${intExpr(vars, 1)} ${pick(COMPARISONS)} ${intExpr(vars, 1)})`;
    if (roll < 0.6) return pick(['true', 'false']);
    if (roll < 0.7) return `(!${boolExpr(vars, depth - 1)})`;
    return `(${boolExpr(vars, depth - 1)} ${pick(['&&', '||'])} ${boolExpr(vars, depth - 1)})`;
  }

  /** An element or a field: out of bounds or through null now and then. */
  function heapRead(vars: readonly string[], depth: number): string {
    if (records.length === 0 || (arrays.length > 0 && random() < 0.5)) {
      const index = intExpr(vars, depth - 1);
      return `${pick(arrays)}[${random() < 0.9 ? `${index} & 7` : index}]`;
    }
    const record = pick(records);
    const roll = random();
    if (roll < 0.9) return `${record}.x`;
    if (roll < 0.95) return `${record}.next.x`;
    return `len(${record}.items)`;
  }

  /** A statement on the heap: a new array or record, a store, a link, or garbage. */
  function heapStatement(vars: readonly string[], indent: string): string {
    const roll = random();
    if (roll < 0.25) {
      const name = `a${fresh++}`;
      arrays.push(name);
      return `${indent}let ${name} = new [int](8);`;
    }
    if (roll < 0.45 && arrays.length > 0) return `${indent}${pick(arrays)}[${intExpr(vars, 2)} & 7] = ${intExpr(vars, 2)};`;
    if (roll < 0.65) {
      const next = records.length > 0 && random() < 0.6 ? pick(records) : 'null';
      const items = arrays.length > 0 && random() < 0.6 ? pick(arrays) : 'null';
      const name = `r${fresh++}`;
      const line = `${indent}let ${name} = new R { x: ${intExpr(vars, 2)}, next: ${next}, items: ${items} };`;
      records.push(name);
      return line;
    }
    if (roll < 0.75 && records.length > 0) return `${indent}${pick(records)}.x = ${intExpr(vars, 2)};`;
    if (roll < 0.85 && records.length > 0) return `${indent}${pick(records)}.next = ${random() < 0.8 ? pick(records) : 'null'};`;
    return `${indent}print(len(new [int](${int(40)})) + len(new [[int]](${int(5)})));`;
  }

  /** Try blocks around the statement being generated, in its function. */
  let tries = 0;

  /**
   * A `throw` (behind an `if`, unless a try block of the same function is around it), or a
   * `try` whose catch block may read and write its name.
   */
  function exceptional(vars: string[], assignable: string[], indent: string, nesting: number): string[] {
    if (nesting >= 2 || random() < (tries > 0 ? 0.5 : 0.2)) {
      const value = intExpr(vars, 2);
      if (tries > 0 && random() < 0.3) return [`${indent}throw ${value};`];
      return [`${indent}if ${boolExpr(vars, 1)} {`, `${indent}  throw ${value};`, `${indent}}`];
    }
    tries++;
    const lines = [`${indent}try {`, ...block(vars, assignable, `${indent}  `, nesting + 1, 1 + int(3))];
    tries--;
    const name = `e${fresh++}`;
    lines.push(`${indent}} catch ${name} {`);
    vars.push(name);
    assignable.push(name);
    lines.push(...block(vars, assignable, `${indent}  `, nesting + 1, 1 + int(3)));
    vars.pop();
    assignable.pop();
    lines.push(`${indent}}`);
    return lines;
  }

  /** Statements; `vars` may be read, `assignable` may also be written (loop counters may not). */
  function block(vars: string[], assignable: string[], indent: string, nesting: number, count: number): string[] {
    const lines: string[] = [];
    const scope = { vars: vars.length, assignable: assignable.length, arrays: arrays.length, records: records.length };
    for (let i = 0; i < count; i++) {
      if (heap && random() < 0.2) {
        lines.push(heapStatement(vars, indent));
        continue;
      }
      if (exceptions && random() < 0.15) {
        lines.push(...exceptional(vars, assignable, indent, nesting));
        continue;
      }
      const roll = random();
      if (roll < 0.25) {
        const name = `v${fresh++}`;
        lines.push(`${indent}let ${name} = ${intExpr(vars, 3)};`);
        vars.push(name);
        assignable.push(name);
      } else if (roll < 0.45 && assignable.length > 0) {
        lines.push(`${indent}${pick(assignable)} = ${intExpr(vars, 3)};`);
      } else if (roll < 0.65) {
        lines.push(`${indent}print(${random() < 0.75 ? intExpr(vars, 3) : boolExpr(vars, 2)});`);
      } else if (roll < 0.8 && nesting < 2) {
        lines.push(`${indent}if ${boolExpr(vars, 2)} {`);
        lines.push(...block(vars, assignable, `${indent}  `, nesting + 1, 1 + int(3)));
        if (random() < 0.6) {
          lines.push(`${indent}} else {`);
          lines.push(...block(vars, assignable, `${indent}  `, nesting + 1, 1 + int(3)));
        }
        lines.push(`${indent}}`);
      } else if (nesting < 2) {
        const counter = `i${fresh++}`;
        lines.push(`${indent}let ${counter} = 0;`);
        lines.push(`${indent}while ${counter} < ${1 + int(6)} {`);
        vars.push(counter);
        lines.push(...block(vars, assignable, `${indent}  `, nesting + 1, 1 + int(3)));
        lines.push(`${indent}  ${counter} = ${counter} + 1;`);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}print(${intExpr(vars, 2)});`);
      }
    }
    vars.length = scope.vars;
    assignable.length = scope.assignable;
    arrays.length = scope.arrays;
    records.length = scope.records;
    return lines;
  }

  const parts: string[] = heap ? ['struct R { x: int, next: R, items: [int] }'] : [];
  const count = 1 + int(3);
  for (let f = 0; f < count; f++) {
    const arity = int(4);
    const params = Array.from({ length: arity }, (_, i) => `p${i}`);
    const vars = [...params];
    const body = block(vars, [...params], '  ', 0, 2 + int(4));
    parts.push(`fn f${f}(${params.join(', ')}) {\n${body.join('\n')}\n  return ${intExpr(vars, 3)};\n}`);
    functions.push({ name: `f${f}`, arity });
  }
  const main = block([], [], '  ', 0, 3 + int(4));
  const calls = functions.map((f) => `  print(${f.name}(${Array.from({ length: f.arity }, () => pick(EDGES)).join(', ')}));`);
  const result = functions.length > 0 ? `${functions.at(-1)!.name}(${Array.from({ length: functions.at(-1)!.arity }, () => pick(EDGES)).join(', ')}) ^ ${intExpr([], 2)}` : intExpr([], 3);
  parts.push(`fn main() {\n${main.join('\n')}\n${calls.join('\n')}\n  return ${result};\n}`);
  return `${parts.join('\n\n')}\n`;
}
