// Every phone family's generator, by family name. A family plugs in with one
// line here; the provisioning server, the CLI and the API find it through
// `generatorFor`.
import type { DeviceFamily } from '../../model/device.ts';
import type { FamilyGenerator } from '../types.ts';
import { avaya46xx } from './avaya-46xx.ts';
import { avayaB179 } from './avaya-b179.ts';

const GENERATORS: readonly FamilyGenerator[] = [
  avaya46xx,
  avayaB179,
];

const BY_FAMILY = new Map<DeviceFamily, FamilyGenerator>(GENERATORS.map((g) => [g.family, g]));

/** The generator of a family, or undefined while that family has none. */
export function generatorFor(family: DeviceFamily): FamilyGenerator | undefined {
  return BY_FAMILY.get(family);
}

export function allGenerators(): readonly FamilyGenerator[] {
  return GENERATORS;
}
