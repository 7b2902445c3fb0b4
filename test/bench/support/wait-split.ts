/**
 * What one request's wall time was spent on, from the outgoing calls made while it ran: time when
 * only apiserver calls were in flight, only DynamoDB calls, both, or none (the broker's own work:
 * SigV4, handlers, serialization, and waiting for a CPU). The four add up to the request's time.
 * A call ends when its response headers arrive (Node's http.client.response.finish): reading
 * the body, small on loopback, counts as the broker's own time.
 */
export type CallKind = 'kube' | 'dynamodb';

export interface Span {
  start: number;
  end: number;
}

export interface WaitSplit {
  kubeOnly: number;
  dynamodbOnly: number;
  both: number;
  neither: number;
}

export function waitSplit(request: Span, calls: readonly (Span & { kind: CallKind })[]): WaitSplit {
  const edges: { at: number; kind: CallKind; delta: 1 | -1 }[] = [];
  for (const c of calls) {
    const start = Math.max(c.start, request.start);
    const end = Math.min(c.end, request.end);
    if (end <= start) continue;
    edges.push({ at: start, kind: c.kind, delta: 1 }, { at: end, kind: c.kind, delta: -1 });
  }
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const split: WaitSplit = { kubeOnly: 0, dynamodbOnly: 0, both: 0, neither: 0 };
  const open = { kube: 0, dynamodb: 0 };
  let at = request.start;
  const account = (until: number) => {
    const d = until - at;
    if (open.kube > 0 && open.dynamodb > 0) split.both += d;
    else if (open.kube > 0) split.kubeOnly += d;
    else if (open.dynamodb > 0) split.dynamodbOnly += d;
    else split.neither += d;
    at = until;
  };
  for (const e of edges) {
    account(e.at);
    open[e.kind] += e.delta;
  }
  account(request.end);
  return split;
}

/**
 * Where the broker's own time sits at the ends of a request: before its first call (SigV4,
 * parsing, validation, lookups, the first requests' serialization) and after the last call's
 * response headers (reading that body, the answer). Calls are clipped to the request as above.
 */
export function ownAtEnds(request: Span, calls: readonly Span[]): { lead: number; tail: number } {
  const inside = calls.map((c) => ({ start: Math.max(c.start, request.start), end: Math.min(c.end, request.end) })).filter((c) => c.end > c.start);
  if (inside.length === 0) return { lead: request.end - request.start, tail: 0 };
  return {
    lead: Math.min(...inside.map((c) => c.start)) - request.start,
    tail: request.end - Math.max(...inside.map((c) => c.end)),
  };
}
