import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as sql from '../../src/adapters/staging-sql.js';

const d = { capabilities: capabilitiesFor('18.16.1') };
const raw = { database: 'raw', name: 's__t' };
const rows = { database: 'raw', name: '__kiln_tmp__s__t__r1_rows' };

describe('per-file partitions (staging SQL text)', () => {
  it('replaces and drops a file partition by its value, quoted', () => {
    const file = "/data/it's.csv";
    expect(sql.replacePartition(d, raw, sql.filePartition(file), rows)).toBe(
      "ALTER TABLE `raw`.`s__t` REPLACE PARTITION '/data/it\\'s.csv' FROM `raw`.`__kiln_tmp__s__t__r1_rows`",
    );
    expect(sql.dropPartition(d, raw, sql.quarantinePartition('s', 't', file))).toBe(
      "ALTER TABLE `raw`.`s__t` DROP PARTITION ('s', 't', '/data/it\\'s.csv')",
    );
  });

  it('creates raw and quarantine tables partitioned per file', () => {
    expect(sql.createStagingTable(d, raw, [{ name: '_kiln_file', type: 'String' }], true, sql.FILE_PARTITION_KEY)).toContain(
      'ENGINE = MergeTree()\nPARTITION BY _kiln_file\nORDER BY tuple()',
    );
    expect(sql.createStagingTable(d, raw, sql.QUARANTINE_COLUMNS, false, sql.QUARANTINE_PARTITION_KEY)).toContain('PARTITION BY (source_name, table_name, file)');
  });

  it('recognizes a partition key however the server spaces it', () => {
    expect(sql.samePartitionKey('(source_name,table_name,file)', sql.QUARANTINE_PARTITION_KEY)).toBe(true);
    expect(sql.samePartitionKey('', sql.FILE_PARTITION_KEY)).toBe(false);
  });
});
