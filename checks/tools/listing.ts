/**
 * The checks of a chapter as the runner sees them (names, points, hint ladders), without
 * running any: a worker started past its last check lists them and stops.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { chapterDir, type Chapter } from '../manifest.ts';
import type { ListedCheck, WorkerEvent } from '../harness/protocol.ts';
import { conditionsFor } from '../harness/session.ts';

const PAST_THE_END = 1_000_000;

/**
 * Lists a chapter's checks on `arch` (the host unless said otherwise). With `solutions`, the
 * reference stands in for every chapter, so a broken learner file cannot hide a check.
 */
export function listChecks(root: string, chapter: Chapter, arch: Arch, options: { solutions?: boolean } = {}): Promise<ListedCheck[]> {
  const found = availability(arch, root);
  if (!found.available) return Promise.reject(new Error(found.reason));
  const { launcher } = found;
  const args = [
    ...launcher.prefix,
    ...launcher.typescript,
    ...conditionsFor({ solutions: options.solutions ?? false }).map((c) => `--conditions=${c}`),
    join(root, 'checks', 'harness', 'worker.ts'),
    chapterDir(chapter),
    String(PAST_THE_END),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(launcher.command, args, {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'ignore'],
      env: { ...process.env, NODE_OPTIONS: '', WORKBOOK_MODE: launcher.mode, FORCE_COLOR: '0' },
    });
    let listed: ListedCheck[] | undefined;
    let pending = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), launcher.mode === 'emulated' ? 120_000 : 30_000);
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.stdio[3]!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line) as WorkerEvent;
        if (event.t === 'list') listed = event.checks;
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (listed) resolve(listed);
      else reject(new Error(`could not list the checks of chapter ${chapter.number} on ${arch} (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}
