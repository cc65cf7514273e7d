// Refusals of the Spectralink 84-Series generator: SPEC C-13 (Lync
// parameters only for Lync-enabled handsets, §5.7.1, §3.7, Appendix A #28)
// and C-14 (Lync and another server both carrying telephony).
import { ProvisioningRefusal } from '../types.ts';

/** §5.7.1 Lync-enabled product IDs by model. */
export const LYNC_PRODUCT_IDS: Readonly<Record<string, readonly string[]>> = {
  8440: ['2200-36149-001', '2200-36150-001', '2200-37174-101', '2200-37175-101'],
  8441: ['2200-37290-001', '2200-37290-101'],
  8450: ['2200-37152-001', '2200-37153-001', '2200-37176-101', '2200-37177-101'],
  8452: ['2200-37172-001', '2200-37173-001', '2200-37198-101', '2200-37199-101'],
  8453: ['2200-37294-001', '2200-37294-101'],
};

/** Appendix A #28: named in the prose (a unit bought in May 2012), model not given. */
const PRE_2013_PRODUCT_ID = '2200-37149-001';

export interface HandsetFacts {
  model: string | null;
  productId: string | undefined;
  builtBeforeJune2013: boolean;
}

/**
 * C-13: Lync parameters go only to a handset that is Lync-enabled: built
 * before June 2013, or labelled with a §5.7.1 product ID (of its own model
 * when the model is known). A handset cannot be switched in the field, so
 * there is nothing to generate for another one.
 */
export function checkLyncCapable(h: HandsetFacts): void {
  if (h.builtBeforeJune2013) return;
  const id = h.productId?.trim();
  if (id === undefined || id === '') {
    throw new ProvisioningRefusal('Lync parameters need a Lync-enabled handset (SPEC C-13): set the option productId to the product ID on the handset label, or builtBeforeJune2013 to true');
  }
  if (id === PRE_2013_PRODUCT_ID) return;
  const owner = Object.keys(LYNC_PRODUCT_IDS).find((m) => LYNC_PRODUCT_IDS[m]!.includes(id));
  if (owner === undefined) {
    throw new ProvisioningRefusal(`product ID ${id} is not a Lync-enabled 84-Series handset (SPEC C-13, §5.7.1) and cannot be made one in the field: use Switchboard as the only call server (telephony "switchboard", lyncIm false)`);
  }
  if (h.model !== null && h.model !== '' && h.model !== owner) {
    throw new ProvisioningRefusal(`product ID ${id} is a Lync-enabled ${owner}, but the device is recorded as a ${h.model}: correct the model or the product ID`);
  }
}

/** C-14: scenario 4 (Lync and another server both the telephony server of one handset) is not supported. */
export function checkTelephonyMix(telephony: string): void {
  if (telephony === 'switchboard-and-lync') {
    throw new ProvisioningRefusal('a handset cannot have both a Lync registrar and Switchboard as its telephony server (SPEC C-14, scenario 4): choose telephony "switchboard" (optionally with lyncIm for IM and presence) or telephony "lync"');
  }
}
