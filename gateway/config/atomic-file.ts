/**
 * Write a file so that a power cut leaves either the old or the new content,
 * never half of one (config, secrets, reports): tmp + fsync + rename + fsync dir.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export function writeFileAtomic(file: string, data: string | Buffer, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w', mode)
  try {
    // openSync's mode applies only when it creates the file: a stale tmp left by a crash keeps its mode.
    fchmodSync(fd, mode)
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  // The rename itself lives in the directory: sync it so it survives a power cut.
  const dfd = openSync(dirname(file), 'r')
  try {
    fsyncSync(dfd)
  } finally {
    closeSync(dfd)
  }
}
