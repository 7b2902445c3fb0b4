import { waitSplit } from '../../bench/support/wait-split.js';

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
