import { writeFileSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** One file to write; `mayExist` asks to compare with what is there first and leave it alone when equal. */
export interface FileWrite {
  readonly path: string;
  readonly text: string;
  readonly mayExist: boolean;
}

/** Below this many files a helper thread costs more to start than it saves. */
const MIN_FILES_FOR_HELPER = 256;

const FREE = 0;
const DONE = 2;
const FAILED = 3;

// The helper claims files from a shared counter and marks each done or failed; it never reports
// an error itself: the calling thread writes a failed file again, so the error surfaces there.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readFileSync, writeFileSync } = require('node:fs');
const { paths, texts, mayExist, next, status } = workerData;
for (;;) {
  const i = Atomics.add(next, 0, 1);
  if (i >= paths.length) break;
  let ok = true;
  try {
    if (!(mayExist[i] && same(paths[i], texts[i]))) writeFileSync(paths[i], texts[i]);
  } catch {
    ok = false;
  }
  Atomics.store(status, i, ok ? ${DONE} : ${FAILED});
  Atomics.notify(status, i);
}
function same(path, text) {
  try { return readFileSync(path, 'utf8') === text; } catch { return false; }
}
`;

/**
 * Writes `files` while `meanwhile` runs on this thread: a helper thread starts on the files, this
 * thread runs `meanwhile` (e.g. serializing the manifest), then both share what is left.
 * Synchronous for the caller; creating thousands of files is kernel time that a second core can
 * spend while this one serializes. Errors are thrown as a plain writeFileSync would throw them.
 */
export function writeFilesWhile(files: readonly FileWrite[], meanwhile: () => void): void {
  if (files.length < MIN_FILES_FOR_HELPER) {
    meanwhile();
    for (const f of files) writeOne(f);
    return;
  }
  const next = new Int32Array(new SharedArrayBuffer(4));
  const status = new Int32Array(new SharedArrayBuffer(4 * files.length));
  let worker: Worker | undefined;
  try {
    worker = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { paths: files.map((f) => f.path), texts: files.map((f) => f.text), mayExist: files.map((f) => f.mayExist), next, status },
    });
    worker.unref();
    // A helper that fails to start just leaves every file to this thread.
    worker.on('error', () => undefined);
  } catch {
    worker = undefined;
  }
  meanwhile();
  for (;;) {
    const i = Atomics.add(next, 0, 1);
    if (i >= files.length) break;
    writeOne(files[i]!);
    Atomics.store(status, i, DONE);
  }
  for (let i = 0; i < files.length; i++) {
    // Claimed by the helper: wait for it (bounded, in case it died mid-file), then redo anything not done.
    while (Atomics.load(status, i) === FREE && worker) {
      if (Atomics.wait(status, i, FREE, 10_000) === 'timed-out') break;
    }
    if (Atomics.load(status, i) !== DONE) writeOne(files[i]!);
  }
}

function writeOne(f: FileWrite): void {
  if (f.mayExist && sameText(f.path, f.text)) return;
  writeFileSync(f.path, f.text);
}

function sameText(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8') === text;
  } catch {
    return false;
  }
}
