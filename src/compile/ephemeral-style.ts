/** Defined with the capability it follows from; the adapter decides it (Adapter.ephemeralStyle). */
export type { EphemeralStyle } from '../adapters/capabilities.js';
