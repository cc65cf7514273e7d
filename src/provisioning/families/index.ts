// Every phone family's generator, by family name. A family plugs in with one
// line here; the provisioning server, the CLI and the API find it through
// `generatorFor`.
import type { DeviceFamily } from '../../model/device.ts';
import type { FamilyGenerator } from '../types.ts';
import { avaya11xx } from './avaya-11xx.ts';
import { avaya46xx } from './avaya-46xx.ts';
import { avayaB179 } from './avaya-b179.ts';
import { avayaE129 } from './avaya-e129.ts';
import { gigasetDect } from './gigaset-dect.ts';
import { snomDect } from './snom-dect.ts';
import { spectralink84 } from './spectralink-84.ts';
import { yealinkDect } from './yealink-dect.ts';

const GENERATORS: readonly FamilyGenerator[] = [
  avaya46xx,
  avaya11xx,
  avayaB179,
  avayaE129,
  spectralink84,
  yealinkDect,
  gigasetDect,
  snomDect,
];

const BY_FAMILY = new Map<DeviceFamily, FamilyGenerator>(GENERATORS.map((g) => [g.family, g]));

/** The generator of a family, or undefined while that family has none. */
export function generatorFor(family: DeviceFamily): FamilyGenerator | undefined {
  return BY_FAMILY.get(family);
}

export function allGenerators(): readonly FamilyGenerator[] {
  return GENERATORS;
}
