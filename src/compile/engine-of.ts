import type { TemplateEngine } from '../template/template-engine.js';

/** A compile's template engine, kept for the models rendered again at execution (introspective-render.ts). */
export const engineOf = new WeakMap<object, TemplateEngine>();
