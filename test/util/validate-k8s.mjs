// Validates Kubernetes objects against the kubernetes-models schemas (ESM only, hence a separate
// process: jest cannot import them). Reads a JSON array of objects on stdin, writes a JSON array of
// { index, apiVersion, kind, name, errors } to stdout; an object is valid when `errors` is empty.
//
// Schemas: kubernetes-models (built-in APIs) and the @kubernetes-models/* CRD packages installed
// here. Kinds with no published model are checked against the small structural schemas below,
// transcribed from their CRD's openAPIV3Schema. An object with no schema at all is an error.
import { readFileSync } from 'node:fs';

const CRD_PACKAGES = ['traefik', 'external-secrets', 'prometheus-operator', 'cert-manager', 'gateway-api'];

// kubernetes-csi/external-snapshotter client/config/crd/snapshot.storage.k8s.io_volumesnapshotclasses.yaml (v1)
const LOCAL_SCHEMAS = {
  'snapshot.storage.k8s.io/v1/VolumeSnapshotClass': {
    required: ['driver', 'deletionPolicy'],
    properties: {
      apiVersion: 'string', kind: 'string', metadata: 'object', driver: 'string',
      deletionPolicy: ['Delete', 'Retain'], parameters: 'stringMap',
    },
  },
};

function checkLocal(schema, obj) {
  const errors = [];
  for (const key of schema.required) if (obj[key] === undefined) errors.push(`missing required field ${key}`);
  for (const [key, value] of Object.entries(obj)) {
    const type = schema.properties[key];
    if (type === undefined) errors.push(`unknown field ${key}`);
    else if (Array.isArray(type)) { if (!type.includes(value)) errors.push(`${key} must be one of ${type.join(', ')}`); }
    else if (type === 'stringMap') {
      if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) errors.push(`${key} must map strings to strings`);
    } else if (type === 'object') { if (typeof value !== 'object' || value === null) errors.push(`${key} must be an object`); }
    else if (typeof value !== type) errors.push(`${key} must be a ${type}`);
  }
  return errors;
}

async function modelFor(apiVersion, kind) {
  const gv = apiVersion; // group/version, or just "v1" for the core group
  const candidates = [`kubernetes-models/${gv}`, ...CRD_PACKAGES.map((p) => `@kubernetes-models/${p}/${gv}`)];
  for (const spec of candidates) {
    try {
      const mod = await import(spec);
      if (typeof mod[kind] === 'function') return mod[kind];
    } catch {
      // not this package
    }
  }
  return undefined;
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const [index, obj] of objects.entries()) {
  const { apiVersion, kind } = obj ?? {};
  const name = obj?.metadata?.name;
  const result = { index, apiVersion, kind, name, errors: [] };
  results.push(result);
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') { result.errors.push('apiVersion and kind are required'); continue; }
  const local = LOCAL_SCHEMAS[`${apiVersion}/${kind}`];
  if (local) { result.errors.push(...checkLocal(local, obj)); continue; }
  const Model = await modelFor(apiVersion, kind);
  if (!Model) { result.errors.push(`no schema for ${apiVersion} ${kind}`); continue; }
  try {
    new Model(obj).validate();
  } catch (e) {
    result.errors.push(String(e.message ?? e));
  }
}
process.stdout.write(JSON.stringify(results));
