#!/usr/bin/env node
// Entry of the `continuum` CLI. The sources are TypeScript run directly by Node 24's type stripping.
import '../cli/main.ts';
