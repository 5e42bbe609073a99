/**
 * Every accounting method: the inventory's (here) and each stream's (accounting/streams/<stream>/method.ts).
 * README.md here says what a method is; each stream's README documents its method.
 */
import { biogasMethod } from '../streams/biogas/method.js';
import { electricitySavingMethod } from '../streams/electricity_saving/method.js';
import { evChargingMethod } from '../streams/ev_charging/method.js';
import { pvMethod } from '../streams/pv/method.js';
import { inventoryMethod } from './inventory.js';

export const METHODS = [pvMethod, inventoryMethod, biogasMethod, evChargingMethod, electricitySavingMethod] as const;
