import { createRPCError } from 'ocpp-rpc';
import type { Logger } from 'pino';
import type { FieldError } from '../../../devices/payload.js';
import type { Device, DeviceRegistry } from '../../../devices/registry.js';
import { ID_PATTERN, topicFor } from '../../../devices/topics.js';
import { parseIsoWithOffset } from '../../../lib/time.js';
import type { DeviceStatusBoard } from '../../device-status.js';
import type { IngestPipeline } from '../../pipeline.js';
import type { Quarantine } from '../../quarantine.js';
import {
  confirmMeterStart,
  DEFAULT_MAX_KW,
  judgeEnergy,
  meterStartOnArrival,
  noteErrors,
  readingsFromSamples,
  registerReading,
  type ContractReading,
  type Register,
  type SampleNote,
} from './mapping.js';
import type { MeterValue } from './meter-values.js';
import type { OcppMetrics } from './metrics.js';
import type { OcppTransactions, Transaction } from './transactions.js';

/** OCPP connector numbers this service takes (the contract's `connector` bound). */
export const MAX_CONNECTOR_ID = 255;
/** Readings per message handed to the pipeline at most, and the bytes of one payload (under the 64 KiB payload limit). */
const MAX_READINGS_PER_PAYLOAD = 500;
const MAX_PAYLOAD_CHARS = 60 * 1024;
/** sampled-value timestamps one MeterValues or transactionData may carry (the contract's batch limit). */
export const MAX_METER_VALUES = 1000;

export interface ChargerDeps {
  pipeline: IngestPipeline;
  registry: DeviceRegistry;
  quarantine: Quarantine;
  statusBoard: DeviceStatusBoard;
  transactions: OcppTransactions;
  metrics: OcppMetrics;
  log: Logger;
  heartbeatS: number;
}

interface StatusNotification {
  connectorId: number;
  errorCode: string;
  status: string;
  info?: string;
  timestamp?: string;
}

interface StartTransaction {
  connectorId: number;
  idTag: string;
  meterStart: number;
  timestamp: string;
  reservationId?: number;
}

interface MeterValues {
  connectorId: number;
  transactionId?: number;
  meterValue: MeterValue[];
}

interface StopTransaction {
  transactionId: number;
  idTag?: string;
  meterStop: number;
  timestamp: string;
  reason?: string;
  transactionData?: MeterValue[];
}

interface BootNotification {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  firmwareVersion?: string;
}

const violation = (field: string, reason: string) => createRPCError('PropertyConstraintViolation', `${field} ${reason}`, { field, reason });

function connectorOf(v: number, field: string, min = 0): number {
  if (!Number.isInteger(v) || v < min || v > MAX_CONNECTOR_ID) throw violation(field, `must be an integer from ${min} to ${MAX_CONNECTOR_ID}, got ${v}`);
  return v;
}

function timeOf(v: string, field: string): number {
  const t = parseIsoWithOffset(v);
  if ('reason' in t) throw violation(field, t.reason);
  return t.ms;
}

/**
 * One charger's OCPP 1.6 calls (Charge Point → Central System), for one connection. The room runs them
 * one at a time per charger; each returns the answer, and throws an RPC error (a CALLERROR) for what the
 * schema cannot say (a connector out of range) or when nothing could be made durable (the charger sends
 * it again: transaction messages are retried by OCPP chargers).
 *
 * Which device a connector's register belongs to: connector 1 (the only one of most chargers) is the
 * charger's own device; connector c ≠ 1 is the device `{charger id}.{c}` when one is registered as an
 * `ev_charger`, so each register is one cumulative series (README in this folder). Otherwise its
 * register values are not readings, and the quarantine says so once per connection and connector.
 */
export class ChargerHandlers {
  private readonly toldUnmapped = new Set<number>();

  constructor(
    private readonly charger: Device,
    private readonly deps: ChargerDeps,
  ) {}

  async bootNotification(p: BootNotification) {
    const closed = await this.deps.transactions.closeOpenOf(this.charger.id, 'boot');
    await this.droppedStarts(closed, 'BootNotification', 'the charger rebooted before a register value followed it');
    this.deps.statusBoard.set(this.charger, true, 'ocpp', {
      vendor: p.chargePointVendor,
      model: p.chargePointModel,
      ...(p.firmwareVersion ? { firmware: p.firmwareVersion } : {}),
      ...(p.chargePointSerialNumber ? { serial: p.chargePointSerialNumber } : {}),
      booted: new Date().toISOString(),
      ...Object.fromEntries(closed.map((t) => [`connector_${t.connector}_session`, null])),
    });
    if (closed.length > 0) this.deps.log.info({ charger: this.charger.id, closed: closed.map((t) => t.id) }, 'ocpp: open transactions closed by the charger\'s BootNotification');
    return { status: 'Accepted', currentTime: new Date().toISOString(), interval: this.deps.heartbeatS };
  }

