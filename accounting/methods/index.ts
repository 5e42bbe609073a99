/**
 * The accounting methods, one per stream (../shared/domain.md, "Methods, per stream"); README.md here
 * documents each one's inputs, outputs, formula, defaults and a worked example.
 */
import { biogasMethod } from './biogas.js';
import { electricitySavingMethod } from './electricity-saving.js';
import { evChargingMethod } from './ev-charging.js';
import { inventoryMethod } from './inventory.js';
import { pvMethod } from './pv.js';

export { defineMethod, type Method } from './method.js';
export * from './pv.js';
export * from './inventory.js';
export * from './biogas.js';
export * from './ev-charging.js';
export * from './electricity-saving.js';

export const METHODS = [pvMethod, inventoryMethod, biogasMethod, evChargingMethod, electricitySavingMethod] as const;
