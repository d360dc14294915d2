// Validates Kubernetes objects against the kubernetes-models schemas (ESM only, hence a separate
// process: jest cannot import them). Reads a JSON array of objects on stdin, writes a JSON array of
// { index, apiVersion, kind, name, errors } to stdout; an object is valid when `errors` is empty.
//
// Schemas: kubernetes-models (built-in APIs) and the @kubernetes-models/* CRD packages installed
// here. Custom resources are ALSO checked against the openAPIV3Schema of the CRD of the pinned chart
// (../shared/charts/*/*/crds.json), with structural-schema semantics, because the models accept
// unknown fields (a typo such as `replicaz` passes them). Kinds with neither a model nor a CRD are
// checked against the small structural schemas below. An object with no schema at all is an error.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHARED_CHARTS = join(dirname(realpathSync(fileURLToPath(import.meta.url))), '..', '..', '..', 'shared', 'charts');

/** group/version/kind -> openAPIV3Schema, from every stored chart version's crds.json. */
function loadCrdSchemas() {
  const schemas = new Map();
  if (!existsSync(SHARED_CHARTS)) {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`chart data missing under CI: ${SHARED_CHARTS}`);
    return schemas;
  }
  for (const chart of readdirSync(SHARED_CHARTS)) {
    const dir = join(SHARED_CHARTS, chart);
    if (!existsSync(dir) || chart.endsWith('.md')) continue;
    for (const version of readdirSync(dir)) {
      const file = join(dir, version, 'crds.json');
      if (!existsSync(file)) continue;
      for (const crd of JSON.parse(readFileSync(file, 'utf8'))) {
        for (const v of crd.versions ?? []) {
          const schema = v.schema?.openAPIV3Schema ?? v.schema;
          if (v.served && schema) schemas.set(`${crd.group}/${v.name}/${crd.kind}`, { schema, source: `${chart} ${version}` });
        }
      }
    }
  }
  return schemas;
}

const TYPE_OK = {
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
};

/** Kubernetes structural-schema validation: types, required, enums, unknown fields, items (not patterns or CEL). */
function checkSchema(schema, value, path, errors) {
  if (value === null && schema.nullable) return;
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) errors.push(`${path} must be an integer or a string`);
    return;
  }
  if (schema.type && TYPE_OK[schema.type] && !TYPE_OK[schema.type](value)) {
    errors.push(`${path} must be ${schema.type}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path} must be one of ${schema.enum.join(', ')}`);
  if (TYPE_OK.object(value) && (schema.type === 'object' || schema.properties)) {
    for (const key of schema.required ?? []) if (value[key] === undefined) errors.push(`${path}.${key} is required`);
    const props = schema.properties;
    for (const [key, child] of Object.entries(value)) {
      if (props && props[key]) checkSchema(props[key], child, `${path}.${key}`, errors);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') checkSchema(schema.additionalProperties, child, `${path}.${key}`, errors);
      else if (props && !schema.additionalProperties && !schema['x-kubernetes-preserve-unknown-fields']) errors.push(`${path}.${key} is not a field of the CRD schema`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => checkSchema(schema.items, item, `${path}[${i}]`, errors));
}

const CRD_SCHEMAS = loadCrdSchemas();

function checkCrd(obj) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const entry = CRD_SCHEMAS.get(`${group}/${version}/${obj.kind}`);
  if (!entry) return undefined;
  const errors = [];
  const { apiVersion: _a, kind: _k, metadata: _m, ...body } = obj;
  const { apiVersion: _sa, kind: _sk, metadata: _sm, ...props } = entry.schema.properties ?? {};
  const required = (entry.schema.required ?? []).filter((k) => !['apiVersion', 'kind', 'metadata'].includes(k));
  checkSchema({ ...entry.schema, properties: props, required }, body, 'data', errors);
  return errors.map((e) => `${e} (CRD of ${entry.source})`);
}

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
  const crdErrors = checkCrd(obj);
  if (crdErrors) result.errors.push(...crdErrors);
  const Model = await modelFor(apiVersion, kind);
  if (!Model) {
    if (!crdErrors) result.errors.push(`no schema for ${apiVersion} ${kind}`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    result.errors.push(String(e.message ?? e));
  }
}
process.stdout.write(JSON.stringify(results));
