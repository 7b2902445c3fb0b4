// setupFiles of the jest `integration` project: fail every integration/e2e file at once, with
// the fix, when jest was started without the bed (e.g. `npx jest` instead of `npm test`).
if (!process.env.KUBELEASE_BED) {
  throw new Error('integration tests need the test bed: run them with npm test (e.g. `npm test -- test/integration`)');
}
export {};