  async heartbeat() {
    this.deps.statusBoard.set(this.charger, true, 'ocpp', {});
    return { currentTime: new Date().toISOString() };
  }

  async statusNotification(p: StatusNotification) {
    const c = connectorOf(p.connectorId, 'connectorId');
    const errorKey = `connector_${c}_error`;
    const hadError = this.deps.statusBoard.get(this.charger.id)?.detail[errorKey] != null;
    this.deps.statusBoard.set(this.charger, true, 'ocpp', {
      [`connector_${c}`]: p.status,
      ...(p.errorCode !== 'NoError' || hadError ? { [errorKey]: p.errorCode === 'NoError' ? null : p.errorCode } : {}),
    });
    return {};
  }

  /** Every idTag is accepted: this central system meters energy; who may charge is the operator's business (README). */
  async authorize() {
    return { idTagInfo: { status: 'Accepted' } };
  }

  async startTransaction(p: StartTransaction) {
    const c = connectorOf(p.connectorId, 'connectorId', 1);
    const startTs = timeOf(p.timestamp, 'timestamp');
    const target = await this.deviceFor(c);
    const last = target ? await this.deps.transactions.register(target.id, c) : undefined;
    const fate = target ? meterStartOnArrival(p.meterStart, startTs, last) : { dropped: this.unmappedReason(c) };
    const { tx, created, superseded } = await this.deps.transactions.start({
      charger: this.charger.id,
      connector: c,
      idTag: p.idTag,
      meterStartWh: p.meterStart,
      startTs,
      meterStartKwh: 'pending' in fate ? fate.pending : p.meterStart / 1000,
      meterStart: 'pending' in fate ? 'pending' : 'dropped',
    });
    if (created) {
      if ('dropped' in fate) {
        this.deps.metrics.samples.inc({ outcome: target ? 'placeholder' : 'unmapped_connector' });
        await this.quarantine('StartTransaction', p, [{ field: 'meterStart', reason: `transaction ${tx.id}: ${fate.dropped}` }]);
      }
      await this.droppedStarts(superseded, 'StartTransaction', `a newer StartTransaction on connector ${c} closed it before a register value followed it`);
      this.deps.log.info({ charger: this.charger.id, connector: c, transaction: tx.id, meterStart: tx.meterStart }, 'ocpp: transaction started');
    }
    this.deps.statusBoard.set(this.charger, true, 'ocpp', { [`connector_${c}_session`]: String(tx.id) });
    return { transactionId: tx.id, idTagInfo: { status: 'Accepted' } };
  }

  async meterValues(p: MeterValues) {
    const c = connectorOf(p.connectorId, 'connectorId');
    if (p.meterValue.length > MAX_METER_VALUES) throw createRPCError('OccurrenceConstraintViolation', `meterValue holds ${p.meterValue.length} entries; at most ${MAX_METER_VALUES}`);
    const target = await this.deviceFor(c);
    if (!target) {
      await this.tellUnmapped(c, 'MeterValues', p);
      return {};
    }
    const tx = p.transactionId !== undefined ? await this.ownTransaction(p.transactionId) : undefined;
    const last = await this.deps.transactions.register(target.id, c);
    const out = readingsFromSamples({ connector: c, sessionId: p.transactionId !== undefined ? String(p.transactionId) : undefined, meterValue: p.meterValue, path: 'meterValue', last });
    const start = tx && tx.connector === c ? this.pendingStart(tx, out.readings, target) : undefined;
    const readings = start?.reading ? [start.reading, ...out.readings] : out.readings;
    await this.submit(target, c, readings, out.last);
    await this.noted(c, 'MeterValues', p, [...out.notes, ...(start?.note ? [start.note] : [])]);
    if (tx) {
      if (start) await this.deps.transactions.decideMeterStart(tx.id, start.reading ? 'written' : 'dropped');
      await this.deps.transactions.touch(tx.id);
    }
    return {};
  }

