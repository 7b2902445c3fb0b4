/**
 * Where a load run's CPU went on the whole machine (Linux /proc): busy time of all CPUs, and the
 * bed's own processes (from its pidfile: etcd, kube-apiserver, DynamoDB Local, ...). On a machine
 * whose CPUs a run saturates, throughput is CPUs / machine CPU per issue, so two runs' machine
 * CPU per issue bound the ratio of their throughputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pidFilesFor } from '../../../lib/local/testbed/pidfile.js';
import { statFields } from '../../../lib/local/testbed/signals.js';

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

/** the bed's processes as its (live) pidfile records them; [] when none names `bedDir` */
export function bedProcesses(bedDir: string): BedProcess[] {
  return pidFilesFor(bedDir)[0]?.procs.map(({ name, pid }) => ({ name, pid })) ?? [];
}

function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal (guest time is already inside user); steal is
  // time the hypervisor gave to other guests, not work done here
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cpu;
  return ((user + nice + system + irq + softirq) * 1000) / TICKS_PER_SECOND;
}

function processMs(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
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

/** CPU spent between two readings, ms: the machine, the bed's apiserver + etcd, its DynamoDB Local */
export interface CpuSpent {
  machineMs: number;
  kubeMs: number;
  dynamodbMs: number;
}

export function cpuSpent(before: CpuReading, after: CpuReading): CpuSpent {
  const delta = (name: string) => (after.processesMs.get(name) ?? 0) - (before.processesMs.get(name) ?? 0);
  return {
    machineMs: after.machineMs - before.machineMs,
    kubeMs: delta('kube-apiserver') + delta('etcd'),
    dynamodbMs: delta('dynamodb-local'),
  };
}

/** cpuSpent between two readings taken around a run; undefined when either could not be taken */
export function cpuWindow(processes: BedProcess[]): { end: () => CpuSpent | undefined } {
  const before = readCpu(processes);
  return {
    end: () => {
      const after = readCpu(processes);
      return before && after ? cpuSpent(before, after) : undefined;
    },
  };
}

const SETTLE_TIMEOUT_MS = 20_000;
/** busy share of one CPU under which the machine counts as quiet */
const QUIET_SHARE = 0.25;

/**
 * Waits until the machine is quiet before a timed window: busy CPU over a 500 ms sample below
 * QUIET_SHARE of one CPU, or SETTLE_TIMEOUT_MS passed (at once off Linux). A load run leaves work
 * behind it (the controller-manager garbage-collecting what it created, etcd compacting): the next
 * window must not pay for it. Prints a note when `window` starts on a machine still busy.
 */
export async function settleBefore(window: string, print: (line: string) => void): Promise<void> {
  if (!existsSync('/proc/stat')) return;
  const t0 = performance.now();
  while (performance.now() - t0 < SETTLE_TIMEOUT_MS) {
    const before = machineBusyMs();
    await new Promise((r) => setTimeout(r, 500));
    if (machineBusyMs() - before < 500 * QUIET_SHARE) return;
  }
  print(`  (the machine was still busy ${SETTLE_TIMEOUT_MS / 1000} s after the last phase; ${window} started anyway)`);
}
