import type { z } from 'zod';

/**
 * One accounting method (Impact Framework style): a pure function whose inputs and outputs are declared
 * with zod, units in the field names. `compute` checks its input and its output, so a method can never
 * be fed, or hand back, a number of the wrong shape.
 */
export interface Method<I extends z.ZodType, O extends z.ZodType> {
  /** stable id, e.g. `pv`, `biogas`, `ev_charging`, `electricity_saving`, `inventory` */
  id: string;
  /** the methodology it follows, e.g. "CDM AMS-I.D (grid-connected renewable electricity)" */
  basis: string;
  input: I;
  output: O;
  compute(input: z.input<I>): z.output<O>;
}

export function defineMethod<I extends z.ZodType, O extends z.ZodType>(def: {
  id: string;
  basis: string;
  input: I;
  output: O;
  formula: (input: z.output<I>) => z.input<O>;
}): Method<I, O> {
  return {
    id: def.id,
    basis: def.basis,
    input: def.input,
    output: def.output,
    compute: (raw) => def.output.parse(def.formula(def.input.parse(raw))),
  };
}
