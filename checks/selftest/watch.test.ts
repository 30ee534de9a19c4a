/**
 * `npm run check … -- --watch`: the watcher runs the checks once, then again after a file
 * under chapters/ changes, and goes on after the learner's file stops parsing.
 * Driven programmatically on a staged copy, on this machine's architecture only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch } from '#native/arch.ts';
import { CHAPTERS } from '../manifest.ts';
import type { CheckResult } from '../harness/protocol.ts';
import { stageWorkspace } from '../harness/session.ts';
import { watchChapters } from '../tools/watch.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const chapter = CHAPTERS[0]!;
const file = join('chapters', '01-executable-memory', 'code-region.ts');

/** Waits until `condition` holds, polling; fails after `limitMs`. */
async function until(condition: () => boolean, limitMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) assert.unreachable(`gave up after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('re-runs the checks when a chapter file changes, and survives a syntax error', async () => {
  const staged = stageWorkspace(root, root);
  const runs: CheckResult[][] = [];
  const output: string[] = [];
  const watcher = watchChapters({
    root: staged.root,
    chapters: [chapter],
    arches: [hostArch()],
    debounceMs: 100,
    write: (text) => output.push(text),
    onRun: (results) => runs.push(results),
  });
  try {
    await until(() => runs.length >= 1, 60_000, 'the first run');
    assert.ok(runs[0]!.length > 0 && runs[0]!.every((r) => r.status === 'todo'), 'the pristine scaffold is all todo');
    assert.match(output.join(''), /0 passed, \d+ failed/);

    copyFileSync(join(root, 'solutions', '01-executable-memory', 'code-region.ts'), join(staged.root, file));
    await until(() => runs.some((run) => run.every((r) => r.status === 'pass')), 60_000, 'a run in which the copied solution passes');
    assert.match(output.at(-1)!, /\d+ passed, 0 failed/);

    const before = runs.length;
    const source = readFileSync(join(staged.root, file), 'utf8');
    writeFileSync(join(staged.root, file), source.replace('export class CodeRegion {', 'export class CodeRegion { let x = ;'));
    await until(() => runs.length > before && runs.at(-1)!.every((r) => r.status === 'fail'), 60_000, 'a run after the syntax error');
    const failed = runs.at(-1)![0]!;
    assert.match(failed.message, /chapters\/01-executable-memory\/code-region\.ts:\d+:\d+: /, 'the message names file:line:column');
    assert.match(failed.details ?? '', /\^/, 'a caret points at the column');

    writeFileSync(join(staged.root, file), source);
    const afterFix = runs.length;
    await until(() => runs.length > afterFix && runs.at(-1)!.every((r) => r.status === 'pass'), 60_000, 'a run after the fix');
  } finally {
    await watcher.stop();
    staged.remove();
  }
});

test.run();
