/**
 * Write a file so that a power cut leaves either the old or the new content,
 * never half of one (config, secrets, reports): tmp + fsync + rename + fsync dir.
 * A replaced file keeps its owner: a technician runs `safehouse pair` or
 * `user add` with sudo, and the gateway's service user must still read the result.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, renameSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export function writeFileAtomic(file: string, data: string | Buffer, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`
  const owner = existingOwner(file)
  const fd = openSync(tmp, 'w', mode)
  try {
    // Only root can give a file away; anyone else's files are theirs already.
    if (owner && process.getuid?.() === 0) fchownSync(fd, owner.uid, owner.gid)
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

function existingOwner(file: string): { uid: number; gid: number } | null {
  try {
    const st = statSync(file)
    return { uid: st.uid, gid: st.gid }
  } catch {
    return null
  }
}
