/**
 * Ops between the wire (`OTRuneTransformOp` lists; crosis's protobuf calls them `op` of
 * `OTOpComponent`) and ot-text-unicode's form: `skip n` ↔ n, `insert s` ↔ "s", `delete n` ↔ {d: n}.
 */

import type { api } from '@replit/protocol';
import type { TextOp } from 'ot-text-unicode';

export function fromWire(components: api.IOTOpComponent[] | null | undefined): TextOp {
  const op: TextOp = [];
  for (const component of components ?? []) {
    if (component.insert) op.push(component.insert);
    else if (component.skip) op.push(component.skip);
    else if (component.delete) op.push({ d: component.delete });
  }
  return op;
}

export function toWire(op: TextOp): api.IOTOpComponent[] {
  return op.map((component) => {
    if (typeof component === 'number') return { skip: component };
    if (typeof component === 'string') return { insert: component };
    const d = component.d;
    return { delete: typeof d === 'number' ? d : [...d].length };
  });
}

export function sameOp(a: TextOp, b: TextOp): boolean {
  if (a.length !== b.length) return false;
  return a.every((component, i) => {
    const other = b[i];
    if (typeof component === 'object' && typeof other === 'object') return component.d === other.d;
    return component === other;
  });
}
