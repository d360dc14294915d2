// Prints a short summary of a cloud assembly: stacks, resources per stack, template size and Helm charts.
// Usage: ts-node build-tools/summary.ts <cdk.out>
import * as fs from 'fs';
import * as path from 'path';

interface Artifact { type: string; properties?: { templateFile?: string }; displayName?: string }

function templatesOf(dir: string): Array<{ name: string; file: string }> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, Artifact> };
  const out: Array<{ name: string; file: string }> = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      out.push({ name: artifact.displayName ?? id, file: path.join(dir, artifact.properties.templateFile) });
    } else if (artifact.type === 'cdk:cloud-assembly') {
      const sub = (artifact.properties as { directoryName?: string } | undefined)?.directoryName;
      if (sub) out.push(...templatesOf(path.join(dir, sub)));
    }
  }
  // nested stacks live next to their parent
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.nested.template.json'))) {
    out.push({ name: `  nested ${f.replace('.nested.template.json', '')}`, file: path.join(dir, f) });
  }
  return out;
}

function main(): void {
  const dir = process.argv[2] ?? 'cdk.out';
  const rows = templatesOf(dir);
  if (rows.length === 0) throw new Error(`no stacks found in ${dir}`);
  console.log(`Synthesized ${rows.length} template(s) into ${dir}:`);
  for (const { name, file } of rows) {
    const text = fs.readFileSync(file, 'utf8');
    const resources = (JSON.parse(text) as { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> }).Resources ?? {};
    const all = Object.values(resources);
    const charts = all
      .filter((r) => r.Type === 'Custom::AWSCDK-EKS-HelmChart')
      .map((r) => `${String(r.Properties?.Chart)}@${String(r.Properties?.Version ?? '?')}`)
      .sort();
    const manifests = all.filter((r) => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource').length;
    console.log(`- ${name}: ${all.length} resources, ${(text.length / 1024).toFixed(0)} KiB template, ${manifests} Kubernetes manifest resource(s)`);
    if (charts.length > 0) console.log(`    Helm charts: ${charts.join(', ')}`);
  }
}

main();
