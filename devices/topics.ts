/** MQTT topics of the contract: `netzero/v1/{site}/{device}/{telemetry|status|errors}`. */

export const TOPIC_ROOT = 'netzero/v1';
export const TELEMETRY_SHARED_SUBSCRIPTION = `$share/netzero-ingest/${TOPIC_ROOT}/+/+/telemetry`;

export type Channel = 'telemetry' | 'status' | 'errors';

/** Site and device ids are single topic levels: letters, digits, `_`, `-`, `.`; no MQTT wildcards. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function topicFor(site: string, device: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${site}/${device}/${channel}`;
}

export interface ParsedTopic {
  site: string;
  device: string;
  channel: Channel;
}

export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return null;
  const [, , site, device, channel] = parts as [string, string, string, string, string];
  if (channel !== 'telemetry' && channel !== 'status' && channel !== 'errors') return null;
  return { site, device, channel };
}
