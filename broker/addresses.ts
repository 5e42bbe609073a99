import type { Client } from 'aedes';

/** The address a client connected from (TCP socket, or the WebSocket's request). */
export function remoteAddress(client: Client): string {
  const c = client as unknown as {
    req?: { socket?: { remoteAddress?: string } };
    conn?: { remoteAddress?: string };
  };
  return c.req?.socket?.remoteAddress ?? c.conn?.remoteAddress ?? 'unknown';
}

/**
 * The key an address is rate-limited under: an IPv4 address as is (also when IPv4-mapped), an IPv6
 * address by its /64 (one site or household holds a whole /64, so single addresses would be free).
 */
export function addressKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => (g || '0').toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
