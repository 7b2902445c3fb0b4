// globalTeardown of the jest `integration` and `reliability` projects: see bed-global.ts
import { tsImport } from 'tsx/esm/api';

export default async function teardown() {
  const { stopBed } = await tsImport('./bed-global.ts', import.meta.url);
  await stopBed();
}
