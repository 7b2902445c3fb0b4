/**
 * A test knob of the local stack, never set in Lambda: `KUBELEASE_CRASH_AFTER=<step>[#n]` kills
 * the broker process with SIGKILL right after the n-th (default: first) time that step completed,
 * before anything else runs — what a Lambda timeout, an out-of-memory kill or a lost host does
 * to an invocation. The reliability suite (test/reliability/crash.test.ts) runs the local stack
 * in a child process with it, then checks that a sweep leaves nothing orphaned or lost.
 *
 * Steps are port calls that returned, so they stay valid however the engine orders them:
 *
 *   lease.create          the lease item was written (once: active, final expiry; the first
 *                         create runs beside it)
 *   lease.revoking        a revoke or expiry marked the lease
 *   lease.delete          the lease item was deleted
 *   kube.create.<Kind>    an object was created: ServiceAccount, Secret (anchor), Role,
 *                         ClusterRole, RoleBinding, ClusterRoleBinding
 *   kube.token            the TokenRequest returned a token
 *   kube.delete.<Kind>    an object was deleted
 *
 * Before dying the process writes `kubelease: crash point <step> reached` to stderr, so a test
 * can tell a crash at the step from any other death.
 */
import { writeSync } from 'node:fs';
import type { EngineDeps } from '../engine/deps.js';
import type { KubeClientFactory, KubeCluster, LeaseStore } from '../ports.js';

export const CRASH_ENV = 'KUBELEASE_CRASH_AFTER';

export interface CrashSpec {
  step: string;
  /** 1-based occurrence */
  nth: number;
}

export function parseCrashSpec(value: string | undefined): CrashSpec | undefined {
  if (!value) return undefined;
  const m = /^([a-z]+(?:\.[A-Za-z]+)+)(?:#([1-9]\d*))?$/.exec(value.trim());
  if (!m) throw new Error(`${CRASH_ENV}: expected <step>[#n] (e.g. kube.create.Role#1), got "${value}"`);
  return { step: m[1]!, nth: Number(m[2] ?? 1) };
}

const sigkill = (step: string): never => {
  writeSync(2, `kubelease: crash point ${step} reached\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not end the process');
};

/** The deps unchanged without a spec; else with LeaseStore and KubeCluster wrapped to die at the step. */
/** `crash` (tests: a promise that never settles, a frozen process) defaults to SIGKILL. */
export function withCrashPoints(deps: EngineDeps, value: string | undefined, crash: (step: string) => void | Promise<never> = sigkill): EngineDeps {
  const spec = parseCrashSpec(value);
  if (!spec) return deps;
  const seen = new Map<string, number>();
  const reached = async (step: string) => {
    const n = (seen.get(step) ?? 0) + 1;
    seen.set(step, n);
    if (step === spec.step && n === spec.nth) await crash(step);
  };
  const after = async <T>(step: string | ((value: T) => string | undefined), call: Promise<T>): Promise<T> => {
    const value = await call;
    const name = typeof step === 'string' ? step : step(value);
    if (name) await reached(name);
    return value;
  };
  const leases: LeaseStore = Object.create(deps.leases) as LeaseStore;
  leases.create = (lease) => after('lease.create', deps.leases.create(lease));
  leases.delete = (id) => after((gone: boolean) => (gone ? 'lease.delete' : undefined), deps.leases.delete(id));
  leases.transition = (id, from, patch) =>
    after((ok: boolean) => (ok && patch.status === 'revoking' ? 'lease.revoking' : undefined), deps.leases.transition(id, from, patch));
  const wrap = (cluster: KubeCluster): KubeCluster => {
    const c: KubeCluster = Object.create(cluster) as KubeCluster;
    c.create = (obj, owner) => after(`kube.create.${obj.kind}`, cluster.create(obj, owner));
    c.requestToken = (s) => after('kube.token', cluster.requestToken(s));
    c.delete = (ref, guard, seen) => after((r: 'deleted' | 'absent') => (r === 'deleted' ? `kube.delete.${ref.kind}` : undefined), cluster.delete(ref, guard, seen));
    return c;
  };
  const kube: KubeClientFactory = { forCluster: async (config) => wrap(await deps.kube.forCluster(config)) };
  return { ...deps, leases, kube };
}
