// setupFilesAfterEnv of the bed's jest projects: see scratch-tables.ts.
import { dropEarlierScratchTables } from './scratch-tables.js';

beforeAll(async () => {
  await dropEarlierScratchTables();
});
