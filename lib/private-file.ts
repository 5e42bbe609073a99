import fs from 'node:fs';

/**
 * Makes sure a database file exists readable by its owner only (0600) before SQLite opens it: SQLite
 * gives its -wal and -shm files the database file's permissions, so the whole database stays private.
 */
export function openPrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
}
