/**
 * Chapter 11: record types, the rules a program's `struct` declarations add to its level.
 *
 * A record type's name is its type (`Point`), a reference like an array type. Its fields are
 * numbered in declaration order: field k is slot k of the object (word k + 1 after the header).
 * The `prepare` rule reads the declarations before any function is checked, so record types
 * may be used anywhere, refer to each other and to themselves (`next: Node`).
 *
 * Compile errors (at the node's position):
 *   record type 'Point' is already defined             (at the second name)
 *   field 'x' is already declared in 'Point'           (at the second field)
 *   unknown record type 'Pont'                         (at the name after `new`)
 *   'Point' has no field 'z'                           (at the field's name)
 *   field 'x' is given twice                           (at the second one)
 *   missing field 'y' of 'Point'                       (at `new`)
 *   cannot assign bool to field 'x' of type int        (at the value; also `p.x = v;`)
 *   cannot read field 'x' of int: only records have fields   (at the `.`)
 *
 * Bytecode:
 *   new Point { x: a, y: b }   new_record k; a; init_field 0; b; init_field 1
 *                              (the record is on the stack while its fields are computed:
 *                              its stack maps list it; k indexes the program's record table)
 *   p.x                        p; load_field 0
 *   p.x = v;                   p; v; store_field 0
 */
import type { Expr, Program, Stmt, TypeNode } from '#ch05/ast.ts';
import type { CompiledFunction, ValueType } from '#ch06/bytecode.ts';
import { extendTypeRules, fail, resolveType, type FunctionChecker, type TypeRules } from '#ch06/checker.ts';
import { extendEmitRules, type FrontEnd, type FunctionCompiler } from '#ch06/compiler.ts';
import { heapTypeRules, isReference } from './rules.ts';
import type { FieldExpr, NewRecordExpr, StructDecl } from './syntax.ts';

/** A record type as the program declared it: its fields in slot order. */
export interface RecordLayout {
  readonly name: string;
  /** Its index in the program's record table, the operand of `new_record`. */
  readonly index: number;
  readonly fields: readonly { readonly name: string; readonly type: ValueType }[];
}

/** A function compiled at chapter 11's level carries the program's record table. */
export interface FunctionWithRecords extends CompiledFunction {
  readonly records: readonly RecordLayout[];
}

/** The record table of the program `fn` belongs to. */
export function recordsOf(fn: CompiledFunction): readonly RecordLayout[] {
  return (fn as Partial<FunctionWithRecords>).records ?? [];
}

/** The record type of `type`, if it is one of the table's. */
function recordOf(table: ReadonlyMap<string, RecordLayout>, type: ValueType): RecordLayout | undefined {
  return table.get(type);
}

/** The slot of `name` in `layout`, or a compile error at `node`'s name. */
function fieldSlot(layout: RecordLayout, name: string, node: { readonly namePos: FieldExpr['namePos'] }): number {
  const slot = layout.fields.findIndex((field) => field.name === name);
  if (slot < 0) fail(node.namePos, `'${layout.name}' has no field '${name}'`);
  return slot;
}

/** The record type and field slot of `p.x`, after checking `p`. */
function checkFieldOf(checker: FunctionChecker, table: ReadonlyMap<string, RecordLayout>, node: FieldExpr): { layout: RecordLayout; slot: number } {
  const type = checker.expr(node.object);
  const layout = recordOf(table, type);
  if (layout === undefined) checker.fail(node.pos, `cannot read field '${node.name}' of ${type}: only records have fields`);
  return { layout, slot: fieldSlot(layout, node.name, node) };
}