  async stopTransaction(p: StopTransaction) {
    const answer = p.idTag !== undefined ? { idTagInfo: { status: 'Accepted' } } : {};
    const stopTs = timeOf(p.timestamp, 'timestamp');
    if ((p.transactionData?.length ?? 0) > MAX_METER_VALUES) throw createRPCError('OccurrenceConstraintViolation', `transactionData holds ${p.transactionData!.length} entries; at most ${MAX_METER_VALUES}`);
    const tx = await this.ownTransaction(p.transactionId);
    if (!tx) {
      this.deps.metrics.samples.inc({ outcome: 'unreadable' });
      await this.quarantine('StopTransaction', p, [
        { field: 'transactionId', reason: `${p.transactionId} is not a transaction this central system started for this charger: its connector is unknown, so meterStop and transactionData are not readings` },
      ]);
      return answer;
    }
    const c = tx.connector;
    const sessionId = String(tx.id);
    const target = await this.deviceFor(c);
    if (!target) {
      await this.tellUnmapped(c, 'StopTransaction', p);
      await this.deps.transactions.stop(tx.id, p.meterStop, stopTs);
      return answer;
    }
    const last = await this.deps.transactions.register(target.id, c);
    const out = readingsFromSamples({ connector: c, sessionId, meterValue: p.transactionData ?? [], path: 'transactionData', last });
    const notes = [...out.notes];
    const readings = [...out.readings];
    let after: Register | undefined = out.last;
    // The register at the stop is the sample taken then, when transactionData has one; else meterStop.
    if (!readings.some((r) => r.ts === stopTs)) {
      const judged = judgeEnergy(p.meterStop / 1000, 'Wh', after);
      if ('refused' in judged) {
        notes.push({ outcome: 'placeholder', ts: stopTs, field: 'meterStop', reason: `meterStop ${p.meterStop} Wh: ${judged.refused}` });
      } else {
        if (judged.corrected) notes.push({ outcome: 'unit_corrected', ts: stopTs, field: 'meterStop', reason: judged.corrected });
        readings.push(registerReading(c, 'meterStop', stopTs, judged.kwh, sessionId, judged.corrected));
        if (!after || stopTs >= after.ts) after = { kwh: judged.kwh, ts: stopTs };
      }
    }
    readings.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    // a meterStart still unconfirmed at the stop (no register value came at all) is not a reading
    const start = this.pendingStart(tx, readings, target) ?? (tx.meterStart === 'pending' ? { note: { outcome: 'placeholder' as const, ts: tx.startTs, field: 'meterStart', reason: `transaction ${tx.id}: meterStart ${tx.meterStartWh} Wh is not a reading: no register value of the transaction confirmed it` } } : undefined);
    if (start?.reading) readings.unshift(start.reading);
    await this.submit(target, c, readings, after);
    await this.noted(c, 'StopTransaction', p, [...notes, ...(start?.note ? [start.note] : [])]);
    if (start) await this.deps.transactions.decideMeterStart(tx.id, start.reading ? 'written' : 'dropped');
    await this.deps.transactions.stop(tx.id, p.meterStop, stopTs);
    this.deps.statusBoard.set(this.charger, true, 'ocpp', { [`connector_${c}_session`]: null });
    this.deps.log.info({ charger: this.charger.id, connector: c, transaction: tx.id, reason: p.reason }, 'ocpp: transaction stopped');
    return answer;
  }

  /** DataTransfer carries vendor data this service does not read. */
  async dataTransfer() {
    return { status: 'UnknownVendorId' };
  }

  /** A transaction of this charger (another charger's id, or one we never handed out, is not). */
  private async ownTransaction(id: number): Promise<Transaction | undefined> {
    const tx = await this.deps.transactions.get(id);
    return tx && tx.charger === this.charger.id ? tx : undefined;
  }

  /**
   * A pending meterStart is decided by the first register value at or after the start: written (with
   * its own timestamp) when that value confirms it within the power of the register's device, else
   * dropped. Undefined while none has come yet.
   */
  private pendingStart(tx: Transaction, readings: readonly ContractReading[], device: Device): { reading?: ContractReading; note?: SampleNote } | undefined {
    if (tx.meterStart !== 'pending') return undefined;
    const first = [...readings].sort((a, b) => a.ts - b.ts).find((r) => r.ts >= tx.startTs);
    if (!first) return undefined;
    const maxKw = typeof device.params.nameplate_kw === 'number' ? device.params.nameplate_kw : DEFAULT_MAX_KW;
    const verdict = confirmMeterStart({ kwh: tx.meterStartKwh, ts: tx.startTs }, { kwh: first.energy_kwh, ts: first.ts }, maxKw);
    if (verdict.ok) return { reading: registerReading(tx.connector, 'meterStart', tx.startTs, tx.meterStartKwh, String(tx.id)) };
    return { note: { outcome: 'placeholder', ts: tx.startTs, field: 'meterStart', reason: `transaction ${tx.id}: ${verdict.reason}` } };
  }

  /** The device connector `c`'s register belongs to, or null (module comment). */
  private async deviceFor(c: number): Promise<Device | null> {
    if (c === 1) return (await this.deps.registry.get(this.charger.id)) ?? this.charger;
    const id = `${this.charger.id}.${c}`;
    if (!ID_PATTERN.test(id)) return null;
    const d = await this.deps.registry.get(id);
    return d && d.role === 'device' && d.kind === 'ev_charger' ? d : null;
  }

