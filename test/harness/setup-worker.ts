// Runs in every test worker before its tests.
import { quietKnownWarnings } from '../../core/process-warnings.ts';

quietKnownWarnings();
