import nunjucks from 'nunjucks';
import { KilnError, type SourceLocation } from '../errors.js';

/** What `var()` and `env_var()` read; shared by YAML strings and model templates. */
export interface VarScope {
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Thrown through nunjucks by var()/env_var(); callers attach the file and line. */
export class MissingVariableError extends Error {
  constructor(
    readonly kind: 'var' | 'env_var',
    readonly variable: string,
  ) {
    super(kind === 'var' ? `var '${variable}' is not defined` : `environment variable '${variable}' is not set`);
  }
}

export function lookupVar(scope: VarScope, name: string, fallback?: unknown): unknown {
  if (Object.prototype.hasOwnProperty.call(scope.vars, name)) return scope.vars[name];
  if (fallback !== undefined) return fallback;
  throw new MissingVariableError('var', name);
}

export function lookupEnvVar(scope: VarScope, name: string, fallback?: unknown): string {
  const value = scope.env[name];
  if (value !== undefined) return value;
  if (fallback !== undefined) return String(fallback);
  throw new MissingVariableError('env_var', name);
}

// Stateless: the scope travels in each render's context, never in the environment.
const yamlEnv = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });

/** Renders `{{ var(...) }}` / `{{ env_var(...) }}` inside one YAML string value. */
export function renderYamlString(value: string, scope: VarScope, where: SourceLocation): string {
  if (!value.includes('{{') && !value.includes('{%')) return value;
  // nunjucks (without `dev`) rethrows a plain Error with only the text: keep the real one here.
  let thrown: unknown;
  const guard = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    try {
      return fn(...args);
    } catch (err) {
      thrown ??= err;
      throw err;
    }
  };
  try {
    return yamlEnv.renderString(value, {
      var: guard((name: string, fallback?: unknown) => lookupVar(scope, name, fallback)),
      env_var: guard((name: string, fallback?: unknown) => lookupEnvVar(scope, name, fallback)),
    });
  } catch (err) {
    const cause = findCause(thrown ?? err);
    if (cause instanceof MissingVariableError) {
      throw new KilnError(cause.kind === 'var' ? 'UNKNOWN_VAR' : 'CONFIG_INVALID', cause.message, {
        location: where,
        hint:
          cause.kind === 'var'
            ? `define it under vars: in project.yml or pass --vars '{${cause.variable}: ...}'`
            : `export ${cause.variable}=... or give env_var() a default`,
      });
    }
    throw new KilnError('TEMPLATE_ERROR', `cannot render '${value}': ${(err as Error).message}`, { location: where });
  }
}

/** Renders every string inside a plain YAML value (objects, arrays), keeping its shape. */
export function renderYamlValue(value: unknown, scope: VarScope, where: SourceLocation): unknown {
  if (typeof value === 'string') return renderYamlString(value, scope, where);
  if (Array.isArray(value)) return value.map((v) => renderYamlValue(v, scope, where));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderYamlValue(v, scope, where)]));
  }
  return value;
}

/** nunjucks wraps errors thrown by globals in a TemplateError whose `cause` is the original. */
export function findCause(err: unknown): unknown {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    if (cur instanceof MissingVariableError || cur instanceof KilnError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return err;
}
