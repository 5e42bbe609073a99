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

const ROOT_PREFIX = `${TOPIC_ROOT}/`;

/**
 * `netzero/v1/{site}/{device}/{channel}`: exactly five levels (a level may be empty), or null. Read with
 * `indexOf` rather than `split` (no array and no joined string per message: the broker and ingest each
 * read the topic of every publish); test/unit/topics.test.ts checks it against the split.
 */
export function parseTopic(topic: string): ParsedTopic | null {
  if (!topic.startsWith(ROOT_PREFIX)) return null;
  const siteAt = ROOT_PREFIX.length;
  const deviceSlash = topic.indexOf('/', siteAt);
  if (deviceSlash < 0) return null;
  const channelSlash = topic.indexOf('/', deviceSlash + 1);
  if (channelSlash < 0 || topic.indexOf('/', channelSlash + 1) >= 0) return null;
  const channel = topic.slice(channelSlash + 1);
  if (channel !== 'telemetry' && channel !== 'status' && channel !== 'errors') return null;
  return { site: topic.slice(siteAt, deviceSlash), device: topic.slice(deviceSlash + 1, channelSlash), channel };
}
