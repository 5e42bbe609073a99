import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The admin bearer token for write APIs: NETZERO_ADMIN_TOKEN if set, else generated at first start,
 * stored in `<data dir>/admin-token` (mode 0600) and returned with `created: true` so it is printed once.
 */
export function loadOrCreateAdminToken(dataDir: string, fromEnv?: string): { token: string; created: boolean; file?: string } {
  if (fromEnv) return { token: fromEnv, created: false };
  const file = path.join(dataDir, 'admin-token');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    return { token: fs.readFileSync(file, 'utf8').trim(), created: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true, file };
}
