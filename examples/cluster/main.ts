// `npx projen synth:example` synthesizes this app offline with the cdk CLI.
import { createClusterExample } from './app';
import { exampleApp } from '../common';

const app = exampleApp();
createClusterExample(app);
app.synth();
