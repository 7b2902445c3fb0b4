/**
 * Where a load run's CPU went on the whole machine (Linux /proc): busy time of all CPUs, and the
 * bed's own processes (from its pidfile: etcd, kube-apiserver, DynamoDB Local, ...). On a machine
 * whose CPUs a run saturates, throughput is CPUs / machine CPU per issue, so two runs' machine
 * CPU per issue bound the ratio of their throughputs.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runDir } from '../../../lib/local/testbed/paths.js';

/** USER_HZ: the unit of /proc times (100 on every Linux architecture Node supports) */
const TICKS_PER_SECOND = 100;

export interface CpuReading {
  /** ms of busy CPU (user, nice, system, irq, softirq; not steal: the hypervisor's) summed over all CPUs */
  machineMs: number;
  /** ms of CPU (user + system) per bed process name; a process that is gone is left out */
  processesMs: Map<string, number>;
}

interface BedProcess {
  name: string;
  pid: number;
}

/** the bed's processes as its pidfile records them; [] when no pidfile names `bedDir` (or not on Linux) */
export function bedProcesses(bedDir: string): BedProcess[] {
  const dir = runDir();
  if (!existsSync(dir)) return [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    try {
      const pf = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { dir: string; procs: BedProcess[] };
      if (path.resolve(pf.dir) === path.resolve(bedDir)) return pf.procs.map(({ name, pid }) => ({ name, pid }));
    } catch {
      // a pidfile being rewritten: the next one may be ours
    }
  }
  return [];
}

function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal (guest time is already inside user); steal is
  // time the hypervisor gave to other guests, not work done here
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cpu;
  return ((user + nice + system + irq + softirq) * 1000) / TICKS_PER_SECOND;
}

function processMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which may hold spaces and parentheses: utime is the 14th field
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** undefined where /proc is missing (not Linux) or the bed's processes are unknown: the bench then prints no machine figures */
export function readCpu(processes: BedProcess[]): CpuReading | undefined {
  if (!existsSync('/proc/stat') || processes.length === 0) return undefined;
  const processesMs = new Map<string, number>();
  for (const p of processes) {
    const v = processMs(p.pid);
    if (v !== undefined) processesMs.set(p.name, v);
  }
  return { machineMs: machineBusyMs(), processesMs };
}

/** ms per issue between two readings: the machine and each process present in both */
export function cpuPerIssue(before: CpuReading, after: CpuReading, issues: number): { machine: number; processes: Map<string, number> } {
  const processes = new Map<string, number>();
  for (const [name, v] of after.processesMs) {
    const b = before.processesMs.get(name);
    if (b !== undefined) processes.set(name, (v - b) / issues);
  }
  return { machine: (after.machineMs - before.machineMs) / issues, processes };
}
