/**
 * `npm run hint`: one rung per call, recorded in .workbook/hints.json, and shown as
 * `hintsUsed` in the JSON results of `npm run check`. Also: `npm run check` records the
 * latest results that `hint` and `progress` read. End to end, in a staged copy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch } from '#native/arch.ts';
import type { ListedCheck } from '../harness/protocol.ts';
import { CHAPTERS } from '../manifest.ts';
import { stageWorkspace } from '../harness/session.ts';
import { matchCheck, nextHint } from '../tools/hint.ts';
import { readHints } from '../tools/state.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

test('one rung per call, never past the last, recorded per check', () => {
  const temp = mkdtempSync(join(tmpdir(), 'workbook-hints-'));
  try {
    const check: ListedCheck = { name: 'a check', file: 'checks/x.check.ts', points: 1, timeoutMs: 5000, hints: ['concept', 'where', 'answer'] };
    const shown = [1, 2, 3, 4].map(() => nextHint(temp, CHAPTERS[0]!, check)!);
    assert.equal(shown.map((s) => s.rung), [1, 2, 3, 3]);
    assert.equal(shown.map((s) => s.text), ['concept', 'where', 'answer', 'answer']);
    assert.equal(shown[2]!.earlier, ['concept', 'where']);
    assert.equal(readHints(temp), { '01': { 'a check': 3 } });
    assert.is(nextHint(temp, CHAPTERS[0]!, { ...check, hints: [] }), undefined);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

test('a check is found by number, exact name or a unique part of it', () => {
  const checks = ['sizes round up', 'dispose unmaps', 'dispose twice'].map((name): ListedCheck => ({ name, file: '', points: 1, timeoutMs: 1, hints: [] }));
  assert.is((matchCheck(checks, '2') as ListedCheck).name, 'dispose unmaps');
  assert.is((matchCheck(checks, 'Round') as ListedCheck).name, 'sizes round up');
  assert.is((matchCheck(checks, 'dispose') as ListedCheck[]).length, 2);
  assert.is(matchCheck(checks, 'nothing'), undefined);
});

test('check records results; hint picks the first failing check; hintsUsed shows in the JSON', () => {
  const staged = stageWorkspace(root, root);
  const node = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: staged.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  try {
    const arch = hostArch();
    const first = node(['checks/cli.ts', '1', '--arch', arch]);
    assert.is(first.status, 1, 'the pristine chapter fails');
    assert.match(first.stdout, /0 passed, \d+ failed\n$/, 'the closing line stays last');
    const recorded = JSON.parse(readFileSync(join(staged.root, '.workbook', 'results.json'), 'utf8')) as { groups: Record<string, { results: { check: string }[] }> };
    const firstCheck = recorded.groups[`01/${arch}`]!.results[0]!.check;

    const hint1 = node(['checks/tools/hint.ts', 'chapter-01']);
    assert.is(hint1.status, 0, hint1.stderr);
    assert.match(plain(hint1.stdout), new RegExp(`chapter 01 · ${firstCheck}[\\s\\S]*hint 1 of 3 \\(the concept\\)`));
    const hint2 = node(['checks/tools/hint.ts', '1']);
    assert.match(plain(hint2.stdout), /hint 2 of 3 \(where to look\)/);
    assert.equal(readHints(staged.root), { '01': { [firstCheck]: 2 } });

    const json = join(staged.root, 'results.json');
    node(['checks/cli.ts', '1', '--arch', arch, '--json', json]);
    const results = (JSON.parse(readFileSync(json, 'utf8')) as { results: { check: string; hintsUsed: number }[] }).results;
    assert.is(results.find((r) => r.check === firstCheck)?.hintsUsed, 2);
    assert.ok(results.filter((r) => r.check !== firstCheck).every((r) => r.hintsUsed === 0));

    const progress = node(['checks/tools/progress.ts']);
    assert.is(progress.status, 0, progress.stderr);
    assert.match(plain(progress.stdout), /01 Executable memory +not started/);
    assert.match(plain(progress.stdout), /next: chapter 01[\s\S]*npm run check chapter-01/);

    const solution = node(['checks/tools/solution.ts', '1']);
    assert.is(solution.status, 1);
    assert.match(plain(solution.stdout), /does not pass yet[\s\S]*npm run hint chapter-01/);
  } finally {
    staged.remove();
  }
});

test.run();
