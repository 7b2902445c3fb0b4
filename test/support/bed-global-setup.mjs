// globalSetup of the jest `integration` and `reliability` projects: see bed-global.ts
import { tsImport } from 'tsx/esm/api';

export default async function setup() {
  const { startBed } = await tsImport('./bed-global.ts', import.meta.url);
  await startBed();
}