/** The type and emit rules of the record types in `table`, on top of `level`. */
function recordLevel(level: FrontEnd, table: ReadonlyMap<string, RecordLayout>, layouts: RecordLayout[]): FrontEnd {
  const fieldSlots = new WeakMap<object, number>(); // field expressions and assignments → slot
  const recordIndex = new WeakMap<object, RecordLayout>();

  const arrays = heapTypeRules(() => types); // array types may name the records: [Point]
  const types: TypeRules = extendTypeRules(level.types, {
    types: new Map([
      ...arrays.types!,
      ['type-name', (type: TypeNode) => (type.kind === 'type-name' && table.has(type.name) ? (type.name as ValueType) : undefined)],
    ]),
    expressions: new Map([

      ['new-record', (checker: FunctionChecker, expr: Expr) => {
        const node = expr as NewRecordExpr;
        const layout = table.get(node.name);
        if (layout === undefined) checker.fail(node.namePos, `unknown record type '${node.name}'`);
        const given = new Set<string>();
        checker.mark(node); // the allocation comes first: its map has the locals in scope
        for (const field of node.fields) {
          const slot = fieldSlot(layout, field.name, { namePos: field.pos });
          if (given.has(field.name)) checker.fail(field.pos, `field '${field.name}' is given twice`);
          given.add(field.name);
          const type = checker.expr(field.value);
          const wanted = layout.fields[slot]!.type;
          if (!checker.accepts(wanted, type)) checker.fail(field.value.pos, `cannot assign ${type} to field '${field.name}' of type ${wanted}`);
        }
        const missing = layout.fields.find((field) => !given.has(field.name));
        if (missing !== undefined) checker.fail(node.pos, `missing field '${missing.name}' of '${layout.name}'`);
        recordIndex.set(node, layout);
        return layout.name as ValueType;
      }],
      ['field', (checker: FunctionChecker, expr: Expr) => {
        const { layout, slot } = checkFieldOf(checker, table, expr as FieldExpr);
        fieldSlots.set(expr, slot);
        return layout.fields[slot]!.type;
      }],
    ]),
    statements: new Map([
      ['assign', (checker: FunctionChecker, stmt: Stmt) => {
        if (stmt.kind !== 'assign' || stmt.target.kind !== 'field') return arrays.statements!.get('assign')!(checker, stmt);
        const { layout, slot } = checkFieldOf(checker, table, stmt.target);
        fieldSlots.set(stmt, slot);
        const type = checker.expr(stmt.value);
        const field = layout.fields[slot]!;
        if (!checker.accepts(field.type, type)) checker.fail(stmt.value.pos, `cannot assign ${type} to field '${field.name}' of type ${field.type}`);
      }],
    ]),
  });

  const arrayAssign = level.emit.statements.get('assign')!;
  const emit = extendEmitRules(level.emit, {
    expressions: new Map([
      ['new-record', (compiler: FunctionCompiler, expr: Expr) => {
        const node = expr as NewRecordExpr;
        const layout = recordIndex.get(node)!;
        compiler.recordCall(node, 0);
        compiler.emit(node.pos, 'new_record', layout.index);
        compiler.pending.push(layout.name as ValueType);
        for (const field of node.fields) {
          compiler.expr(field.value);
          compiler.emit(field.pos, 'init_field', layout.fields.findIndex((f) => f.name === field.name));
        }
        compiler.pending.pop();
      }],
      ['field', (compiler: FunctionCompiler, expr: Expr) => {
        const node = expr as FieldExpr;
        compiler.expr(node.object);
        compiler.emit(node.pos, 'load_field', fieldSlots.get(node)!);
      }],
    ]),
    statements: new Map([
      ['assign', (compiler: FunctionCompiler, stmt: Stmt) => {
        if (stmt.kind !== 'assign' || stmt.target.kind !== 'field') return arrayAssign(compiler, stmt);
        const target = stmt.target;
        compiler.expr(target.object);
        compiler.pending.push(compiler.types.typeOf(target.object));
        compiler.expr(stmt.value);
        compiler.pending.pop();
        compiler.emit(target.pos, 'store_field', fieldSlots.get(stmt)!);
      }],
    ]),
  });

  const finish = level.finish;
  return {
    ...level,
    types,
    emit,
    finish: (compiler, fn) => {
      const done = finish === undefined ? fn : finish(compiler, fn);
      return { ...done, records: layouts } as FunctionWithRecords;
    },
  };
}

/** The prepare rule: the program's record types, then the level that knows them. */
export function prepareRecords(program: Program, level: FrontEnd): FrontEnd {
  const structs = (program.declarations ?? []).filter((decl): decl is StructDecl => decl.kind === 'struct');
  const table = new Map<string, RecordLayout>();
  const layouts: RecordLayout[] = [];
  const fieldsOf = new Map<StructDecl, { name: string; type: ValueType }[]>();
  for (const decl of structs) {
    if (table.has(decl.name) || decl.name === 'int' || decl.name === 'bool') fail(decl.pos, `record type '${decl.name}' is already defined`);
    if (layouts.length > 0xffff) fail(decl.pos, 'too many record types (at most 65536)');
    const fields: { name: string; type: ValueType }[] = [];
    const layout: RecordLayout = { name: decl.name, index: layouts.length, fields };
    table.set(decl.name, layout);
    layouts.push(layout);
    fieldsOf.set(decl, fields);
  }
  const prepared = recordLevel(level, table, layouts);
  for (const decl of structs) {
    const fields = fieldsOf.get(decl)!;
    for (const field of decl.fields) {
      if (fields.some((f) => f.name === field.name)) fail(field.pos, `field '${field.name}' is already declared in '${decl.name}'`);
      if (fields.length === 255) fail(field.pos, `too many fields in '${decl.name}' (at most 255)`);
      fields.push({ name: field.name, type: resolveType(field.type, prepared.types) });
    }
  }
  return prepared;
}

/** Which slots of a record of `layout` hold references, for its heap shape. */
export function referenceFields(layout: RecordLayout): number[] {
  return layout.fields.flatMap((field, slot) => (isReference(field.type) ? [slot] : []));
}
