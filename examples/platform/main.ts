// `npx projen synth:example` synthesizes this app offline with the cdk CLI.
import { createPlatformExample } from './app';
import { exampleApp } from '../common';

const app = exampleApp();
createPlatformExample(app);
app.synth();
