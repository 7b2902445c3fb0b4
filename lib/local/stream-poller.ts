/**
 * The local stand-in for the Lambda event source mapping on the leases table's stream: polls
 * DynamoDB Local's stream (DescribeStream → shards → GetShardIterator → GetRecords about once a
 * second) and hands batches to handleExpire shaped as AWS Lambda delivers them.
 *
 * What DynamoDB Local (2026-05-28 / 3.3.1) emits, observed by writing an item with a past TTL:
 * - a TTL deletion arrives within seconds as eventName "UNKNOWN_TO_SDK_VERSION" (literally, on
 *   the wire), with no userIdentity, with OldImage, and with `Keys` holding the whole item;
 * - a DeleteItem (revoke, manual delete) arrives as eventName "REMOVE", no userIdentity.
 * AWS sends a TTL deletion as REMOVE with userIdentity {type: Service, principalId:
 * dynamodb.amazonaws.com} and a user delete as REMOVE without userIdentity. `toLambdaRecord`
 * maps exactly that: only the non-standard TTL record (eventName UNKNOWN_TO_SDK_VERSION or
 * missing, OldImage present, no userIdentity) becomes REMOVE + the service identity, and its
 * Keys are cut down to the table's key; everything else passes through unchanged.
 *
 * Failures (batchItemFailures) are retried from the failed record on, with backoff up to 30 s,
 * like a bisect-less event source mapping; records are delivered in order per shard.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { TTL_IDENTITY, isTtlRemoval } from '../lambda/expire-handler.js';

const LOCAL_TTL_EVENT_NAME = 'UNKNOWN_TO_SDK_VERSION';

export interface StreamPollerOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tableName: string;
  /** default: handleExpire */
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  intervalMs?: number;
  /** max records per handler call (Lambda's BatchSize), default 100 */
  batchSize?: number;
  /**
   * The event source mapping's filter: records that do not match are acknowledged without a
   * handler call. Default: TTL removals only (REMOVE by dynamodb.amazonaws.com), as deployed.
   */
  filter?: (record: DynamoDBRecord) => boolean;
  log?: (line: string) => void;
}

/** One stream record as the AWS SDK returns it → the record Lambda's event would hold. */
export function toLambdaRecord(r: _Record, keyNames: string[], streamArn: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const approx = d.ApproximateCreationDateTime;
  const rec: DynamoDBRecord = {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(approx !== undefined ? { ApproximateCreationDateTime: Math.floor(new Date(approx).getTime() / 1000) } : {}),
      ...(d.Keys ? { Keys: d.Keys as never } : {}),
      ...(d.NewImage ? { NewImage: d.NewImage as never } : {}),
      ...(d.OldImage ? { OldImage: d.OldImage as never } : {}),
      ...(d.SequenceNumber !== undefined ? { SequenceNumber: d.SequenceNumber } : {}),
      ...(d.SizeBytes !== undefined ? { SizeBytes: d.SizeBytes } : {}),
      ...(d.StreamViewType ? { StreamViewType: d.StreamViewType } : {}),
    },
    ...(r.userIdentity ? { userIdentity: { type: r.userIdentity.Type ?? '', principalId: r.userIdentity.PrincipalId ?? '' } } : {}),
  };
  const name = r.eventName as string | undefined;
  const localTtl = (name === undefined || name === LOCAL_TTL_EVENT_NAME) && d.OldImage !== undefined && r.userIdentity === undefined;
  if (localTtl) {
    rec.eventName = 'REMOVE';
    rec.userIdentity = { ...TTL_IDENTITY };
    const keys = Object.fromEntries(keyNames.filter((k) => d.OldImage?.[k] !== undefined).map((k) => [k, d.OldImage![k]]));
    rec.dynamodb = { ...rec.dynamodb, Keys: keys as never };
  }
  return rec;
}

interface ShardState {
  id: string;
  iterator: string | undefined;
  /** records read but not yet acknowledged by the handler */
  pending: _Record[];
  lastSequence?: string;
  closed: boolean;
  retryAt: number;
  failures: number;
}

