// The package against the system the AppHost starts (Tests/Clients/JavaScriptClientTests.cs runs it), one
// process so that the last test sees every span the suite made. The replica kill comes after the tests that need
// every replica.
import { after } from 'node:test';
import { shutdown } from './tracing.js';
import './contract.js';
import './trace-context.js';
import './replica-failure.js';
import './catalogue.js';

after(shutdown);
