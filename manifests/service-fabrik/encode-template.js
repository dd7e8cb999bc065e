#!/usr/bin/env node
'use strict';
// Writes the base64 of secure-postgres-manifest.yml.ejs into catalog.yml's
// plans[0].manager.settings.template (the field Service-Fabrik decodes), leaving the rest of
// the file as it is. With --check, changes nothing and exits 1 when the field and the template
// differ (the Node test runs it).
const fs = require('fs');
const path = require('path');

const here = __dirname;
const templatePath = path.join(here, 'secure-postgres-manifest.yml.ejs');
const catalogPath = path.join(here, 'catalog.yml');
const encoded = fs.readFileSync(templatePath).toString('base64');
const catalog = fs.readFileSync(catalogPath, 'utf8');
const field = /^(\s+template: )(\S*)$/m;
const match = catalog.match(field);
if (!match) {
  console.error(`encode-template: no 'template:' line in ${catalogPath}`);
  process.exit(2);
}
if (process.argv.includes('--check')) {
  if (match[2] !== encoded) {
    console.error('encode-template: catalog.yml settings.template is not the base64 of secure-postgres-manifest.yml.ejs; run: node manifests/service-fabrik/encode-template.js');
    process.exit(1);
  }
  console.log('encode-template: catalog.yml is in sync with the template');
  process.exit(0);
}
fs.writeFileSync(catalogPath, catalog.replace(field, `$1${encoded}`));
console.log(`encode-template: wrote ${encoded.length} base64 characters into ${path.relative(process.cwd(), catalogPath)}`);
