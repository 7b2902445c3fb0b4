import { ownAtEnds, waitSplit } from '../../bench/support/wait-split.js';

test('a mode-1 shaped request: the lease write beside the Secret, then the token, then two reads', () => {
  const split = waitSplit({ start: 0, end: 24 }, [
    { kind: 'kube', start: 3, end: 7 }, // Secret
    { kind: 'dynamodb', start: 3, end: 10 }, // lease write
    { kind: 'kube', start: 11, end: 15 }, // TokenRequest
    { kind: 'dynamodb', start: 17, end: 20 }, // lease read
    { kind: 'dynamodb', start: 17, end: 21 }, // config read
  ]);
  expect(split).toEqual({ kubeOnly: 4, dynamodbOnly: 7, both: 4, neither: 9 });
});

test('calls are clipped to the request; overlapping calls of one kind count once', () => {
  const split = waitSplit({ start: 10, end: 20 }, [
    { kind: 'kube', start: 5, end: 12 },
    { kind: 'kube', start: 11, end: 14 },
    { kind: 'dynamodb', start: 19, end: 30 },
    { kind: 'dynamodb', start: 25, end: 30 },
  ]);
  expect(split).toEqual({ kubeOnly: 4, dynamodbOnly: 1, both: 0, neither: 5 });
});

test('no calls: all of it is the broker alone', () => {
  expect(waitSplit({ start: 1, end: 4 }, [])).toEqual({ kubeOnly: 0, dynamodbOnly: 0, both: 0, neither: 3 });
});

test("the broker's own time at the ends: before the first call and after the last, calls clipped to the request", () => {
  const mode1 = [
    { start: 3, end: 7 },
    { start: 3, end: 10 },
    { start: 11, end: 15 },
    { start: 17, end: 21 },
  ];
  expect(ownAtEnds({ start: 0, end: 24 }, mode1)).toEqual({ lead: 3, tail: 3 });
  expect(ownAtEnds({ start: 5, end: 19 }, mode1)).toEqual({ lead: 0, tail: 0 });
  expect(ownAtEnds({ start: 1, end: 4 }, [{ start: 9, end: 12 }])).toEqual({ lead: 3, tail: 0 });
});
