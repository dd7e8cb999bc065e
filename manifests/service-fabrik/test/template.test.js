'use strict';
// The Service-Fabrik template rendered the way the broker renders it (lib/service-fabrik.js),
// from the plan in catalog.yml: the catalog's base64 is the template; three instances get
// three names and disjoint blocks of IPs, each a manifest that passes the manifest checks
// (spec/support/check_manifest.rb, the same checks as spec/manifests/); segment 0 is exactly
// manifests/secure-postgres.yml; an update keeps what the instance was created with; a bad
// context fails with a message that names what is wrong.
//
//   cd manifests/service-fabrik && npm ci && npm test

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const yaml = require('js-yaml');
const sf = require('../lib/service-fabrik');

const here = path.join(__dirname, '..');
const releaseDir = path.join(here, '..', '..');
const cloudConfigPath = path.join(releaseDir, 'manifests', 'cloud-config.yml');
// The broker's infrastructure settings describe the service network as the cloud config does,
// one subnet per AZ, each with `az` (singular, as broker/config/settings.yml writes it).
const cloudService = yaml.load(fs.readFileSync(cloudConfigPath, 'utf8')).networks.find((n) => n.name === 'service');
const serviceNetwork = { ...cloudService, subnets: cloudService.subnets.map(({ azs, ...subnet }) => ({ ...subnet, az: azs[0] })) };
// The broker's infrastructure settings: 8 static IPs per AZ and instance, after one block.
const segmentation = { offset: 1, size: 8 };
const { plan, template } = sf.loadPlan(sf.CATALOG);
const guids = ['0c5b2f8e-3f3a-4a8e-9c1d-0a1b2c3d4e01', '7d1e9a44-52b6-4f0c-8e21-9b8c7d6e5f02', 'a9e3c5d7-11f2-4b6a-bc3d-4e5f6a7b8c03'];

function render(overrides = {}) {
  return sf.render(template, { index: 0, guid: guids[0], plan, serviceNetwork, segmentation, ...overrides });
}

