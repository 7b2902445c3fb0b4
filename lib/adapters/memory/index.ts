export { MemoryConfigStore, MemoryLeaseStore, MemoryRoleStore } from './stores.js';
export { FixedClock, MemoryAudit, RandomIds, SeqIds, randomIds } from './support.js';
