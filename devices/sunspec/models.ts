import type { Kind } from '../kinds.js';

/**
 * The SunSpec points this service reads, as data. Offsets count registers from the model's `ID`
 * register (offset 0; `L` is offset 1), as in the SunSpec model definitions (github.com/sunspec/models,
 * `json/model_<id>.json`, "group.points": a point's offset is the sum of the `size` of the points before
 * it). Only the points needed here are listed.
 */

export type PointType = 'uint16' | 'int16' | 'acc32' | 'sunssf' | 'string';

export interface PointDef {
  offset: number;
  type: PointType;
  /** registers (strings: 16-bit words of two characters) */
  size: number;
  /** the point holding its scale factor */
  sf?: string;
}

export interface ModelGroup {
  /** the SunSpec model definition names, for messages */
  name: string;
  ids: readonly number[];
  /** `L` in the definition: registers after `ID` and `L` */
  length: number;
  points: Readonly<Record<string, PointDef>>;
}

/** `SunS` (0x5375 0x6E53): the two registers at the base address of a SunSpec device. */
export const SUNS_MARKER = [0x5375, 0x6e53] as const;
/** Where the marker may be, in the order the SunSpec Information Model Specification lists them. */
export const SUNSPEC_BASES = [40000, 0, 50000] as const;
/** The `ID` of the end marker that closes the model chain (its `L` is 0). */
export const END_MODEL_ID = 0xffff;

/** model_1.json, "Common": who made the device (for the status board's detail). */
export const COMMON: ModelGroup = {
  name: 'SunSpec model 1 (Common)',
  ids: [1],
  length: 66,
  points: {
    Mn: { offset: 2, type: 'string', size: 16 },
    Md: { offset: 18, type: 'string', size: 16 },
    SN: { offset: 50, type: 'string', size: 16 },
  },
};

/** model_101.json, model_102.json, model_103.json: "Inverter (Single Phase / Split-Phase / Three Phase)", integer and scale factor. */
export const INVERTER: ModelGroup = {
  name: 'SunSpec inverter models 101/102/103',
  ids: [101, 102, 103],
  length: 50,
  points: {
    /** AC Power, W */
    W: { offset: 14, type: 'int16', size: 1, sf: 'W_SF' },
    W_SF: { offset: 15, type: 'sunssf', size: 1 },
    /** AC Energy, Wh (lifetime) */
    WH: { offset: 24, type: 'acc32', size: 2, sf: 'WH_SF' },
    WH_SF: { offset: 26, type: 'sunssf', size: 1 },
  },
};

/** model_201.json … model_204.json: meters (single phase, split phase, wye and delta three phase), integer and scale factor. */
export const METER: ModelGroup = {
  name: 'SunSpec meter models 201/202/203/204',
  ids: [201, 202, 203, 204],
  length: 105,
  points: {
    /** Total Real Power, W */
    W: { offset: 18, type: 'int16', size: 1, sf: 'W_SF' },
    W_SF: { offset: 22, type: 'sunssf', size: 1 },
    /** Total Real Energy Exported, Wh */
    TotWhExp: { offset: 38, type: 'acc32', size: 2, sf: 'TotWh_SF' },
    /** Total Real Energy Imported, Wh */
    TotWhImp: { offset: 46, type: 'acc32', size: 2, sf: 'TotWh_SF' },
    TotWh_SF: { offset: 54, type: 'sunssf', size: 1 },
  },
};

/** A field of the contract from a SunSpec point; an energy point in Wh becomes kWh (`toKwh`). */
export interface FieldSource {
  point: string;
  toKwh: boolean;
}

/** Which models serve which kind, and each field of the kind's reading from which point. */
export const KIND_MODELS: Partial<Record<Kind, { group: ModelGroup; fields: Record<string, FieldSource> }>> = {
  pv_inverter: {
    group: INVERTER,
    fields: { energy_kwh: { point: 'WH', toKwh: true }, power_w: { point: 'W', toKwh: false } },
  },
  smart_meter: {
    group: METER,
    fields: {
      import_kwh: { point: 'TotWhImp', toKwh: true },
      export_kwh: { point: 'TotWhExp', toKwh: true },
      power_w: { point: 'W', toKwh: false },
    },
  },
};

/** The kinds a SunSpec device may be registered as. */
export const SUNSPEC_KINDS = Object.keys(KIND_MODELS) as Kind[];
