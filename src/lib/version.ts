// The program's version, as package.json says: in the API document, the system page and every backup's manifest.
export const VERSION = '0.1.0';
