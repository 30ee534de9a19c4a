/**
 * When the learner's file does not load (a syntax error, syntax Node.js cannot strip), every
 * check of the chapter fails with a LearnerCodeLoadError. What the runtime says about it
 * differs by architecture: on the host, tsx (esbuild) names `file:line:column`; the other
 * architecture's Node.js strips types itself and names no place at all in the message.
 * This turns both into the same message, `chapters/…/file.ts:67:30: what is wrong`, with
 * the line and a caret under the column, by parsing the learner's files with TypeScript's
 * own parser (and falling back to the place the runtime named).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CHAPTERS, chapterDir } from '../manifest.ts';
import type { CheckResult } from './protocol.ts';
import { listFiles } from './files.ts';

export interface SourcePlace {
  /** Relative to the workbook: `chapters/01-executable-memory/code-region.ts`. */
  file: string;
  line: number;
  column: number;
  problem: string;
}

type TypeScriptModule = typeof import('typescript');
let typescript: TypeScriptModule | null | undefined;

async function loadTypeScript(): Promise<TypeScriptModule | null> {
  if (typescript === undefined) {
    try {
      const module = (await import('typescript')) as TypeScriptModule & { default?: TypeScriptModule };
      typescript = module.default ?? module;
    } catch {
      typescript = null;
    }
  }
  return typescript;
}

