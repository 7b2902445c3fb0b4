/** The full CLI (every command), loaded by main.ts when the exec plugin's cache cannot answer. */
import { runCli } from './router.js';

export async function main(argv: string[]): Promise<void> {
  process.exitCode = await runCli(argv);
}
