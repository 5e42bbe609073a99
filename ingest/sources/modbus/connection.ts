import modbusSerial from 'modbus-serial';

// A CommonJS package: its class is `module.exports` itself, typed as the `default` export.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

/** The poll ran past its time (connecting included), or was cancelled because the service stops. */
export class PollTimeout extends Error {}

export interface ModbusTarget {
  host: string;
  port: number;
  unitId: number;
}

/**
 * Connects to one device over Modbus TCP (`modbus-serial`), runs `work` on the connected client and
 * closes the connection, all within `timeoutMs`: a TCP connect that hangs (no answer to SYN), a device
 * that accepts and never answers, a name that does not resolve are each cut at the deadline and the
 * socket destroyed. `signal` cuts it at once (the service stops). One connection per poll: a poll every
 * 5 s or more costs little, and nothing is left half-open between polls.
 */
export async function withModbus<T>(target: ModbusTarget, timeoutMs: number, work: (client: ModbusRTU) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const client = new ModbusRTU();
  // A socket error after connecting also fails the request waiting on it; the event alone must not crash the service.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PollTimeout(`no answer within ${timeoutMs / 1000} s (connect and read)`)), timeoutMs);
    onAbort = () => reject(new PollTimeout('cancelled: the service is stopping'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  const run = (async () => {
    await client.connectTCP(target.host, { port: target.port, timeout: timeoutMs });
    client.setID(target.unitId);
    client.setTimeout(timeoutMs);
    return work(client);
  })();
  run.catch(() => undefined); // after the deadline its rejection has nobody to tell
  try {
    return await Promise.race([run, cut]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    client.destroy(() => undefined);
  }
}
