export { MemoryConfigStore, MemoryLeaseStore, MemoryRoleStore } from './stores.js';
export { FixedClock, MemoryAudit, SeqIds } from './support.js';
