// Synthesize with: npx cdk synth --app "npx ts-node --transpile-only --project examples/tsconfig.json examples/dev/main.ts"
import { createDevExample } from './app';
import { exampleApp } from '../common';

const app = exampleApp();
createDevExample(app);
app.synth();
