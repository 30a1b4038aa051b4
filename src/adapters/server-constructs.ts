import { errorPosition } from './sql-error-position.js';

/**
 * SQL a supported server may lack (the floor is 18.16), with the ClickHouse release that brought
 * it and what to write instead, so a rejection on an old server says what to do rather than only
 * "Unknown function" or a syntax error in the middle of a statement. Versions are from
 * ClickHouse's changelogs. One table, read by SqlError: whatever turns a server's error into a
 * SqlError (a run, validation before the run) gets the same words.
 */
export interface ServerConstruct {
  /** The construct as a user writes it. */
  readonly construct: string;
  /** The first ClickHouse release that has it. */
  readonly since: string;
  /** What works on every server kiln supports. */
  readonly instead: string;
  /** Is this error, for this statement, an old server rejecting the construct? */
  readonly rejects: (message: string, sql: string) => boolean;
}

/** `Unknown function f` for one of `names`. */
function unknownFunction(names: RegExp): (message: string) => boolean {
  return (message) => {
    const m = /Unknown function (\w+)/.exec(message);
    return m !== null && names.test(m[1]!);
  };
}

/** A syntax error whose failing position follows text matching `before` (the statement up to it). */
function syntaxErrorAfter(before: RegExp): (message: string, sql: string) => boolean {
  return (message, sql) => {
    if (!/Syntax error/.test(message)) return false;
    const at = errorPosition(message, sql);
    return at !== undefined && 'offset' in at && before.test(sql.slice(0, at.offset));
  };
}

/** `Unknown <what> name` for a name in `names`. */
function unknownName(what: string, names: RegExp): (message: string) => boolean {
  return (message) => {
    const m = new RegExp(`Unknown ${what}:? ([\\w.]+)`).exec(message);
    return m !== null && names.test(m[1]!);
  };
}

export const SERVER_CONSTRUCTS: readonly ServerConstruct[] = [
  {
    construct: '`WITH name AS (SELECT …)` (a common table expression)',
    since: '20.10',
    instead: 'a subquery in FROM: `FROM (SELECT …) AS name`; to use it twice, {% set name %}SELECT …{% endset %} and `({{ name }})`, or an ephemeral model',
    // 18.16 reads `WITH x AS` as an expression alias and fails at the parenthesis after AS.
    rejects: syntaxErrorAfter(/(?:\bWITH|,)\s*[`"]?\w+[`"]?\s+AS\s*$/i),
  },
  {
    construct: '`trim(BOTH … FROM …)`',
    since: '19.1',
    instead: "replaceRegexpAll(x, '^[ \\t\\r\\n]+|[ \\t\\r\\n]+$', '') (what trim(BOTH …) does), e.g. in a macro",
    rejects: syntaxErrorAfter(/\btrim\s*\(\s*(?:BOTH|LEADING|TRAILING)\s*$/i),
  },
  {
    construct: 'the trim functions (`trim`, `ltrim`, `rtrim`, `trimBoth`, `trimLeft`, `trimRight`)',
    since: '19.1',
    instead: "replaceRegexpAll(x, '^[ \\t\\r\\n]+|[ \\t\\r\\n]+$', ''), e.g. in a macro",
    rejects: unknownFunction(/^(?:trim|ltrim|rtrim|trimBoth|trimLeft|trimRight)$/),
  },
  {
    construct: 'the JSON functions (`JSONExtract…`, `JSONHas`, `JSONType`, `isValidJSON`, …)',
    since: '19.8',
    instead: 'visitParamExtractString / visitParamExtractRaw / visitParamHas (compact JSON), or regular expressions (match, extractAll)',
    rejects: unknownFunction(/^(?:JSON\w+|isValidJSON)$/),
  },
  {
    construct: 'window functions (`… OVER (…)`)',
    since: '21.3 (behind allow_experimental_window_functions until 21.9)',
    instead: 'arrays: groupArray per partition, then arraySort / arrayFilter / arrayCount and ARRAY JOIN back to rows; or LIMIT n BY for the first rows of each group',
    // 18.16 reads OVER as an alias and fails at the parenthesis after it.
    rejects: syntaxErrorAfter(/\bOVER\s*$/i),
  },
  {
    construct: 'more than one JOIN in one SELECT',
    since: '19.1 (behind allow_experimental_multiple_joins_emulation)',
    instead: 'one JOIN per SELECT: join two relations in a subquery, then join its result to the next',
    rejects: (message) => /more than one JOIN in query is not implemented/i.test(message),
  },
  {
    construct: 'the `Bool` type',
    since: '21.12',
    instead: 'UInt8 (0 and 1)',
    rejects: unknownName('data type family', /^Bool$/),
  },
  {
    construct: 'the `MySQLDump` input format',
    since: '22.10',
    instead: 'a `mysql` source with `dump:` (kiln reads the dump with its embedded engine and sends the rows)',
    rejects: unknownName('format', /^MySQLDump$/),
  },
  {
    construct: 'the setting `insert_deduplication_token`',
    since: '22.2',
    instead: 'leave it out; kiln sends it only to servers that have it',
    rejects: unknownName('setting', /^insert_deduplication_token$/),
  },
  {
    construct: 'the setting `allow_experimental_window_functions`',
    since: '21.3',
    instead: 'arrays instead of window functions: groupArray per partition, arraySort / arrayFilter / arrayCount, ARRAY JOIN back to rows',
    rejects: unknownName('setting', /^allow_experimental_window_functions$/),
  },
];

/** The construct an old server rejected with this error, if the error is one of the table's. */
export function rejectedConstruct(message: string, sql: string): ServerConstruct | undefined {
  return SERVER_CONSTRUCTS.find((c) => c.rejects(message, sql));
}

/** The sentence put in front of the server's own message. */
export function constructMessage(construct: ServerConstruct): string {
  return `this server lacks ${construct.construct}, which ClickHouse has since ${construct.since}`;
}

/**
 * For a name the server does not know that the table does not list: the general reason, since a
 * setting, engine, format or type missing from an old server looks the same as a misspelt one.
 */
export function unknownNameHint(message: string): string | undefined {
  const m = /Unknown (setting|table engine|format|data type family):? ([\w.]+)/.exec(message);
  if (!m) return undefined;
  const what = m[1] === 'data type family' ? 'type' : m[1]!;
  return `this server does not know the ${what} ${m[2]}: check the spelling, or whether the ClickHouse release that added it is newer than the server's (\`SELECT version()\`)`;
}

/** The hint: what to write instead. */
export function constructHint(construct: ServerConstruct): string {
  return `write it so every supported server runs it: ${construct.instead} (README, "Supported servers")`;
}
