import type { Client } from 'aedes';

interface PacketParser {
  prependListener(event: 'packet', fn: (packet: { cmd?: string; subscriptions?: Array<{ qos: number }> }) => void): void;
}

/**
 * The contract offers QoS 0 and 1. A SUBSCRIBE asking QoS 2 is granted QoS 1 (MQTT 3.1.1 §3.8.4: the
 * server may grant a lower QoS than asked). aedes writes the SUBACK from the QoS in the packet, so the
 * cap is applied as the packet is parsed, before aedes handles it.
 */
export function capSubscribeQos(client: Client, maxQos: 0 | 1, onDowngrade?: (count: number) => void): void {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser.prependListener !== 'function') return;
  parser.prependListener('packet', (packet) => {
    if (packet.cmd !== 'subscribe' || !Array.isArray(packet.subscriptions)) return;
    let downgraded = 0;
    for (const sub of packet.subscriptions) {
      if (sub.qos > maxQos) {
        sub.qos = maxQos;
        downgraded++;
      }
    }
    if (downgraded > 0) onDowngrade?.(downgraded);
  });
}
