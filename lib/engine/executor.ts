/**
 * The one place that turns a plan into Kubernetes objects and back. Owners (the generated
 * ServiceAccount or the anchor Secret) go first because ownerReferences and bound tokens need
 * their uid; everything else is created in parallel. Deletion runs in deletionOrder groups.
 */
import { deletionOrder, type ObjectRef, type Plan, type PlanObject } from '../domain/plan.js';
import type { DeleteGuard, KubeCluster, SeenObject } from '../ports.js';

const isOwner = (o: PlanObject) => o.kind === 'ServiceAccount' || o.kind === 'Secret';

interface CreatedPlan {
  serviceAccountUid?: string;
  anchorSecret?: { name: string; uid: string };
}

export class PlanExecutionError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly created: PlanObject[],
  ) {
    super('plan execution failed', { cause });
  }
}

export async function createPlanObjects(kube: KubeCluster, plan: Plan): Promise<CreatedPlan> {
  const created: PlanObject[] = [];
  const result: CreatedPlan = {};
  const createAll = async (objects: PlanObject[]) => {
    const outcomes = await Promise.allSettled(
      objects.map(async (o) => {
        const owner =
          o.ownedByServiceAccount && result.serviceAccountUid
            ? { name: plan.token.serviceAccount.name, uid: result.serviceAccountUid }
            : undefined;
        const { uid } = await kube.create(o, owner);
        created.push(o);
        if (o.kind === 'ServiceAccount') result.serviceAccountUid = uid;
        if (o.kind === 'Secret') result.anchorSecret = { name: o.name, uid };
      }),
    );
    const failed = outcomes.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new PlanExecutionError(failed.reason, created);
  };
  await createAll(plan.objects.filter(isOwner));
  await createAll(plan.objects.filter((o) => !isOwner(o)));
  return result;
}

/** what a listing saw of an object (the sweeper's), so that its delete needs no read of its own */
export type SeenLookup = (ref: ObjectRef) => SeenObject | undefined;

/**
 * Deletes objects in dependency order, each only if it still carries the guard's lease label (and
 * is exactly the object read, or `seen`: uid precondition); 404 counts as done. Returns what was deleted.
 */
export async function deletePlanObjects(kube: KubeCluster, objects: readonly ObjectRef[], guard: DeleteGuard, seen?: SeenLookup): Promise<ObjectRef[]> {
  const deleted: ObjectRef[] = [];
  const errors: unknown[] = [];
  for (const group of deletionOrder(objects)) {
    const outcomes = await Promise.allSettled(group.map((ref) => kube.delete(ref, guard, seen?.(ref))));
    outcomes.forEach((r, i) => {
      if (r.status === 'rejected') errors.push(r.reason);
      else if (r.value === 'deleted') deleted.push(group[i] as ObjectRef);
    });
  }
  if (errors.length > 0) throw errors[0];
  return deleted;
}
