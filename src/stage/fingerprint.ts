import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface FileFingerprint {
  readonly size: number;
  readonly fingerprint: string;
}

const SAMPLE = 1 << 20;

/**
 * What the ledger compares to decide a file is unchanged: size, modification time and a hash of
 * its first and last MiB. Hashing whole files would cost as much as loading them; a changed file
 * keeps neither its size nor its mtime in practice, and the samples catch same-size rewrites
 * that preserve mtime where the change touches either end.
 */
export function fingerprintFile(path: string): FileFingerprint {
  const st = statSync(path);
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SAMPLE, st.size));
    hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
    if (st.size > SAMPLE) hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, Math.max(SAMPLE, st.size - SAMPLE))));
  } finally {
    closeSync(fd);
  }
  return { size: st.size, fingerprint: `${st.size}:${Math.trunc(st.mtimeMs)}:${hash.digest('hex').slice(0, 32)}` };
}
