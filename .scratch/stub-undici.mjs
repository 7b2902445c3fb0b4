export const fetch = (...a) => globalThis.fetch(...a);
