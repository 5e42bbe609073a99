/**
 * What reading registers needs of a Modbus client: the two read functions of `modbus-serial`'s
 * promise API (a `ModbusRTU` after `connectTCP` and `setID` fits as it is). Nothing else here depends on
 * a Modbus library, so the decoding can be tested, and reused by a Node-RED node, with any client.
 */
export interface ModbusClientLike {
  readHoldingRegisters(address: number, length: number): Promise<{ data: number[] }>;
  readInputRegisters?(address: number, length: number): Promise<{ data: number[] }>;
}

export const REGISTER_TABLES = ['holding', 'input'] as const;
/** Function 3 (holding registers) or 4 (input registers). */
export type RegisterTable = (typeof REGISTER_TABLES)[number];

/** Reads `count` registers from `address` on; resolves with exactly `count` words. */
export type ReadRegisters = (address: number, count: number) => Promise<number[]>;

/** Registers one read may ask for (Modbus application protocol: 125 for functions 3 and 4). */
export const MAX_READ_REGISTERS = 125;

/**
 * A `ReadRegisters` on one table of `client`: reads longer than 125 registers are split, and an answer
 * of the wrong length (a broken device or gateway) is an error, never a shifted block.
 */
export function registerReader(client: ModbusClientLike, table: RegisterTable = 'holding'): ReadRegisters {
  return async (address, count) => {
    if (!Number.isInteger(address) || !Number.isInteger(count) || address < 0 || count < 1 || address + count > 0x10000) {
      throw new RangeError(`registers ${address}…${address + count - 1} are outside 0…65535`);
    }
    const words: number[] = [];
    for (let at = address; at < address + count; at += MAX_READ_REGISTERS) {
      const n = Math.min(MAX_READ_REGISTERS, address + count - at);
      const read = table === 'holding' ? client.readHoldingRegisters.bind(client) : client.readInputRegisters?.bind(client);
      if (!read) throw new Error('this Modbus client cannot read input registers');
      const { data } = await read(at, n);
      if (!Array.isArray(data) || data.length !== n) {
        throw new Error(`asked for ${n} ${table} registers at ${at}, got ${Array.isArray(data) ? data.length : 'no data'}`);
      }
      words.push(...data);
    }
    return words;
  };
}
