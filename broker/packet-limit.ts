import type { Client } from 'aedes';

/** Contract: a payload is at most 64 KiB; the packet may add the topic and header on top. */
export const MAX_PACKET_BYTES = 64 * 1024 + 1024;

interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

/**
 * aedes reads packets with mqtt-packet, which has no size limit in MQTT 3.1.1, so a client could make
 * the broker buffer a 256 MB packet. The fixed header's Remaining Length (MQTT 3.1.1 §2.2.3) arrives
 * first: reject there, before the body is buffered, and the client is disconnected (3.1.1 has no
 * other way to refuse a packet).
 */
export function limitPacketSize(client: Client, maxBytes: number, onOversize?: (bytes: number) => void): void {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = function limitedParseLength(this: PacketParser) {
    const ok = parseLength();
    if (ok && parser.packet.length > maxBytes) {
      onOversize?.(parser.packet.length);
      parser._emitError(new Error(`packet of ${parser.packet.length} bytes exceeds the ${maxBytes}-byte limit`));
      return false;
    }
    return ok;
  };
}
