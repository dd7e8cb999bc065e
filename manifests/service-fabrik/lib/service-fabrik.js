'use strict';
// What Service-Fabrik does around a director plan's template, for rendering it outside the
// broker: the deployment name, the instance's block of static IPs per AZ subnet, the manifest
// header, the evaluation context, and lodash's _.template. Written after service-fabrik-broker
// (github.com/SAP/service-fabrik-broker at 25eeb8668f83eb7e0ac036df65ec8516603d50d2):
//   broker/core/provisioner-services/src/DirectorService.js  deploymentName, generateManifest
//   broker/core/utils/src/commonFunctions.js                  deploymentNameRegExp
//   broker/data-access-layer/bosh/src/manifest/Network.js     ManualNetwork: the static block
//   broker/data-access-layer/bosh/src/manifest/Networks.js    one network per AZ subnet
//   broker/data-access-layer/bosh/src/manifest/Header.js      the header (js-yaml dump)
//   broker/data-access-layer/bosh/src/EvaluationContext.js    spec, p(name, default)
// The broker uses js-yaml 3's safeDump/safeLoad; js-yaml 4's dump/load are the same safe schema.

const fs = require('fs');
const path = require('path');
const _ = require('lodash');
const yaml = require('js-yaml');

const PREFIX = 'service-fabrik';
const SEGMENT_LENGTH = 4;

function deploymentName(index, guid, subnet) {
  return `${PREFIX}${subnet ? `_${subnet}` : ''}-${_.padStart(String(index), SEGMENT_LENGTH, '0')}-${guid}`;
}

function ipToLong(ip) {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function longToIp(n) {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

// ManualNetwork: static = the subnet's addresses (offset + index) * size ... (offset + index + 1) * size - 1.
function manualNetwork(network, subnet, index, segmentation) {
  const [base, bits] = subnet.range.split('/');
  const network0 = ipToLong(base);
  const length = 2 ** (32 - Number(bits));
  const offset = segmentation.offset || 1;
  const size = segmentation.size || 2;
  const lower = (offset + index) * size;
  const upper = (offset + index + 1) * size - 1;
  const nth = (i) => longToIp(network0 + i);
  const reserved = [];
  if (lower > 2) reserved.push(`${nth(2)} - ${nth(lower - 1)}`);
  if (upper < length - 2) reserved.push(`${nth(upper + 1)} - ${nth(length - 2)}`);
  return {
    name: network.name,
    subnet_name: `${network.name}_${subnet.az}`,
    type: network.type,
    az: subnet.az,
    range: subnet.range,
    dns: subnet.dns,
    gateway: subnet.gateway || nth(1),
    static: _.range(lower, upper + 1).filter((i) => i <= length - 2).map(nth),
    reserved,
    cloud_properties: subnet.cloud_properties
  };
}

function networks(network, index, segmentation) {
  return network.subnets.map((subnet) => manualNetwork(network, subnet, index, segmentation));
}

class Header {
  constructor(header) {
    this.name = header.name;
    this.director_uuid = header.director_uuid;
    this.releases = header.releases || [];
    this.stemcells = header.stemcells;
    this.tags = header.tags;
  }

  toString() {
    return yaml.dump(this, { skipInvalid: true });
  }
}

class EvaluationContext {
  constructor(spec) {
    this.spec = spec;
  }

  get index() {
    return this.spec.index;
  }

  get properties() {
    return this.spec.properties;
  }

  p(name, defaultValue) {
    let value = this.properties;
    const keys = name.replace(/\[(\w+)\]/g, '.$1').replace(/^\./, '').split('.');
    for (const key of keys) {
      if (value !== null && typeof value === 'object' && key in value) {
        value = value[key];
      } else {
        return defaultValue;
      }
    }
    return value;
  }
}

// The plan of manifests/service-fabrik/catalog.yml, its template decoded from settings.template.
function loadPlan(catalogPath) {
  const catalog = yaml.load(fs.readFileSync(catalogPath, 'utf8'));
  const plan = catalog.plans[0];
  return { catalog, plan, template: Buffer.from(plan.manager.settings.template, 'base64').toString('utf8') };
}

// Renders a template as DirectorService.generateManifest does.
function render(template, { index, guid, plan, serviceNetwork, segmentation, parameters, previousManifest, directorUuid }) {
  const settings = plan.manager.settings;
  const header = new Header({
    name: deploymentName(index, guid),
    director_uuid: directorUuid || 'director-uuid',
    releases: _.map(settings.releases, (release) => _.pick(release, 'name', 'version')),
    stemcells: [settings.stemcell],
    tags: undefined
  });
  const context = new EvaluationContext({
    index,
    header,
    networks: networks(serviceNetwork, index, segmentation),
    parameters: parameters || {},
    properties: settings.context || {},
    previous_manifest: previousManifest,
    multi_az_enabled: false
  });
  return _.template(template)(context);
}

module.exports = { deploymentName, networks, Header, EvaluationContext, loadPlan, render, CATALOG: path.join(__dirname, '..', 'catalog.yml') };