  private unmappedReason(c: number): string {
    return `connector ${c} has its own register; it is counted only on an ev_charger device "${this.charger.id}.${c}" (register one to count it), not on "${this.charger.id}" (connector 1's register)`;
  }

  private async tellUnmapped(c: number, action: string, params: unknown): Promise<void> {
    this.deps.metrics.samples.inc({ outcome: 'unmapped_connector' });
    if (this.toldUnmapped.has(c)) return;
    this.toldUnmapped.add(c);
    await this.quarantine(action, params, [{ field: 'connectorId', reason: `${this.unmappedReason(c)}; told once per connection` }]);
  }

  /** Notes of samples that are not readings: placeholders and unreadable values to the quarantine; power-only samples to the status board. */
  private async noted(c: number, action: string, params: unknown, notes: SampleNote[]): Promise<void> {
    for (const n of notes) this.deps.metrics.samples.inc({ outcome: n.outcome });
    const powerOnly = notes.filter((n) => n.outcome === 'no_energy' && n.powerW !== undefined && n.ts !== null).sort((a, b) => a.ts! - b.ts!).at(-1);
    if (powerOnly) {
      this.deps.statusBoard.set(this.charger, true, 'ocpp', { [`connector_${c}_power_w`]: powerOnly.powerW, [`connector_${c}_power_at`]: new Date(powerOnly.ts!).toISOString() });
    }
    const corrected = notes.filter((n) => n.outcome === 'unit_corrected');
    if (corrected.length > 0) this.deps.log.warn({ charger: this.charger.id, connector: c, corrected: noteErrors(corrected).slice(0, 3) }, 'ocpp: register values read in the other unit than declared');
    const faults = notes.filter((n) => n.outcome === 'placeholder' || n.outcome === 'unreadable');
    if (faults.length > 0) await this.quarantine(action, params, noteErrors(faults));
  }

  private async quarantine(action: string, params: unknown, errors: FieldError[]): Promise<void> {
    await this.deps.quarantine.add({
      device: this.charger.id,
      topic: `ocpp/${this.charger.id}/${action}`,
      receivedAt: new Date(),
      errors,
      raw: JSON.stringify(params).slice(0, 64 * 1024),
    });
  }

  /**
   * Readings into the pipeline, on the device's telemetry topic like an MQTT reading (validation,
   * quarantine, durability, accounting); resolves once durable. The register moves on only when
   * every reading was taken. `mayWait`: a charger's calls are answered one at a time (its own queue),
   * so a reading over the device's rate limit waits (holding only this charger) instead of being
   * refused while the charger is told all is well.
   */
  private async submit(device: Device, c: number, readings: ContractReading[], after: Register | undefined): Promise<void> {
    if (readings.length === 0) return;
    let rejected = 0;
    for (const payload of payloads(readings)) {
      const r = await this.deps.pipeline.accept({ topic: topicFor(device.site, device.id, 'telemetry'), payload: Buffer.from(payload), device, source: 'ocpp', mayWait: true });
      rejected += r.rejected;
    }
    this.deps.metrics.samples.inc({ outcome: 'reading' }, readings.length);
    if (rejected === 0 && after) await this.deps.transactions.saveRegister(device.id, c, after);
  }

  /** Transactions closed with their meterStart still waiting: nothing confirmed it, so it is not a reading; said in the quarantine. */
  private async droppedStarts(closed: readonly Transaction[], action: string, why: string): Promise<void> {
    const dropped = closed.filter((t) => t.meterStart === 'pending');
    if (dropped.length === 0) return;
    this.deps.metrics.samples.inc({ outcome: 'placeholder' }, dropped.length);
    await this.quarantine(action, { closed: dropped.map((t) => ({ transactionId: t.id, connectorId: t.connector, meterStart: t.meterStartWh, timestamp: new Date(t.startTs).toISOString() })) }, dropped.map((t) => ({
      field: 'meterStart',
      reason: `transaction ${t.id}: meterStart ${t.meterStartWh} Wh is not a reading: ${why}`,
    })));
  }
}

/** Contract payloads (`{"readings":[…]}`) of at most MAX_READINGS_PER_PAYLOAD readings and MAX_PAYLOAD_CHARS characters. */
export function payloads(readings: readonly ContractReading[]): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  let size = 0;
  const flush = () => {
    if (batch.length > 0) out.push(`{"readings":[${batch.join(',')}]}`);
    batch = [];
    size = 0;
  };
  for (const r of readings) {
    const text = JSON.stringify(r);
    if (batch.length >= MAX_READINGS_PER_PAYLOAD || size + text.length + 20 > MAX_PAYLOAD_CHARS) flush();
    batch.push(text);
    size += text.length + 1;
  }
  flush();
  return out;
}