function check(manifestText) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-manifest-'));
  try {
    const file = path.join(dir, 'manifest.yml');
    fs.writeFileSync(file, manifestText);
    return spawnSync('ruby', [path.join(releaseDir, 'spec/support/check_manifest.rb'), file, cloudConfigPath], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function staticIps(manifest) {
  return manifest.instance_groups.flatMap((group) => group.networks[0].static_ips);
}

function vipOf(manifest) {
  const pgpool = manifest.instance_groups.find((g) => g.name === 'pgpool').jobs.find((j) => j.name === 'pgpool');
  return pgpool.properties.pgpool.vip;
}

test('catalog.yml holds the base64 of the template (encode-template.js --check)', () => {
  const result = spawnSync('node', [path.join(here, 'encode-template.js'), '--check'], { encoding: 'utf8' });
  assert.strictEqual(result.status, 0, result.stderr);
  assert.strictEqual(template, fs.readFileSync(path.join(here, 'secure-postgres-manifest.yml.ejs'), 'utf8'));
});

test('three instances: three Service-Fabrik names, disjoint IP blocks, each deployable', () => {
  const manifests = guids.map((guid, i) => yaml.load(render({ index: 5 + i, guid })));
  const names = manifests.map((m) => m.name);
  assert.deepStrictEqual(names, [`service-fabrik-0005-${guids[0]}`, `service-fabrik-0006-${guids[1]}`, `service-fabrik-0007-${guids[2]}`]);
  const blocks = manifests.map((m) => [...staticIps(m), vipOf(m)]);
  const all = blocks.flat();
  assert.strictEqual(new Set(all).size, all.length, `IP blocks overlap: ${JSON.stringify(blocks)}`);
  blocks.forEach((ips, i) => {
    const segment = sf.networks(serviceNetwork, 5 + i, segmentation)[0].static;
    ips.forEach((ip) => assert.ok(segment.includes(ip), `${names[i]}: ${ip} is outside its block ${segment[0]}-${segment[7]}`));
  });
  guids.forEach((guid, i) => {
    const result = check(render({ index: 5 + i, guid }));
    assert.strictEqual(result.status, 0, `${names[i]}:\n${result.stdout}${result.stderr}`);
  });
});

test('multi-AZ plan: one pgpool per AZ, master and standby apart, no VIP, deployable', () => {
  const multiPlan = JSON.parse(JSON.stringify(plan));
  multiPlan.manager.settings.context.multi_az = true;
  const text = render({ index: 3, plan: multiPlan });
  const manifest = yaml.load(text);
  const azs = Object.fromEntries(manifest.instance_groups.map((g) => [g.name, g.azs]));
  assert.deepStrictEqual(azs, { 'pg-master': ['z1'], 'pg-standby': ['z2'], pgpool: ['z1', 'z2', 'z3'] });
  assert.strictEqual(vipOf(manifest), undefined);
  const result = check(text);
  assert.strictEqual(result.status, 0, result.stdout + result.stderr);
});

test('segment 0 renders manifests/secure-postgres.yml, apart from the name and header', () => {
  const rendered = yaml.load(render());
  const base = yaml.load(fs.readFileSync(path.join(releaseDir, 'manifests/secure-postgres.yml'), 'utf8'));
  for (const key of ['update', 'instance_groups', 'variables', 'releases', 'stemcells']) {
    assert.deepStrictEqual(rendered[key], base[key], `${key} differs from manifests/secure-postgres.yml`);
  }
});

test('an update keeps the secrets (same CredHub variables) and what the instance was created with', () => {
  const created = yaml.load(render({ parameters: { replication: 'asynchronous', tls_min_version: 'TLSv1.3' } }));
  const updated = yaml.load(render({ parameters: {}, previousManifest: created }));
  assert.deepStrictEqual(updated.variables, created.variables);
  const master = (m) => m.instance_groups[0].jobs.find((j) => j.name === 'pg-master').properties.postgres;
  assert.strictEqual(master(updated).synchronous_commit, false);
  assert.strictEqual(master(updated).ssl_min_protocol_version, 'TLSv1.3');
  const secretsOf = (m) => JSON.stringify(m.instance_groups).match(/\(\([a-z_.]+\)\)/g);
  assert.deepStrictEqual(secretsOf(updated), secretsOf(created));
  const changed = yaml.load(render({ parameters: { replication: 'synchronous' }, previousManifest: created }));
  assert.strictEqual(master(changed).synchronous_commit, true);
});

test('a bad context fails with a clear message', () => {
  const tooSmall = { offset: 1, size: 4 };
  assert.throws(() => render({ segmentation: tooSmall }), /instance block of AZ z1 has 4 static IPs; 6 needed/);
  const noControl = JSON.parse(JSON.stringify(plan));
  delete noControl.manager.settings.context.control;
  assert.throws(() => render({ plan: noControl }), /plan settings.context lacks control.cidrs/);
  assert.throws(() => render({ parameters: { replication: 'eventually' } }), /parameter replication must be synchronous or asynchronous/);
  assert.throws(() => render({ parameters: { replicas: 3 } }), /unknown parameter "replicas"/);
  assert.throws(() => render({ guid: 'not-a-guid' }), /is not service-fabrik\[_subnet\]-NNNN-<instance guid>/);
});

test('the manifest checks reject a broken rendering (the check can fail)', () => {
  const broken = render().replace('tcp_ports: [22,8853]', 'tcp_ports: [22,8853]\n          unknown_key: 1');
  assert.notStrictEqual(broken, render(), 'the mutation did not apply');
  const result = check(broken);
  assert.strictEqual(result.status, 1);
  assert.match(result.stdout, /property 'isolation.control.unknown_key' is not in the job spec/);
});

test('the template parses as YAML with lodash default delimiters only', () => {
  assert.doesNotMatch(template, /\$\{/, 'lodash would interpolate an ES template delimiter');
  execFileSync('node', ['-e', 'require("js-yaml").load(process.argv[1])', render()], { cwd: here });
});
