/**
 * The streams' ids, in the order reports and the dashboard list them. Kept apart from the stream
 * definitions (index.ts) so the budget's schema can name them without loading every method.
 */
export const STREAM_IDS = ['pv', 'biogas', 'ev_charging', 'electricity_saving', 'generation'] as const;
export type StreamId = (typeof STREAM_IDS)[number];

/** The generation figures of a summary's `energy_kwh` (contract) a stream's energy adds to (`consumption` is the inventory's). */
export type EnergyKey = 'pv' | 'biogas_generation' | 'ev_charging' | 'generation';