export class StreamPoller {
  private readonly streams: DynamoDBStreamsClient;
  private readonly ddb: DynamoDBClient;
  private readonly shards = new Map<string, ShardState>();
  /** shards read to their end: never picked up again */
  private readonly finished = new Set<string>();
  private streamArn = '';
  private keyNames: string[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly log: (line: string) => void;
  /** records handed to the handler so far (tests, status output) */
  delivered = 0;

  constructor(private readonly options: StreamPollerOptions) {
    const cfg = { endpoint: options.endpoint, region: options.region, credentials: options.credentials, maxAttempts: 2 };
    this.streams = new DynamoDBStreamsClient(cfg);
    this.ddb = new DynamoDBClient(cfg);
    this.log = options.log ?? (() => {});
  }

  /** Finds the stream, starts every open shard at LATEST, and begins polling. */
  async start(): Promise<void> {
    const { Table } = await this.ddb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    if (!Table?.LatestStreamArn || !Table.StreamSpecification?.StreamEnabled) {
      throw new Error(`table ${this.options.tableName} has no stream enabled`);
    }
    this.streamArn = Table.LatestStreamArn;
    this.keyNames = (Table.KeySchema ?? []).map((k) => k.AttributeName ?? '').filter(Boolean);
    await this.discoverShards('LATEST');
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.streams.destroy();
    this.ddb.destroy();
  }

  /** Runs one poll of every shard now (tests use it to avoid waiting for the interval). */
  async pollOnce(): Promise<void> {
    await this.discoverShards('TRIM_HORIZON');
    for (const shard of [...this.shards.values()]) await this.pollShard(shard);
    for (const [id, s] of this.shards) {
      if (s.closed && s.pending.length === 0) {
        this.shards.delete(id);
        this.finished.add(id);
      }
    }
  }

  private async run(): Promise<void> {
    const interval = this.options.intervalMs ?? 1000;
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (e) {
        this.log(`stream poller: ${e instanceof Error ? e.message : String(e)} (retrying)`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, interval);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /**
   * Adds shards not yet tracked. At start every open shard begins at LATEST; a shard that appears
   * later (rollover: child of a closed shard) is read from TRIM_HORIZON so nothing is skipped.
   */
  private async discoverShards(newShardPosition: 'LATEST' | 'TRIM_HORIZON'): Promise<void> {
    const all: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }));
      all.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    const initial = this.shards.size === 0 && newShardPosition === 'LATEST';
    for (const s of all) {
      const id = s.ShardId;
      if (!id || this.shards.has(id) || this.finished.has(id)) continue;
      const isClosed = s.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      // at start, closed shards hold only history
      if (initial && isClosed) continue;
      // later, a shard we never saw whose parent we did not track either is old history too
      const parentKnown = !!s.ParentShardId && (this.shards.has(s.ParentShardId) || this.finished.has(s.ParentShardId));
      if (!initial && !parentKnown && isClosed) continue;
      const iterator = await this.iterator(id, initial ? 'LATEST' : 'TRIM_HORIZON');
      this.shards.set(id, { id, iterator, pending: [], closed: false, retryAt: 0, failures: 0 });
    }
  }

  private async iterator(shardId: string, type: 'LATEST' | 'TRIM_HORIZON' | 'AFTER_SEQUENCE_NUMBER', seq?: string): Promise<string | undefined> {
    const out = await this.streams.send(
      new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: type, ...(seq ? { SequenceNumber: seq } : {}) }),
    );
    return out.ShardIterator;
  }

  private async pollShard(s: ShardState): Promise<void> {
    if (!s.closed && s.iterator) {
      try {
        const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: s.iterator, Limit: 1000 }));
        const records = out.Records ?? [];
        s.pending.push(...records);
        const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
        if (last) s.lastSequence = last;
        s.iterator = out.NextShardIterator;
        if (!s.iterator) s.closed = true; // shard ended: its children are found by discoverShards
      } catch (e) {
        if (e instanceof ExpiredIteratorException) {
          s.iterator = await this.iterator(s.id, s.lastSequence ? 'AFTER_SEQUENCE_NUMBER' : 'LATEST', s.lastSequence);
        } else if (e instanceof TrimmedDataAccessException) {
          s.iterator = await this.iterator(s.id, 'TRIM_HORIZON');
        } else if (e instanceof ResourceNotFoundException) {
          s.closed = true;
        } else {
          throw e;
        }
      }
    }
    if (s.pending.length === 0 || Date.now() < s.retryAt) return;
    await this.deliver(s);
  }

  private async deliver(s: ShardState): Promise<void> {
    const size = this.options.batchSize ?? 100;
    while (s.pending.length > 0) {
      const batch = s.pending.slice(0, size);
      const filter = this.options.filter ?? isTtlRemoval;
      const records = batch.map((r) => toLambdaRecord(r, this.keyNames, this.streamArn)).filter(filter);
      let failedAt = -1;
      if (records.length > 0) {
        try {
          const res = await this.options.handler({ Records: records });
          const failed = res?.batchItemFailures?.[0]?.itemIdentifier;
          if (failed !== undefined) {
            failedAt = batch.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
            if (failedAt < 0) failedAt = 0; // unknown identifier: Lambda retries the whole batch
          }
        } catch (e) {
          this.log(`stream poller: handler threw: ${e instanceof Error ? e.message : String(e)}`);
          failedAt = 0;
        }
      }
      if (failedAt < 0) {
        this.delivered += batch.length;
        s.pending.splice(0, batch.length);
        s.failures = 0;
        s.retryAt = 0;
        continue;
      }
      this.delivered += failedAt;
      s.pending.splice(0, failedAt);
      s.failures++;
      const backoff = Math.min(30_000, 1000 * 2 ** (s.failures - 1));
      s.retryAt = Date.now() + backoff;
      this.log(`stream poller: record ${s.pending[0]?.dynamodb?.SequenceNumber ?? '?'} failed; retrying in ${backoff / 1000} s`);
      return;
    }
  }
}
