import { goldenScenarios } from './run-scenarios.js';

goldenScenarios('SQLite');
