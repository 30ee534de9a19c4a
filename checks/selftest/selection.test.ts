/**
 * Running only the checks named (the planted-bug step depends on it), and time limits
 * counted in the worker's CPU time: a check that waits keeps its budget, a loop does not.
 * Chapter 01 on the host's architecture, against the reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch } from '#native/arch.ts';
import { CHAPTERS, chapterDir } from '../manifest.ts';
import { runSession, stageWorkspace } from '../harness/session.ts';
import { cpuTimeMs } from '../harness/runner.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const chapter = CHAPTERS[0]!;

test('only the checks named run, and a name the chapter lacks is an error that lists the names it has', async () => {
  const names = ['dispose unmaps the pages', 'a sealed region runs code'];
  const results = await runSession({ root, chapters: [chapter], arches: [hostArch()], solutions: true, only: names });
  assert.equal(results.map((r) => r.check).sort(), [...names].sort());
  assert.ok(results.every((r) => r.status === 'pass'), results.map((r) => `${r.check}: ${r.status} ${r.message}`).join('\n'));
  const wrong = await runSession({ root, chapters: [chapter], arches: [hostArch()], solutions: true, only: ['no such check'] });
  assert.is(wrong.length, 1);
  assert.is(wrong[0]!.status, 'fail');
  assert.match(wrong[0]!.message, /no check named 'no such check'/);
  assert.match(wrong[0]!.details ?? wrong[0]!.message, /dispose unmaps the pages/);
});

test('the CPU time of a process is read from /proc', () => {
  const used = cpuTimeMs(process.pid);
  assert.ok(used !== null && used > 0, `cpuTimeMs(own pid) = ${used}`);
  assert.is(cpuTimeMs(2 ** 30), null, 'no such process');
});

test('a check that waits keeps its budget; an endless loop is stopped and the next check runs', async () => {
  const staged = stageWorkspace(root, root);
  try {
    copyFileSync(join(root, 'checks', 'selftest', 'fixtures', 'budget.check.ts'), join(staged.root, 'checks', chapterDir(chapter), 'zz-budget.check.ts'));
    const results = await runSession({
      root: staged.root,
      chapters: [chapter],
      arches: [hostArch()],
      solutions: true,
      only: ['budget: waiting is not spending', 'budget: an endless loop is still stopped', 'budget: after the loop'],
    });
    const status = (name: string) => results.find((r) => r.check === `budget: ${name}`);
    assert.is(status('waiting is not spending')?.status, 'pass', status('waiting is not spending')?.message);
    assert.is(status('an endless loop is still stopped')?.status, 'fail');
    assert.match(status('an endless loop is still stopped')!.message, /timed out/);
    assert.is(status('after the loop')?.status, 'pass');
  } finally {
    staged.remove();
  }
});

test.run();
