// Reads a C2PA asset with c2pa-ts and prints its validation result as one JSON line.
// c2pa-ts parses and hashes any BMFF file but only opens HEIF brands by default; the
// MP4/QuickTime brands are added so the same BMFF code validates our videos.
import * as fs from 'node:fs/promises';
import { BMFF, JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

for (const brand of ['isom', 'iso2', 'mp41', 'mp42', 'qt  ']) BMFF.canReadBrands.add(brand);
const buf = await fs.readFile(process.argv[2]);
const asset = BMFF.canRead(buf) ? new BMFF(buf) : JPEG.canRead(buf) ? new JPEG(buf) : new PNG(buf);
let result;
try {
  result = await ManifestStore.read(SuperBox.fromBuffer(asset.getManifestJUMBF())).validate(asset);
} catch (e) {
  result = ValidationResult.fromError(e);
}
const codes = result.statusEntries.map(e => e.code);
console.log(JSON.stringify({ valid: result.isValid, codes }));
