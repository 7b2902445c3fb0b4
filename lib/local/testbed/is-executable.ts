import { constants as fsc, accessSync } from 'node:fs';

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}
