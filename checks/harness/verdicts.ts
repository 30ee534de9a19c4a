/**
 * Verdicts decided outside the process that runs the code under test. A check that runs
 * programs reports each program's outcome (check.ts reportOutcome); when work is graded, the
 * runner judges those reports itself against expectations it computed without the student's
 * worker: a program of checks/programs is held to the `// expect` lines of the grader's own
 * copy of its file, any other program (a random one, one written inline) to what the
 * reference printed for it in a run of the same check on the grader's side. A worker that
 * forges "pass" for such a check, or reports outcomes other than its code's, gains nothing:
 * the check passes only if the worker says so and the runner's own judgement agrees.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '#native/arch.ts';
import { chapterDir, type Chapter } from '../manifest.ts';
import { compareOutcome, EXPECTATIONS_HIDDEN, loadPrograms, type Program } from './programs.ts';
import { bytesText, vectorName, vectorsIn } from '../03-encoders/vectors.ts';
import type { ListedCheck, ReportedOutcome } from './protocol.ts';

/** Judges one check's reported outcomes: null when they are right, else the failure's message. */
export type Judge = (check: ListedCheck, reported: readonly ReportedOutcome[]) => string | null;

/** What the reference reported, per `chapter/arch/check`. */
export type ExpectedOutcomes = Map<string, ReportedOutcome[]>;

export const expectationKey = (chapter: Chapter, arch: Arch, check: string) => `${chapter.number}/${arch}/${check}`;

/** Whether a chapter's checks run programs and may report their outcomes (they use the programs or reportOutcome). */
export function reportsOutcomes(root: string, chapter: Chapter): boolean {
  const dir = join(root, 'checks', chapterDir(chapter));
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => f.endsWith('.ts') && /#harness\/programs\.ts|reportOutcome/.test(readFileSync(join(dir, f), 'utf8')));
}

/**
 * The judge of `chapter` on `arch`: each program the reference reported for a check must be
 * reported by the student's run too, and end as expected. `root` is the grader's own workbook,
 * whose checks/programs give the expectations; the staged copy the student's code saw is not read.
 */
export function judgeFor(root: string, expected: ExpectedOutcomes, chapter: Chapter, arch: Arch): Judge {
  const files = new Map<string, Program>(loadPrograms(join(root, 'checks', 'programs')).map((p) => [p.name, p]));
  // The encoder vectors of the grader's copy: the bytes GNU as gave for each call.
  const vectors = new Map<string, string>();
  for (const v of vectorsIn(root, arch)) {
    const name = vectorName(arch, v);
    vectors.set(name, v.asm);
    files.set(name, { name, path: '', source: '', expectedOutput: [bytesText(v.bytes) ?? v.bytes], features: [] });
  }
  return (check, reported) => {
    const wanted = expected.get(expectationKey(chapter, arch, check.name)) ?? [];
    if (wanted.length === 0) return null;
    const remaining = [...reported];
    const problems: string[] = [];
    for (const want of wanted) {
      const at = remaining.findIndex((r) => r.program === want.program);
      if (at < 0) {
        problems.push(`${want.program}: no outcome was reported for it`);
        continue;
      }
      const [got] = remaining.splice(at, 1);
      const expectation: Program = files.get(want.program) ?? {
        name: want.program,
        path: '',
        source: '',
        expectedOutput: want.output,
        ...(want.error ? { expectedError: want.error } : {}),
        features: [],
      };
      const report = compareOutcome(expectation, { output: got!.output, ...(got!.error ? { error: got!.error } : {}) });
      // compareOutcome names a program by its file; a vector has none, but GNU as's text.
      const asm = vectors.get(want.program);
      if (report !== null) problems.push(asm !== undefined ? report.replace(`${want.program}.jot:`, `${want.program}  →  ${asm}:`) : report);
    }
    if (problems.length === 0) return null;
    return `judged outside the process that ran the code: ${problems.length} of ${wanted.length} programs went wrong:\n\n${problems.slice(0, 3).join('\n\n')}`;
  };
}

/**
 * One line of a program with its expectation blanked: an `// expect:`, `// expect trace:`,
 * `// expect runtime error:` or `// expect compile error:` comment goes (the code before it
 * stays, so every line keeps its number). A check that chooses programs by how they end then
 * chooses, in such a copy, every program that may end that way (programs.ts mayEndWith), and
 * one that compiles a program meant not to compile reports its compile error as its outcome
 * (programs.ts reportedCompileError).
 */
export function blankExpectation(line: string): string {
  return line.replace(/\s*\/\/\s*expect(?: trace| runtime error| compile error)?:.*$/, '');
}

/**
 * Blanks the expectations of every program in `dir` (a staged copy's checks/programs), line
 * numbers kept, and marks the folder so that the checks there defer to the runner's judgement
 * (programs.ts EXPECTATIONS_HIDDEN): code under test that reads the files finds no outcome to
 * copy. The grader's own copy, which judgeFor reads, keeps them.
 */
export function hideExpectations(dir: string): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jot'))) {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, 'utf8').split('\n').map(blankExpectation).join('\n'));
  }
  writeFileSync(join(dir, EXPECTATIONS_HIDDEN), 'The expectations of these programs were blanked: the grader judges their outcomes with its own copy.\n');
}

/**
 * Blanks the bytes and GNU as's text of every encoder vector in `dir` (a staged copy's
 * checks/03-encoders/vectors): the calls stay (the checks make them), what GNU as was given
 * and what it encoded go (code under test could hand the text to an assembler).
 * The checks there then report the bytes the encoders produced, and the runner compares them
 * with its own copy (judgeFor).
 */
export function hideVectorBytes(dir: string): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const path = join(dir, file);
    const vectors = JSON.parse(readFileSync(path, 'utf8')) as { asm: string; bytes: string }[];
    writeFileSync(path, `[\n${vectors.map((v) => JSON.stringify({ ...v, asm: '', bytes: '' })).join(',\n')}\n]\n`);
  }
}
