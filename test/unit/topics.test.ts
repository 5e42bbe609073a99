import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTopic, topicFor, type ParsedTopic } from '../../devices/topics.js';

/** The reading by `split`, as it was: the reference `parseTopic` must agree with on any string. */
function bySplit(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== 'netzero/v1') return null;
  const [, , site, device, channel] = parts as [string, string, string, string, string];
  if (channel !== 'telemetry' && channel !== 'status' && channel !== 'errors') return null;
  return { site, device, channel };
}

describe('parseTopic', () => {
  it('reads the contract topics and refuses others', () => {
    expect(parseTopic(topicFor('kh-1', 'm.01', 'telemetry'))).toEqual({ site: 'kh-1', device: 'm.01', channel: 'telemetry' });
    expect(parseTopic('netzero/v1/s/d/status')).toEqual({ site: 's', device: 'd', channel: 'status' });
    expect(parseTopic('netzero/v1//d/errors')).toEqual({ site: '', device: 'd', channel: 'errors' });
    for (const t of ['netzero/v1/s/d', 'netzero/v1/s/d/telemetry/', 'netzero/v1/s/d/x/telemetry', 'netzero/v2/s/d/telemetry', '/netzero/v1/s/d/telemetry', 'netzero/v1/s/d/Telemetry', 'netzero/v1s/d/telemetry', 'netzero', '']) {
      expect(parseTopic(t), t).toBeNull();
    }
  });

  it('gives exactly what reading by split gives, on topic-like and random strings', () => {
    const level = fc.constantFrom('netzero', 'v1', 'v2', 's', 'd-1', '', 'telemetry', 'status', 'errors', '#', '+', 'netzero/v1', '/', 'telemetry/');
    const topicLike = fc.array(level, { minLength: 0, maxLength: 7 }).map((ls) => ls.join('/'));
    fc.assert(
      fc.property(fc.oneof(topicLike, topicLike.map((t) => `netzero/v1/${t}`), fc.string({ maxLength: 40 }), fc.string({ unit: fc.constantFrom('/', 'a', 'netzero', 'v1', 'telemetry'), maxLength: 12 })), (t) => {
        expect(parseTopic(t), t).toEqual(bySplit(t));
      }),
      { numRuns: 20_000 },
    );
  });
});