/** Syntax that type stripping (Node.js's own TypeScript support) refuses: it would need code generation. */
function nonErasable(ts: TypeScriptModule, source: import('typescript').SourceFile): { node: import('typescript').Node; what: string } | undefined {
  let found: { node: import('typescript').Node; what: string } | undefined;
  const visit = (node: import('typescript').Node): void => {
    if (found) return;
    const declared = ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
    if (ts.isEnumDeclaration(node) && !declared) found = { node, what: 'an enum is not erasable TypeScript (use an `as const` object)' };
    else if (ts.isModuleDeclaration(node) && !declared && node.name.kind === ts.SyntaxKind.Identifier) found = { node, what: 'a namespace is not erasable TypeScript (use a module)' };
    else if (ts.isParameter(node) && ts.isConstructorDeclaration(node.parent) && (ts.getModifiers(node)?.length ?? 0) > 0) {
      found = { node, what: 'a parameter property is not erasable TypeScript (declare the field and assign it in the constructor)' };
    } else if (ts.isImportEqualsDeclaration(node)) found = { node, what: '`import x = require()` is not erasable TypeScript (use import)' };
    else ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The first syntax problem in a TypeScript file, or undefined if it parses. */
export async function syntaxProblem(absolute: string, shownAs: string): Promise<SourcePlace | undefined> {
  const ts = await loadTypeScript();
  if (!ts) return undefined;
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch {
    return undefined;
  }
  const output = ts.transpileModule(text, { fileName: absolute, reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
  const diagnostic = output.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error && d.start !== undefined);
  const source = ts.createSourceFile(absolute, text, ts.ScriptTarget.Latest, true);
  if (diagnostic) {
    const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start!);
    return { file: shownAs, line: line + 1, column: character + 1, problem: ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ') };
  }
  const refused = nonErasable(ts, source);
  if (refused) {
    const { line, character } = source.getLineAndCharacterOfPosition(refused.node.getStart(source));
    return { file: shownAs, line: line + 1, column: character + 1, problem: refused.what };
  }
  return undefined;
}

/**
 * `path` (absolute, or relative to `root`) as a path relative to `root`, where it is a file of
 * `root`'s chapters/ once every `..` and link is followed; otherwise undefined. A load error's
 * message is the learner's to write (code under test may throw any text), so the grader shows
 * the lines of no other file it names: not a reference's, not a check's, not one of its own.
 */
export function chaptersFile(root: string, path: string): string | undefined {
  const chapters = join(realOrSame(root), 'chapters');
  const real = realOrSame(resolve(root, path));
  const shown = relative(chapters, real);
  if (!shown || shown.startsWith('..') || isAbsolute(shown)) return undefined;
  return join('chapters', shown);
}

/** The real path of `path` (links followed), or `path` itself where it does not exist. */
function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `file:line:column` named in a runtime's message (tsx/esbuild: `/abs/file.ts:67:30: ERROR: …`), where the file is one of chapters/. */
function placeInMessage(text: string, root: string): SourcePlace | undefined {
  const match = /((?:file:\/\/)?\/[^\s:'"()]+\.[cm]?[tj]s):(\d+):(\d+):?\s*(?:ERROR:\s*)?([^\n]*)/.exec(text);
  if (!match) return undefined;
  const file = chaptersFile(root, match[1]!.replace(/^file:\/\//, ''));
  if (file === undefined) return undefined;
  return { file, line: Number(match[2]), column: Number(match[3]), problem: match[4]!.trim() };
}

/** The line at `place` with a caret under its column, and the lines around it. */
export function codeFrame(root: string, place: SourcePlace): string {
  const file = chaptersFile(root, place.file);
  if (file === undefined) return '';
  const path = join(root, file);
  if (!existsSync(path)) return '';
  const lines = readFileSync(path, 'utf8').split('\n');
  const from = Math.max(1, place.line - 2);
  const to = Math.min(lines.length, place.line + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${n === place.line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
    if (n === place.line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, place.column - 1))}^`);
  }
  return out.join('\n');
}

/** The learner's files a chapter's checks load: its own and every earlier chapter's. */
function candidateFiles(root: string, chapter: string): string[] {
  const files: string[] = [];
  for (const c of [...CHAPTERS].filter((c) => c.number <= chapter).reverse()) {
    const dir = join('chapters', chapterDir(c));
    for (const f of listFiles(join(root, dir))) if (/\.[cm]?ts$/.test(f)) files.push(`${dir}/${f}`);
  }
  return files;
}

/**
 * Rewrites the results whose learner code did not load so they name the file, line and
 * column of the problem. `root` is the folder whose chapters/ ran (a staged copy when grading).
 */
export async function explainLoadErrors(results: CheckResult[], root: string): Promise<void> {
  const cache = new Map<string, { message: string; details: string } | null>();
  for (const r of results) {
    if (r.status !== 'fail' || !/LearnerCodeLoadError|your code could not be loaded/.test(r.message)) continue;
    const key = `${r.chapter}\0${r.message}`;
    if (!cache.has(key)) cache.set(key, await explain(r, root));
    const explained = cache.get(key);
    if (explained) {
      r.message = explained.message;
      r.details = explained.details;
    }
  }
}

async function explain(r: CheckResult, root: string): Promise<{ message: string; details: string } | null> {
  const said = r.message.replace(/^LearnerCodeLoadError:\s*/, '').replace(/^your code could not be loaded:\s*/, '');
  let place = placeInMessage(said, root);
  if (place) {
    // Prefer the parser's wording where it agrees on the file: the same message on both architectures.
    const parsed = await syntaxProblem(join(root, place.file), place.file);
    if (parsed) place = parsed;
  } else {
    for (const file of candidateFiles(root, r.chapter)) {
      if (chaptersFile(root, file) === undefined) continue; // a link out of chapters/
      place = await syntaxProblem(join(root, file), file);
      if (place) break;
    }
  }
  if (!place) {
    const firstLine = said.split('\n')[0]!.replace(new RegExp(`${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`, 'g'), '');
    return { message: `your code could not be loaded: ${firstLine}`, details: (r.details ?? '').replaceAll(`${root}/`, '') };
  }
  const runtime = said.split('\n').filter(Boolean).map((l) => l.replaceAll(`${root}/`, '')).join(' ').slice(0, 300);
  return {
    message: `your code could not be loaded: ${place.file}:${place.line}:${place.column}: ${place.problem}`,
    details: [codeFrame(root, place), `Node.js said: ${runtime}`, `Fix ${place.file} at line ${place.line}, then run the checks again; every check of the chapter waits on it.`]
      .filter(Boolean)
      .join('\n'),
  };
}
